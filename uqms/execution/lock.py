"""An exclusive lock on a run store, so two runs never compute into it at once.

A lock file beside the store names its owner (pid, host, start). Hand-written rather
than ``filelock``/``fcntl.flock``: the owner must be readable for the refusal message,
and the lock must hold across hosts sharing a file system, where advisory locks are
unreliable; a lock left by a dead process of this host is taken over. Its text, unique
to each holding (a random token), also tells a Dask worker whether it sees the store of
the run it computes for (:func:`held_by`).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from uqms.errors import UqmsError

STALE_EMPTY_SECONDS = 10.0  # a lock file still empty after this was left by a process killed while writing it


class StoreLockedError(UqmsError):
    """Another live process holds the run store."""


def lock_path(store: str | Path) -> Path:
    """The lock file of a store: ``<store>.lock`` beside it."""
    store = Path(store)
    return store.with_name(store.name.rstrip("/") + ".lock")


@contextmanager
def store_lock(store: str | Path) -> Iterator[str]:
    """Hold the lock of ``store`` for the duration of the block; yields the lock's text.

    Raises:
        StoreLockedError: a live process (or one on another host) holds it.
    """
    lock = lock_path(store)
    lock.parent.mkdir(parents=True, exist_ok=True)
    owner = _acquire(lock, store)
    try:
        yield owner
    finally:
        lock.unlink(missing_ok=True)


def held_by(store: str | Path, owner: str) -> bool:
    """Whether this process reads ``owner`` (the text :func:`store_lock` yielded) in the lock
    of ``store``: the same store, held by the same run (False where the path is not reachable)."""
    try:
        return lock_path(store).read_text() == owner
    except OSError:
        return False


def _acquire(lock: Path, store) -> str:
    mine = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                       "token": secrets.token_hex(8)})
    while True:
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _owner(lock)
            if owner is not None and not _is_stale(lock, owner):
                raise StoreLockedError(
                    f"{store}: in use by another uqms run (pid {owner.get('pid')} on {owner.get('host')}, "
                    f"since {owner.get('since')}); wait for it to finish, or delete {lock} if that process is gone"
                ) from None
            if owner is not None:
                _take_over(lock, owner)
            continue
        with os.fdopen(descriptor, "w") as file:
            file.write(mine)
        return mine


def _owner(lock: Path) -> dict | None:
    """The lock's owner; ``{}`` if unreadable, None if the lock vanished meanwhile."""
    try:
        text = lock.read_text()
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {}


def _is_stale(lock: Path, owner: dict) -> bool:
    """Left by a dead process of this host (or by one killed while writing it)."""
    if not owner:
        try:
            return time.time() - lock.stat().st_mtime > STALE_EMPTY_SECONDS
        except FileNotFoundError:
            return True
    if owner.get("host") != socket.gethostname():
        return False  # its pid cannot be checked from here
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, KeyError, ValueError, TypeError):
        return False
    return False


def _take_over(lock: Path, owner: dict) -> None:
    """Move a stale lock aside; if another process replaced it meanwhile, put that one back."""
    aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    if _owner(aside) == owner:
        aside.unlink(missing_ok=True)
    else:  # another taker got there first and locked it afresh
        os.rename(aside, lock)
