"""RabbitMQ topology and the notification message format shared by publisher and bridge,
and the Telegram Bot API client (`telegram`) used by the bridge and the ops alerts."""
