"""`python -m bridge`: run the RabbitMQ-to-Telegram bridge until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

import httpx

from bridge.service import Bridge
from bridge.telegram import TelegramClient
from db.engine import make_engine
from observability.logs import setup_logging
from settings import get_settings
from workflows.client import connect_temporal

log = logging.getLogger("ticketero.bridge")


async def main() -> None:
    settings = get_settings()
    setup_logging("bridge", settings.log_level, settings.log_format)
    engine = make_engine(settings, pool_size=5)
    temporal = await connect_temporal(settings)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as http:
        bridge = Bridge(
            rabbitmq_url=settings.rabbitmq_url.get_secret_value(),
            exchange=settings.rabbitmq_exchange,
            engine=engine,
            telegram=TelegramClient(settings.telegram_base, settings.telegram_token, http),
            temporal=temporal,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await bridge.start()
        log.info(
            "bridge delivering to %s", "sandbox" if settings.sandbox_mode else "api.telegram.org"
        )
        await stop.wait()
        log.info("bridge stopping: finishing in-flight messages")
        await bridge.stop()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
