"""`python -m devstack {ensure,run}`."""

from devstack.cli import main

raise SystemExit(main())
