"""Fixtures for the devstack tests: real PostgreSQL/RabbitMQ, real processes."""

from __future__ import annotations

import socket
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) without an install
    sys.path.insert(0, str(REPO_ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CHILD = textwrap.dedent(
    '''
    """Test child; modes: web | listen [ignore-term] | parent | fail | flaky (see the branches)."""
    import http.server, os, signal, socket, subprocess, sys

    mode = sys.argv[1]

    def serve_forever(port):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(16)
        while True:
            conn, _ = sock.accept()
            conn.close()

    if mode == "web":
        def on_term(signum, frame):
            print("got SIGTERM", flush=True)
            sys.exit(3)
        signal.signal(signal.SIGTERM, on_term)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")
                self.wfile.flush()
                if self.path == "/quit":
                    print("quitting", flush=True)
                    os._exit(7)

        print("hello from web", flush=True)
        print("warming up on stderr", file=sys.stderr, flush=True)
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
    elif mode == "listen":
        port, name, order_file = int(sys.argv[2]), sys.argv[3], sys.argv[4]
        if sys.argv[5:] == ["ignore-term"]:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        else:
            def on_term(signum, frame):
                with open(order_file, "a") as fh:
                    fh.write(name + "\\n")
                sys.exit(0)
            signal.signal(signal.SIGTERM, on_term)
        serve_forever(port)
    elif mode == "parent":
        grandchild = subprocess.Popen(["sleep", "300"])
        with open(sys.argv[3], "w") as fh:
            fh.write(str(grandchild.pid))
        serve_forever(int(sys.argv[2]))
    elif mode == "flaky":
        # Serves on its port, unless the marker file exists: then it crashes at once.
        if os.path.exists(sys.argv[3]):
            print("crashing on purpose", flush=True)
            sys.exit(5)
        print("serving", flush=True)
        serve_forever(int(sys.argv[2]))
    elif mode == "fail":
        print("boom: missing configuration", flush=True)
        sys.exit(2)
    '''
)


@pytest.fixture
def child_script(tmp_path: Path) -> list[str]:
    """argv prefix running the test child with our interpreter."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return [sys.executable, "-u", str(script)]


@pytest.fixture
def get_port():
    """Callable returning a currently free TCP port on 127.0.0.1."""
    return free_port
