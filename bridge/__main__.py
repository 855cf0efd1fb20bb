"""`python -m bridge`: run the RabbitMQ-to-Telegram bridge until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

import httpx

from bridge.limiter import GlobalLimiter, SendLimiter
from bridge.service import Bridge
from db.engine import make_engine
from messaging.telegram import TelegramClient
from observability.logs import setup_logging
from observability.metrics_server import serve_metrics
from settings import get_settings
from workflows.client import connect_temporal

log = logging.getLogger("ticketero.bridge")
#: settings.telegram_send_rate's variable (tests lower it to see the urgent-first order).
SEND_RATE_ENV = "TELEGRAM_SEND_RATE"


async def main() -> None:
    settings = get_settings()
    setup_logging(
        "bridge",
        settings.log_level,
        settings.log_format,
        settings.log_dir if settings.log_to_file else None,
    )
    serve_metrics(settings.bridge_metrics_port, "bridge")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    engine = make_engine(settings, pool_size=5)
    timeout = httpx.Timeout(settings.telegram_timeout_seconds, connect=5.0)
    try:
        temporal = await connect_temporal(settings)
        async with httpx.AsyncClient(timeout=timeout) as http:
            bridge = Bridge(
                settings=settings,
                engine=engine,
                telegram=TelegramClient(settings.telegram_base, settings.telegram_token, http),
                temporal=temporal,
                limiter=SendLimiter(GlobalLimiter(settings.telegram_send_rate)),
            )
            starting = asyncio.create_task(bridge.start())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if starting.done():
                starting.result()  # a failed start ends the process with its error
                log.info(
                    "bridge delivering to %s",
                    "sandbox" if settings.sandbox_mode else "api.telegram.org",
                )
                await stopped
            else:
                starting.cancel()
            log.info("bridge stopping: finishing in-flight messages")
            await bridge.stop()
            log.info("bridge stopped")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
