"""The run store's lock: held by one live process, refused to others with its owner named,
taken over from a dead process of this host or from one killed while writing it."""

import json
import os
import socket
import time

import pytest

from uqms.execution import lock as store_locks
from uqms.execution.lock import StoreLockedError, lock_path, store_lock


def _write_owner(path, **owner):
    path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": "then", **owner}))


def test_the_lock_is_held_inside_the_block_and_released_after_it_even_on_error(tmp_path):
    store = tmp_path / "runs" / "run.zarr"
    with pytest.raises(RuntimeError), store_lock(store):
        owner = json.loads(lock_path(store).read_text())
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
        with pytest.raises(StoreLockedError, match=rf"run.zarr: in use by another uqms run \(pid {os.getpid()}"), \
                store_lock(store):
            pass
        raise RuntimeError("the run failed")
    assert not lock_path(store).exists()


def test_a_lock_of_another_host_is_never_taken_over(tmp_path):
    store = tmp_path / "run.zarr"
    _write_owner(lock_path(store), pid=1, host="elsewhere.example")
    with pytest.raises(StoreLockedError, match=r"pid 1 on elsewhere.example, since then\); wait for it to finish, or delete"), store_lock(store):
        pass
    assert json.loads(lock_path(store).read_text())["host"] == "elsewhere.example"


def test_an_empty_lock_is_busy_while_fresh_and_taken_over_once_old(tmp_path, monkeypatch):
    store = tmp_path / "run.zarr"
    lock_path(store).write_text("")  # its owner is still writing it, or was killed doing so
    with pytest.raises(StoreLockedError, match=r"pid None"), store_lock(store):
        pass
    old = time.time() - store_locks.STALE_EMPTY_SECONDS - 1
    os.utime(lock_path(store), (old, old))
    with store_lock(store):
        assert json.loads(lock_path(store).read_text())["pid"] == os.getpid()


def test_an_unreadable_owner_entry_is_not_taken_for_a_dead_process(tmp_path):
    store = tmp_path / "run.zarr"
    _write_owner(lock_path(store), pid="not a pid")
    with pytest.raises(StoreLockedError), store_lock(store):
        pass


def test_a_stale_lock_replaced_meanwhile_by_another_taker_is_put_back(tmp_path, monkeypatch):
    lock = tmp_path / "run.zarr.lock"
    _write_owner(lock, pid=123456789)
    stale = json.loads(lock.read_text())
    renamed = os.rename

    def another_taker_first(source, target):  # between our read and our rename, another process took over
        _write_owner(lock, pid=os.getpid(), since="now")
        renamed(source, target)

    monkeypatch.setattr(store_locks.os, "rename", another_taker_first)
    store_locks._take_over(lock, stale)
    monkeypatch.undo()
    assert json.loads(lock.read_text())["since"] == "now"  # the other taker's lock, back in place
    assert not list(tmp_path.glob("*.stale-*"))
    store_locks._take_over(tmp_path / "gone.lock", stale)  # vanished meanwhile: nothing to do
    assert store_locks._owner(tmp_path / "gone.lock") is None
