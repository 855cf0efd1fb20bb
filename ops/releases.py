"""Release artifacts for deploys without containers: a wheel per version, with its sha256.

`make release` (`ticketero release`) builds a wheel of the working tree with
the version given (VERSION=1.4.0) or derived from git (an exact tag `v1.4.0`,
else `<pyproject version>.dev<number of commits>`: deploy versions allow no
`+`, as image tags) into `<var_dir>/releases/`, and writes
`<wheel>.sha256` beside it in `sha256sum` format. `ticketero releases` lists
them. The process driver (ops/activities/platform.py) verifies the checksum
and installs a release into `<var_dir>/releases/<version>/venv`, offline: the
wheel alone (`--no-deps`), in a venv that sees the locked dependencies of the
environment running the stack (a path line to its site-packages).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.version import InvalidVersion, Version

REPO_ROOT = Path(__file__).resolve().parent.parent
DIST = "ticketero"
BUILD_TIMEOUT = 600.0
#: Kept out of the copy a release is built from.
_NOT_SHIPPED = shutil.ignore_patterns(
    ".venv", "var", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
    "build", "*.egg-info", "node_modules",
)  # fmt: skip


class ReleaseError(Exception):
    """A release cannot be built, found, verified or installed."""


@dataclass(frozen=True)
class Release:
    version: str
    wheel: Path
    sha256: str  # as recorded beside the wheel
    built_at: datetime

    @property
    def size(self) -> int:
        return self.wheel.stat().st_size


def releases_dir(var_dir: Path) -> Path:
    return var_dir / "releases"


def normalized(version: str) -> str:
    """The PEP 440 form of `version` (what the wheel's metadata will say)."""
    try:
        return str(Version(version))
    except InvalidVersion as err:
        raise ReleaseError(f"version: {version!r} is not a PEP 440 version (e.g. 1.4.0)") from err


def git_version(repo: Path = REPO_ROOT) -> str:
    """`X.Y.Z` from an exact tag `vX.Y.Z`, else `<pyproject version>.dev<commit count>`."""
    base = _pyproject_version(repo)

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        with_tag = git("describe", "--tags", "--exact-match")
        return normalized(with_tag.removeprefix("v"))
    except (subprocess.SubprocessError, OSError, ReleaseError):
        pass
    try:
        commits = git("rev-list", "--count", "HEAD")
    except (subprocess.SubprocessError, OSError):
        return base
    return normalized(f"{base}.dev{commits}")


def _pyproject_version(repo: Path) -> str:
    found = re.search(r'^version = "([^"]+)"', (repo / "pyproject.toml").read_text(), re.M)
    if found is None:
        raise ReleaseError("pyproject.toml has no version line")
    return found.group(1)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build(
    out_dir: Path, version: str, repo: Path = REPO_ROOT, python: str = sys.executable
) -> Release:
    """Build the wheel of `repo` as `version` into `out_dir`, with its .sha256 beside it."""
    version = normalized(version)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ticketero-release-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(repo, src, ignore=_NOT_SHIPPED, symlinks=True)
        pyproject = src / "pyproject.toml"
        text, count = re.subn(
            r'^version = "[^"]+"',
            f'version = "{version}"',
            pyproject.read_text(),
            count=1,
            flags=re.M,
        )
        if count != 1:
            raise ReleaseError("pyproject.toml has no version line")
        pyproject.write_text(text)
        dist = Path(tmp) / "dist"
        proc = subprocess.run(
            [python, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(src)],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            check=False,
        )
        wheels = sorted(dist.glob(f"{DIST}-*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            tail = (proc.stdout + proc.stderr).strip()[-2000:]
            raise ReleaseError(f"building the wheel failed (exit {proc.returncode}): {tail}")
        wheel = out_dir / wheels[0].name
        shutil.move(str(wheels[0]), wheel)
    digest = sha256_of(wheel)
    _checksum_file(wheel).write_text(f"{digest}  {wheel.name}\n")
    return Release(version, wheel, digest, _mtime(wheel))


def _checksum_file(wheel: Path) -> Path:
    return wheel.with_name(wheel.name + ".sha256")


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _wheel_version(wheel: Path) -> str:
    # ticketero-<version>-py3-none-any.whl; a version has no "-" in a wheel name.
    return wheel.name.split("-")[1]


def list_releases(directory: Path) -> list[Release]:
    """Every wheel with its checksum file, newest first."""
    found = []
    for wheel in directory.glob(f"{DIST}-*.whl") if directory.is_dir() else []:
        checksum = _checksum_file(wheel)
        recorded = checksum.read_text().split()[0] if checksum.is_file() else ""
        found.append(Release(_wheel_version(wheel), wheel, recorded, _mtime(wheel)))
    return sorted(found, key=lambda r: r.built_at, reverse=True)


def find(directory: Path, version: str) -> Release:
    wanted = normalized(version)
    for release in list_releases(directory):
        if normalized(release.version) == wanted:
            return release
    raise ReleaseError(f"no release {version} in {directory} (make release VERSION={version})")


def verify(release: Release) -> None:
    """The wheel's sha256 is the one recorded beside it."""
    if not release.sha256:
        raise ReleaseError(f"{release.wheel.name}: no checksum file beside it")
    actual = sha256_of(release.wheel)
    if actual != release.sha256:
        raise ReleaseError(
            f"{release.wheel.name}: sha256 {actual} does not match the recorded {release.sha256}"
        )


def venv_dir(directory: Path, version: str) -> Path:
    return directory / normalized(version) / "venv"


def venv_python(directory: Path, version: str) -> Path:
    return venv_dir(directory, version) / "bin" / "python"


def install(release: Release, directory: Path, python: str = sys.executable) -> list[str]:
    """Install `release` into its own venv, offline; the pip command run.

    The venv sees the running environment's site-packages through a path line
    (not its .pth files, so an editable install of the working tree stays out),
    and gets only the wheel itself: no index, no dependency resolution.
    """
    home = venv_dir(directory, release.version)
    if home.exists():
        shutil.rmtree(home)  # a half-done install of an earlier attempt
    subprocess.run([python, "-m", "venv", "--without-pip", str(home)], check=True, timeout=120)
    new_python = home / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(new_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    )
    (site / "ticketero-locked-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    argv = [python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    argv += ["--no-index", "--no-deps", "--target", str(site), str(release.wheel)]
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False, env=_pip_env()
    )
    if proc.returncode != 0:
        raise ReleaseError(
            f"installing {release.wheel.name} failed (exit {proc.returncode}): "
            f"{(proc.stdout + proc.stderr).strip()[-2000:]}"
        )
    return argv


def _pip_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PIP_NO_INDEX"] = "1"
    env.pop("PIP_FIND_LINKS", None)
    return env
