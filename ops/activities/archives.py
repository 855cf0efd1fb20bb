"""The backup folder: archive names, checksums, the full read-back that proves an
archive is a complete dump, and `BackupFolder`, the base of the backup and restore
activities (both verify archives and hold the one ops lock)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import os
import zlib
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError

from db import ops
from ops.activities.heartbeat import beat, heartbeating
from ops.contracts import (
    BACKUP_CORRUPT,
    BACKUP_NAME,
    BACKUP_REFUSED,
    CHECKSUM_SUFFIX,
    PARTIAL_SUFFIX,
)
from settings import Settings

#: How long a dump or restore waits for the other to release the lock before retrying.
LOCK_WAIT_SECONDS = 600.0
DUMP_HEADER = b"-- PostgreSQL database dump"
DUMP_FOOTER = b"-- PostgreSQL database dump complete"
CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_checksum(path: Path) -> str | None:
    """The digest of a sha256sum-format line (`<hex>  <name>`), or None if unreadable."""
    try:
        first = path.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return None
    return first[0].lower() if first and len(first[0]) == 64 else None


def write_atomic(path: Path, content: str) -> None:
    tmp = path.with_name(path.name + PARTIAL_SUFFIX)
    with tmp.open("w", encoding="ascii") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_back(path: Path) -> int:
    """Gunzip the whole archive; it must be a complete PostgreSQL dump. Returns its size."""
    total = 0
    head = b""
    tail = b""
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                if len(head) < 4096:
                    head = (head + chunk)[:4096]
                tail = (tail + chunk)[-4096:]
                total += len(chunk)
    except (OSError, EOFError, zlib.error) as err:
        raise ApplicationError(
            f"{path.name} is not a readable gzip archive: {err}",
            type=BACKUP_CORRUPT,
            non_retryable=True,
        ) from err
    if DUMP_HEADER not in head:
        raise ApplicationError(
            f"{path.name} has no PostgreSQL dump header", type=BACKUP_CORRUPT, non_retryable=True
        )
    if DUMP_FOOTER not in tail:
        raise ApplicationError(
            f"{path.name} is a truncated dump (no completion line)",
            type=BACKUP_CORRUPT,
            non_retryable=True,
        )
    return total


def archive_stamp(name: str) -> str:
    match = BACKUP_NAME.fullmatch(name)
    return match.group("stamp") if match else ""


class BackupFolder:
    """Holds the engine (lock, integrity queries) and the settings naming the folder."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._dir = Path(settings.backup_dir)

    def _archive(self, file_name: str) -> Path:
        """A backup path inside the folder; anything else (`../x`, odd names) is refused."""
        if not BACKUP_NAME.fullmatch(file_name):
            raise ApplicationError(
                f"not a backup file name: {file_name!r}", type=BACKUP_REFUSED, non_retryable=True
            )
        return self._dir / file_name

    @staticmethod
    def _checksum_of(archive: Path) -> Path:
        return archive.with_name(archive.name + CHECKSUM_SUFFIX)

    def _lock(self, what: str) -> contextlib.AbstractAsyncContextManager[None]:
        return ops.ops_lock(
            self._engine,
            wait_seconds=LOCK_WAIT_SECONDS,
            on_wait=lambda: beat(waiting_for_lock=what),
        )

    async def _verified(self, archive: Path) -> tuple[str, int, int]:
        """Checksum first (tampering), then a full read-back: (sha256, bytes, raw bytes)."""
        checksum = self._checksum_of(archive)
        if not await asyncio.to_thread(archive.is_file):
            raise ApplicationError(
                f"backup {archive.name} not found", type=BACKUP_REFUSED, non_retryable=True
            )
        expected = await asyncio.to_thread(read_checksum, checksum)
        if expected is None:
            raise ApplicationError(
                f"backup {archive.name} has no readable checksum file",
                type=BACKUP_CORRUPT,
                non_retryable=True,
            )
        actual = await heartbeating(asyncio.to_thread(sha256_of, archive), step="checksum")
        if actual != expected:
            raise ApplicationError(
                f"checksum mismatch for {archive.name}: expected {expected[:12]}…,"
                f" got {actual[:12]}…",
                type=BACKUP_CORRUPT,
                non_retryable=True,
            )
        raw = await heartbeating(asyncio.to_thread(read_back, archive), step="read_back")
        size = (await asyncio.to_thread(archive.stat)).st_size
        return actual, size, raw
