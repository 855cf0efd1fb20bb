"""RabbitMQ-to-Telegram bridge: consumes notifications and calls the Bot API over HTTP."""
