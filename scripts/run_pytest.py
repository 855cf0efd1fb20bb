"""`python -m pytest`, exiting with pytest's own exit code, whatever happens after.

A process that used the Temporal SDK may abort while the interpreter shuts down
(sdk-python issue 300), turning a green run into exit code 134. Like the SDK's
own test suite we end with `os._exit(code)` once pytest is done, after
flushing output and killing any child process group a fixture left behind.

Usage: python scripts/run_pytest.py [pytest args...]   (what `make test` runs)
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    # Same import path as `python -m pytest`: the working directory first.
    sys.path[0] = os.getcwd()
    import pytest

    code = int(pytest.main(sys.argv[1:]))
    supervisor = sys.modules.get("devstack.supervisor")
    if supervisor is not None:
        supervisor.kill_leftover_groups()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
