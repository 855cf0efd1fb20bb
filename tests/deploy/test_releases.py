"""`ticketero release` / `make release` and `ticketero releases`, run for real."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from ops import releases
from tests.support.stack import REPO

TICKETERO = REPO / ".venv" / "bin" / "ticketero"


async def ticketero(*args: str, var: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(TICKETERO),
        *args,
        cwd=str(REPO),
        env={**os.environ, "VAR_DIR": str(var)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_release_builds_a_versioned_wheel_with_its_checksum_and_lists_it(tmp_path):
    var = tmp_path / "var"
    code, out = await ticketero("release", "--version", "1.4.0", var=var)
    assert code == 0, out
    wheel = var / "releases" / "ticketero-1.4.0-py3-none-any.whl"
    assert f"built {wheel}" in out
    checksum = wheel.with_name(wheel.name + ".sha256")
    # sha256sum's own format, so `sha256sum -c` checks it too.
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert checksum.read_text() == f"{digest}  {wheel.name}\n"
    check = await asyncio.create_subprocess_exec(
        "sha256sum", "-c", checksum.name, cwd=wheel.parent, stdout=asyncio.subprocess.PIPE
    )
    said, _ = await check.communicate()
    assert check.returncode == 0 and b"OK" in said
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read("ticketero-1.4.0.dist-info/METADATA").decode()
    assert "Version: 1.4.0" in metadata
    assert {"worker.py", "settings.py", "api/main.py", "bridge/__main__.py"} <= set(names)
    assert not any(name.startswith("tests/") for name in names)

    code, out = await ticketero("releases", "--json", var=var)
    assert code == 0, out
    listed = json.loads(out)
    assert [(r["version"], r["sha256"], r["installed"]) for r in listed] == [
        ("1.4.0", checksum.read_text().split()[0], False)
    ]
    code, out = await ticketero("releases", var=var)
    assert code == 0 and out.startswith("1.4.0 ") and wheel.name in out


async def test_a_bad_version_is_refused_naming_it(tmp_path):
    code, out = await ticketero("release", "--version", "1.4 beta", var=tmp_path / "var")
    assert code == 2
    assert "version: '1.4 beta' is not a PEP 440 version" in out
    code, out = await ticketero("releases", var=tmp_path / "var")
    assert code == 0 and "no releases in" in out


def test_a_tampered_wheel_fails_verification(tmp_path):
    wheel = tmp_path / "ticketero-2.0.0-py3-none-any.whl"
    wheel.write_bytes(b"original")
    wheel.with_name(wheel.name + ".sha256").write_text(
        f"{hashlib.sha256(b'original').hexdigest()}  {wheel.name}\n"
    )
    release = releases.find(tmp_path, "2.0.0")
    releases.verify(release)
    wheel.write_bytes(b"tampered")
    with pytest.raises(releases.ReleaseError, match="does not match the recorded"):
        releases.verify(release)
    with pytest.raises(releases.ReleaseError, match=r"no release 9\.9\.9"):
        releases.find(tmp_path, "9.9.9")


def test_the_default_version_comes_from_git():
    version = releases.git_version()
    commits = subprocess.run(
        ["git", "-C", str(REPO), "rev-list", "--count", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert version.endswith(f".dev{commits}") or "dev" not in version
    assert "+" not in version  # deploy versions are image-tag-like
