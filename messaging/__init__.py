"""RabbitMQ topology and the notification message format shared by publisher and bridge."""
