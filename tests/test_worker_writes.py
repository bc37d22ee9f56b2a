"""Dask workers write the batches they compute into the run store themselves (the driver only
marks them done); where a worker cannot see the store, or dies while writing, the driver
writes the rows instead. Either way the store equals the synchronous run and verifies."""

import os
import signal
import subprocess
import sys
import time

import cloudpickle
import dask
import numpy as np
import pytest
from distributed import Client, LocalCluster

from tests.conftest import REPO
from uqms import Workflow
from uqms.execution import open_run
from uqms.execution.lock import store_lock
from uqms.execution.run_store import RunStore, WorkerWrites, batches_done
from uqms.execution.runner import evaluate_and_write
from uqms.execution.store import verify_run

ISHIGAMI = REPO / "workflows" / "ishigami.toml"
N, BATCH = 3000, 256  # 12 batches; the 64-sample probe covers none of them
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers need not find the tests


@pytest.fixture
def cluster():
    """Two single-threaded worker processes of their own (the tests change them); Dask gives a
    task up at its first lost worker, and gives a slow nanny time to restart it."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.deploy.lost-worker-timeout": "45s"}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local, \
            Client(local) as client:
        yield client


@pytest.fixture(scope="module")
def ishigami():
    return Workflow.from_file(ISHIGAMI)


@pytest.fixture(scope="module")
def reference(ishigami):
    return ishigami.run(n=N, scheduler="synchronous", batch_size=N)


@pytest.fixture
def driver_writes(monkeypatch):
    """The batches whose rows this process (the driver) wrote, and those it marked done."""
    written, marked = [], []
    write, mark_done = RunStore.write, RunStore.mark_done
    monkeypatch.setattr(RunStore, "write", lambda self, arrays, index: (written.append(index), write(self, arrays, index)))
    monkeypatch.setattr(RunStore, "mark_done", lambda self, index: (marked.append(index), mark_done(self, index)))
    return written, marked


def _transfers_out(dask_worker) -> int:
    """Results this worker has sent to others (the driver's fetches included)."""
    return dask_worker.transfer_outgoing_count_total


def test_workers_write_the_batches_and_the_driver_marks_them_done(cluster, ishigami, reference, tmp_path, driver_writes):
    store = tmp_path / "run.zarr"
    before = sum(cluster.run(_transfers_out).values())
    run = ishigami.run(n=N, scheduler=cluster.scheduler.address, batch_size=BATCH, store=store)
    written, marked = driver_writes
    assert written == [] and sorted(marked) == list(range(12))
    # none of the 12 batches fetched: the scheduler told the driver their results were None
    assert sum(cluster.run(_transfers_out).values()) - before < 12
    assert run.identical(reference)
    assert verify_run(store).written == 12


def test_an_extended_run_keeps_the_rows_of_its_cut_short_batch_when_a_worker_writes_it(cluster, ishigami, reference,
                                                                                     tmp_path, driver_writes):
    store = tmp_path / "run.zarr"
    ishigami.run(n=N - 100, scheduler="synchronous", batch_size=BATCH, store=store)  # batch 11 cut short: 84 rows
    written, marked = driver_writes
    written.clear(), marked.clear()
    run = ishigami.run(n=N, scheduler=cluster.scheduler.address, batch_size=BATCH, store=store)
    assert written == [] and marked == [11]  # recomputed whole by a worker, its first 84 rows kept
    assert run.identical(reference)
    assert verify_run(store).written == 12


def test_a_task_writes_its_batch_only_for_the_run_holding_the_store_and_in_time(ishigami, tmp_path):
    store = tmp_path / "run.zarr"
    ishigami.run(n=2 * BATCH, scheduler="synchronous", batch_size=BATCH, store=store)
    stored = RunStore(store, BATCH, n_samples=2 * BATCH)
    stored._zarr_arrays()["y"][BATCH:] = 0.0  # batch 1's rows lost: no longer its checksum
    assert stored.damaged(np.ones(2, dtype=bool)) == [1]
    with store_lock(store) as owner:
        for writes in (WorkerWrites(str(store), BATCH, "another run", {}, np.inf),  # a store of another run
                       WorkerWrites(str(store), BATCH, owner, {}, 0.0)):  # a batch slower than its limit
            arrays = evaluate_and_write(ishigami, BATCH, 2 * BATCH, 2 * BATCH, ishigami.seed, 1, writes)
            assert arrays is not None and len(arrays["y"]) == BATCH  # sent back instead
            assert stored.damaged(np.ones(2, dtype=bool)) == [1]
        writes = WorkerWrites(str(store), BATCH, owner, {}, np.inf)
        assert evaluate_and_write(ishigami, BATCH, 2 * BATCH, 2 * BATCH, ishigami.seed, 1, writes) is None
    assert stored.damaged(np.ones(2, dtype=bool)) == []  # written: rows and checksum
    assert open_run(store).identical(ishigami.run(n=2 * BATCH, scheduler="synchronous"))


def _blind(dask_worker=None):
    """Make this worker process unable to see any store (as on a machine without its path)."""
    import uqms.execution.run_store

    uqms.execution.run_store.held_by = lambda store, owner: False


def test_workers_that_cannot_see_the_store_send_the_rows_to_the_driver(cluster, ishigami, reference, tmp_path,
                                                                       driver_writes):
    cluster.run(_blind)
    store = tmp_path / "run.zarr"
    before = sum(cluster.run(_transfers_out).values())
    run = ishigami.run(n=N, scheduler=cluster.scheduler.address, batch_size=BATCH, store=store)
    written, marked = driver_writes
    assert sorted(written) == list(range(12)) and sorted(marked) == list(range(12))  # write() marks them too
    assert sum(cluster.run(_transfers_out).values()) - before >= 12  # every batch fetched
    assert run.identical(reference)
    assert verify_run(store).written == 12


def _die_at_a_write(marker: str, count: int):
    """Make this worker process exit at its ``count``-th chunk write (the run store writes its
    chunk files itself) if ``marker`` exists (removed then: one death in all), in the middle
    of a batch's rows."""
    from uqms.execution import run_store

    original, calls = run_store._write_file, [0]

    def write_or_die(path, data):
        calls[0] += 1
        if calls[0] == count and os.path.exists(marker):
            os.remove(marker)
            os._exit(1)
        return original(path, data)

    run_store._write_file = write_or_die


def test_a_worker_killed_while_writing_a_batch_leaves_a_store_that_resumes_whole(cluster, ishigami, reference, tmp_path):
    marker = tmp_path / "die-once"
    marker.touch()
    cluster.run(_die_at_a_write, str(marker), 3)  # the 3rd of a batch's 4 chunk writes (x1, x2, x3, y)
    store = tmp_path / "run.zarr"
    run = ishigami.run(n=N, scheduler=cluster.scheduler.address, batch_size=BATCH, store=store)
    assert not marker.exists(), "no worker died"
    assert run.identical(reference)
    assert verify_run(store).written == 12


SLOW_STAGES = '''
import time

class Slow:
    """y = 3 x - 1, taking 0.1 s a batch."""
    inputs, outputs = ("x",), ("y",)

    def __call__(self, batch):
        time.sleep(0.1)
        return {"y": 3 * batch["x"] - 1}
'''
SLOW_WORKFLOW = '''
[workflow]
name = "slow"
seed = 3

[inputs.x]
distribution = "normal"
mean = 0.0
std = 1.0
kind = "epistemic"

[[chain]]
stage = "worker_writes_stages:Slow"

[design]
method = "halton"
n = 4000

[execution]
batch_size = 100
scheduler = "local"
'''


def test_a_run_on_a_local_cluster_killed_mid_way_keeps_only_whole_batches_and_resumes(tmp_path, monkeypatch):
    """Killed (SIGKILL, with its workers) while workers write batches: every batch marked done
    matches its checksum, and running again finishes the run identical to one uninterrupted."""
    (tmp_path / "worker_writes_stages.py").write_text(SLOW_STAGES)  # a name of its own: modules stay imported
    (tmp_path / "slow.toml").write_text(SLOW_WORKFLOW)
    monkeypatch.syspath_prepend(str(tmp_path))
    store = tmp_path / "slow.zarr"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    process = subprocess.Popen([sys.executable, "-m", "uqms.cli", "run", str(tmp_path / "slow.toml"), "--out", str(store),
                                "--quiet"], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, done = time.monotonic() + 120, 0
    while time.monotonic() < deadline and done < 5 and process.poll() is None:
        time.sleep(0.1)
        try:
            done = int(batches_done(store).sum())
        except (OSError, KeyError, ValueError):  # the store is still being made
            continue
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    done = batches_done(store)
    assert 5 <= done.sum() < 40, "the run was not interrupted mid-way"
    assert verify_run(store).written == done.sum()  # no batch marked done without its rows
    flow = Workflow.from_file(tmp_path / "slow.toml")
    resumed = flow.run(store=store, scheduler="synchronous")
    assert resumed.identical(flow.run(scheduler="synchronous"))
    assert verify_run(store).written == 40
    assert np.all(open_run(store)["status"].values == 0)
