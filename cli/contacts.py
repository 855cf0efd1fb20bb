"""`contacts`: who to call at each support level, from settings (the runbook points here).

Contacts are deployment facts (a bank's own teams), so they live in the environment,
not in the runbook: `SUPPORT_L1_CONTACT`, `SUPPORT_L2_CONTACT`, `SUPPORT_L3_CONTACT`.
"""

from __future__ import annotations

import argparse

from cli.output import EXIT_FAILED, EXIT_OK, echo, warn
from settings import Settings

LEVELS = (
    ("1", "Operaciones", "support_l1_contact", "SUPPORT_L1_CONTACT"),
    ("2", "DevOps", "support_l2_contact", "SUPPORT_L2_CONTACT"),
    ("3", "Desarrollo", "support_l3_contact", "SUPPORT_L3_CONTACT"),
)


async def contacts(settings: Settings, args: argparse.Namespace) -> int:
    """Print each level's contact; exit 1 when one is missing, so a deploy check notices."""
    missing = []
    for level, team, field, variable in LEVELS:
        value = str(getattr(settings, field)).strip()
        echo(f"Nivel {level} - {team}: {value or f'sin configurar ({variable})'}")
        if not value:
            missing.append(variable)
    if missing:
        warn(f"contacts: set {', '.join(missing)}")
        return EXIT_FAILED
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("contacts", help="support contacts per level (SUPPORT_L*_CONTACT settings)")
