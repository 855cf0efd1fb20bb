"""`release` and `releases`: build a release wheel of this tree; list the built ones."""

from __future__ import annotations

import argparse
import asyncio

from cli.common import CliError
from cli.output import EXIT_OK, echo, print_json
from ops import releases
from settings import Settings


async def build(settings: Settings, args: argparse.Namespace) -> int:
    out = releases.releases_dir(settings.var_dir)
    try:
        version = args.version or releases.git_version()
        release = await asyncio.to_thread(releases.build, out, version)
    except releases.ReleaseError as err:
        raise CliError(str(err), 2 if str(err).startswith("version:") else 1) from err
    echo(f"built {release.wheel}")
    echo(f"  version {release.version}  sha256 {release.sha256}")
    echo(f"  deploy it with: ticketero deploy {release.version}")
    return EXIT_OK


async def listing(settings: Settings, args: argparse.Namespace) -> int:
    directory = releases.releases_dir(settings.var_dir)
    found = releases.list_releases(directory)
    if args.json:
        print_json(
            [
                {
                    "version": r.version,
                    "wheel": str(r.wheel),
                    "sha256": r.sha256,
                    "built_at": r.built_at.isoformat(),
                    "installed": releases.venv_python(directory, r.version).is_file(),
                }
                for r in found
            ]
        )
        return EXIT_OK
    if not found:
        echo(f"no releases in {directory} (make release VERSION=x.y.z builds one)")
    for r in found:
        installed = releases.venv_python(directory, r.version).is_file()
        echo(
            f"{r.version:<20} {r.built_at:%Y-%m-%d %H:%M} UTC  sha256 {r.sha256[:16]}…"
            f"{'  installed' if installed else ''}  {r.wheel.name}"
        )
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("release", help="build a release wheel of this tree into var/releases/")
    p.add_argument("--version", help="e.g. 1.4.0 (default: from git)")
    p = sub.add_parser("releases", help="the release wheels built, newest first")
    p.add_argument("--json", action="store_true")
