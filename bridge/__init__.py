"""RabbitMQ-to-Telegram bridge: consumes notifications and calls the Bot API over HTTP.

Modules: `service` (process wiring and shutdown), `notifications` (one broker
message → at most one delivery, recorded and reported), `delivery` (inline
retries), `limiter` (Telegram's flood limits), `polling` / `webhook` (how
updates arrive), `leader` (which bridge polls), `updates` and `commands` (the bot's conversation),
`confirmations` (pending /cancelar). The Bot API client and its answer
classification are `messaging.telegram` (shared with the operations alerts).
"""

import sys

# httpx imports its command-line client (click, rich, pygments: about 6 MB of RSS and
# 25 ms per process) whenever those are installed; no bridge code runs it. A None entry
# makes that optional import fail, and httpx falls back to a stub `main`.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
