"""`python -m telegram_sandbox [--host H] [--port P]`: serve the sandbox with uvicorn."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from settings import get_settings
from telegram_sandbox.app import create_app


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m telegram_sandbox", description="Telegram Bot API sandbox for Ticketero."
    )
    parser.add_argument("--host", default=settings.sandbox_host)
    parser.add_argument("--port", type=int, default=settings.sandbox_port)
    args = parser.parse_args(argv)
    app = create_app(
        settings.telegram_token,
        settings.telegram_bot_username,
        time_zone=settings.default_time_zone,
    )
    print(f"Telegram sandbox on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=2
    )


if __name__ == "__main__":
    main()
