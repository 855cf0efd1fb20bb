"""Make the repository root importable for the unit tests.

The project is not installed into the virtualenv and pytest only puts the test
folders on `sys.path`, so `import domain` needs the root added explicitly.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
