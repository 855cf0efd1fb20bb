"""The API under `make run`: uvicorn on a listening socket the supervisor holds.

`make run` binds the API port once and passes the socket down (`--fd`), so a
deploy starts the new API on the same socket before the old one stops: the
kernel queues connections on the one socket whichever process accepts them,
and none is refused during the switch. Prints `READY_LINE` once it accepts
requests, which is what the supervisor waits for (an HTTP probe of the shared
port could be answered by the old process). Its command line keeps the words
`uvicorn api.main:app`, so the runbook's `pgrep -f 'uvicorn api.main:app'` finds it.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Sequence

import uvicorn

READY_LINE = "devstack-api: accepting requests"


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:  # the app's lifespan startup succeeded
            print(READY_LINE, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.api_server")
    parser.add_argument("--fd", type=int, required=True, help="an inherited listening socket")
    parser.add_argument("server", choices=["uvicorn"], help="the ASGI server (only uvicorn)")
    parser.add_argument("app", help="the ASGI app, e.g. api.main:app")
    args = parser.parse_args(argv)
    sock = socket.socket(fileno=args.fd)  # family and type read from the descriptor
    # X-Forwarded-For is believed only from TRUSTED_PROXIES, by the app itself.
    # uvloop and httptools named (not "auto"), as in devstack.stack's API command.
    config = uvicorn.Config(
        args.app, server_header=False, proxy_headers=False, loop="uvloop", http="httptools"
    )
    _Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
