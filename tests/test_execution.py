"""Runs on Dask: same results as in-process for any batch size and worker count, resumable
after a kill, tolerant of lost workers, refusing a store made by another run."""

import contextlib
import faulthandler
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import chaospy
import cloudpickle
import dask
import numpy as np
import pytest
from distributed import Client, LocalCluster

from tests.conftest import REPO
from uqms import FunctionStage, UncertainInput, Workflow
from uqms.errors import UqmsError
from uqms.execution import open_run, status_messages
from uqms.execution.dataset import BATCH_FAILED_MESSAGE, TIMED_OUT_MESSAGE
from uqms.execution.progress import sample_progress
from uqms.execution.run_store import StoreMismatchError
from uqms.execution.runner import (
    WINDOW_BYTES,
    auto_batch_size,
    batch_bounds,
    spread_batch_size,
    tasks_in_flight,
)
from uqms.execution.store import IncompleteRunError
from uqms.models.stage import StageError

ISHIGAMI = REPO / "workflows" / "ishigami.toml"
# Workers import this module's functions by value: they need not find the tests on their path.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


# Dask gives up a task at its first lost worker (uqms then runs it once more on its own); a
# nanny slow to restart its worker on a loaded machine is not closed by its cluster after 15 s.
KILLED_WORKERS = {"distributed.scheduler.allowed-failures": 0, "distributed.deploy.lost-worker-timeout": "45s"}


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes (see KILLED_WORKERS)."""
    with (dask.config.set(KILLED_WORKERS),
          LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local):
        yield local.scheduler_address


@pytest.fixture
def fresh_cluster():
    """A cluster of its own for a test that kills workers: a nanny that fails to restart
    one (it happens on a loaded machine) must not take the other tests down with it."""
    with dask.config.set(KILLED_WORKERS), LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def ishigami():
    return Workflow.from_file(ISHIGAMI)


@pytest.fixture(scope="module")
def reference(ishigami):
    return ishigami.run(n=3000, scheduler="synchronous", batch_size=3000)


@pytest.mark.parametrize("batch_size", [128, 1000, 3000])
def test_local_cluster_gives_the_synchronous_result(cluster, ishigami, reference, batch_size):
    assert ishigami.run(n=3000, scheduler=cluster, batch_size=batch_size).identical(reference)


def test_store_written_on_a_cluster_equals_the_in_memory_run(cluster, ishigami, reference, tmp_path):
    run = ishigami.run(n=3000, scheduler=cluster, batch_size=256, store=tmp_path / "run.zarr")
    assert run.identical(reference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scheduler_and_worker_started_with_the_dask_command(ishigami, reference):
    with _dask_command_cluster() as address:
        with Client(address, timeout=30) as client:
            client.wait_for_workers(1, timeout=60)
        assert ishigami.run(n=3000, scheduler=address, batch_size=500).identical(reference)



@contextlib.contextmanager
def _dask_command_cluster():
    """A scheduler and one worker started with the ``dask`` command, as a user would: their address."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "dask", "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield address
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=30)


SLOW_STAGES = '''
import time
import numpy as np

class Slow:
    """Doubles x, taking 0.1 s per batch."""
    inputs, outputs = ("x",), ("y",)
    units = {"y": "eV"}

    def __call__(self, batch):
        time.sleep(0.1)
        return {"y": 2 * batch["x"]}
'''

SLOW_WORKFLOW = '''
[workflow]
name = "slow"
seed = 9

[inputs.x]
distribution = "normal"
mean = 0.0
std = 1.0
kind = "epistemic"
unit = "eV"

[[chain]]
stage = "slow_stages:Slow"

[design]
method = "lhs"
n = 4000

[execution]
batch_size = 100
scheduler = "synchronous"
'''


def test_killed_run_resumes_to_the_identical_dataset(tmp_path, monkeypatch):
    (tmp_path / "slow_stages.py").write_text(SLOW_STAGES)
    (tmp_path / "slow.toml").write_text(SLOW_WORKFLOW)
    monkeypatch.syspath_prepend(str(tmp_path))
    store = tmp_path / "slow.zarr"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "uqms.cli", "run", str(tmp_path / "slow.toml"), "--out", str(store), "--quiet"]
    process = subprocess.Popen(command, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and done < 5:
        time.sleep(0.2)
        try:
            done = _batches_done(store)
        except (OSError, KeyError, ValueError):  # the store is still being created
            continue
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 5 <= _batches_done(store) < 40, "the run was not interrupted mid-way"
    with pytest.raises(IncompleteRunError, match="run the same command again to resume"):
        open_run(store)
    flow = Workflow.from_file(tmp_path / "slow.toml")
    resumed = flow.run(store=store, scheduler="synchronous")
    assert _batches_done(store) == 40
    assert resumed.identical(flow.run(scheduler="synchronous"))


def _batches_done(store: Path) -> int:
    import xarray as xr

    with xr.open_zarr(store, consolidated=False) as raw:
        return int(raw["batch_done"].sum())


def _kill_worker_once(x, marker):
    if len(x) == 250 and os.path.exists(marker):  # in a batch, not in the 64-sample probe
        os.remove(marker)
        os._exit(1)  # the worker process dies mid-task
    return x + 1


def _kill_worker_on_large(x):
    if np.any(x > 0.9995):
        os._exit(1)
    return x + 1


def _workflow(function, **constants):
    stage = FunctionStage(lambda x: function(x, **constants), ["x"], ["y"], name=function.__name__)
    return Workflow([stage], inputs=[UncertainInput("x", chaospy.Uniform(0, 1))], design="mc", n=2000)


def test_a_worker_killed_during_the_run_is_replaced_and_every_sample_completes(cluster, tmp_path):
    marker = tmp_path / "kill-once"
    marker.touch()
    run = _workflow(_kill_worker_once, marker=str(marker)).run(scheduler=cluster, batch_size=250)
    assert not marker.exists(), "no worker was killed"
    assert np.all(run["status"].values == 0)
    assert np.allclose(run["y"].values, run["x"].values + 1)


def test_only_the_samples_that_kill_their_workers_are_flagged(fresh_cluster):
    run = _workflow(_kill_worker_on_large).run(scheduler=fresh_cluster, batch_size=250)
    status, x = run["status"].values, run["x"].values
    flagged = status != 0
    assert np.array_equal(flagged, x > 0.9995) and flagged.any()
    assert {status_messages(run)[s] for s in status[flagged]} == {BATCH_FAILED_MESSAGE}
    assert np.all(np.isnan(run["y"].values[flagged]))
    assert np.allclose(run["y"].values[~flagged], x[~flagged] + 1)


def _wrong_shape_in_batches(x):
    return x[:-1] + 1 if len(x) == 250 else x + 1  # right in the 64-sample probe, wrong after


def test_a_chain_breaking_its_contract_on_a_worker_aborts_the_run(cluster):
    with pytest.raises(StageError, match="shape"):
        _workflow(_wrong_shape_in_batches).run(scheduler=cluster, batch_size=250)


def test_a_store_of_another_run_is_refused_and_left_untouched(ishigami, tmp_path):
    store = tmp_path / "run.zarr"
    first = ishigami.run(n=500, seed=1, scheduler="synchronous", store=store).load()
    with pytest.raises(StoreMismatchError, match="this store holds another run .*seed 1.*not workflow 'ishigami', n 500, seed 2"):
        ishigami.run(n=500, seed=2, scheduler="synchronous", store=store)
    assert open_run(store).identical(first)


def test_automatic_batch_size():
    assert auto_batch_size(1e-6, 10**7, 2) == 2**18  # ~0.5 s tasks
    assert auto_batch_size(1e-8, 10**8, 2, bytes_per_sample=64) == 2**18  # results under 16 MiB
    assert auto_batch_size(1e-6, 10**5, 2) == 2**14  # at least two batches per worker
    assert auto_batch_size(1.0, 10**7, 2) == 2**10  # at most 10 000 tasks
    assert auto_batch_size(1.0, 100, 2) == 1


def test_few_batches_are_spread_equally_over_the_workers():
    assert spread_batch_size(5000, 2048, 2) == 1250  # 4 batches, 2 a worker, instead of 2048 + 904 against 2048
    assert spread_batch_size(5000, 2048, 1) == 2048  # one worker: the batch size given
    assert spread_batch_size(10**6, 32768, 2) == 31250  # 32 batches instead of 31
    assert spread_batch_size(20000, 1000, 2) == 1000  # 20 already
    assert spread_batch_size(3, 2048, 4) == 1  # fewer samples than workers
    for n, size, workers in [(5000, 2048, 2), (99_999, 1000, 3), (12_345, 64, 8)]:
        spread = spread_batch_size(n, size, workers)
        lengths = [stop - start for start, stop in batch_bounds(n, spread)]
        assert spread <= size and len(lengths) % workers == 0 and max(lengths) - min(lengths) < len(lengths)


def test_a_run_on_two_workers_stores_the_spread_batches_with_the_synchronous_values(cluster, ishigami, tmp_path):
    store = tmp_path / "run.zarr"
    ishigami.run(n=5000, scheduler=cluster, batch_size=2048, store=store)
    with open_run(store) as run:
        assert run["y"].encoding["chunks"] == (1250,)
        reference = ishigami.run(n=5000, scheduler="synchronous", batch_size=2048)
        np.testing.assert_array_equal(run["y"].values, reference["y"].values)


def test_results_waiting_in_the_driver_stay_bounded():
    assert tasks_in_flight(2, 8 * 100) == 8  # small batches: 4 per worker thread
    assert tasks_in_flight(8, 16 * 2**20) * 16 * 2**20 <= WINDOW_BYTES  # large ones: within the budget
    assert tasks_in_flight(64, 16 * 2**20) == 65  # never fewer than one per thread, plus one


def test_progress_bar_is_quiet_off_a_terminal():
    assert sample_progress(quiet=False).disable  # pytest captures output: not a terminal
    assert sample_progress(quiet=True).disable


def _sleep_forever_on(x, culprit):
    if np.any(x == culprit):
        time.sleep(3600)
    return x + 1


def test_a_sample_that_hangs_is_stopped_by_the_task_timeout_and_flagged(fresh_cluster):
    flow = _workflow(_sleep_forever_on, culprit=0.0)
    culprit = flow.sample_inputs(0, 128, 128, 0)["x"][100]  # beyond the 64 samples of the probe
    flow = _workflow(_sleep_forever_on, culprit=culprit)
    flow.n, flow.task_timeout = 128, 4.0  # a normal batch, even the first on a restarted worker, stays well within
    run = flow.run(scheduler=fresh_cluster, batch_size=16)
    status = run["status"].values
    assert np.flatnonzero(status != 0).tolist() == [100]
    assert status_messages(run)[status[100]] == TIMED_OUT_MESSAGE
    assert np.allclose(run["y"].values[status == 0], run["x"].values[status == 0] + 1)


def test_a_run_whose_scheduler_is_killed_stops_with_an_error_and_resumes(tmp_path, monkeypatch):
    (tmp_path / "slow_stages.py").write_text(SLOW_STAGES)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "slow.toml").write_text(SLOW_WORKFLOW.replace("n = 4000", "n = 2000"))
    store = tmp_path / "slow.zarr"
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3"}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,  # it unpickles the tasks too
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "dask", "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "uqms.cli", "run", str(tmp_path / "slow.toml"), "--out", str(store), "--quiet",
         "--scheduler", address], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 180  # a bound for three processes starting on a loaded machine, not a speed
        while time.monotonic() < deadline and (not store.exists() or _batches_done(store) < 3):
            time.sleep(0.2)
        scheduler.kill()
        output, _ = run.communicate(timeout=60)
    finally:
        for process in (run, worker, scheduler):
            process.kill()
            process.wait(timeout=30)
    assert run.returncode == 2 and "lost the Dask scheduler" in output, output[-2000:]
    assert "Traceback" not in output, output
    assert 3 <= _batches_done(store) < 20, "the run was not interrupted mid-way"
    flow = Workflow.from_file(tmp_path / "slow.toml")
    assert flow.run(store=store, scheduler="synchronous").identical(flow.run(scheduler="synchronous"))


def test_a_sample_that_hangs_in_process_is_interrupted_and_flagged():
    flow = _workflow(_sleep_forever_on, culprit=0.0)
    culprit = flow.sample_inputs(0, 128, 128, 0)["x"][100]  # beyond the 64 samples of the probe
    flow = _workflow(_sleep_forever_on, culprit=culprit)
    flow.n, flow.task_timeout = 128, 0.5
    run = flow.run(scheduler="synchronous", batch_size=16)
    status = run["status"].values
    assert np.flatnonzero(status != 0).tolist() == [100]
    assert status_messages(run)[status[100]] == TIMED_OUT_MESSAGE
    assert np.allclose(run["y"].values[status == 0], run["x"].values[status == 0] + 1)


def test_a_probe_that_hangs_in_process_is_one_clear_error(monkeypatch):
    from uqms.errors import UqmsError
    from uqms.execution import runner

    monkeypatch.setattr(runner, "MIN_TASK_TIMEOUT", 0.5)
    flow = _workflow(_sleep_forever_on, culprit=0.0)
    flow = _workflow(_sleep_forever_on, culprit=flow.sample_inputs(0, 128, 128, 0)["x"][10])
    with pytest.raises(UqmsError, match="the timed probe of the first samples did not finish in 0.5 s"):
        flow.run(n=128, scheduler="synchronous", batch_size=16)


def _slow_first_call(x, calls):
    calls.append(len(x))
    if len(calls) == 1:  # a one-time cost: imports, compiling
        time.sleep(1.5)
    return x + 1


@pytest.mark.parametrize("scheduler", ["synchronous", "local"])
def test_the_first_sample_may_pay_one_time_costs_beyond_the_probe_limit(monkeypatch, scheduler):
    from uqms.execution import runner

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    monkeypatch.setattr(runner, "MIN_TASK_TIMEOUT", 0.5)
    run = _workflow(_slow_first_call, calls=[]).run(n=128, scheduler=scheduler, batch_size=16)
    assert np.all(run["status"].values == 0)
    assert np.allclose(run["y"].values, run["x"].values + 1)


def test_a_first_sample_that_hangs_is_stopped_after_the_one_time_allowance(monkeypatch):
    from uqms.errors import UqmsError
    from uqms.execution import runner

    monkeypatch.setattr(runner, "MIN_TASK_TIMEOUT", 0.5)
    monkeypatch.setattr(runner, "FIRST_CALL_SECONDS", 1.0)
    flow = _workflow(_sleep_forever_on, culprit=0.0)
    flow = _workflow(_sleep_forever_on, culprit=flow.sample_inputs(0, 128, 128, 0)["x"][0])
    with pytest.raises(UqmsError, match="the timed probe of the first samples did not finish in 1.5 s"):
        flow.run(n=128, scheduler="synchronous", batch_size=16)


def _abort_on(x, culprits):
    if np.any(np.isin(x, culprits)):
        faulthandler.disable()  # the abort is meant: no dump of the tracebacks (pytest enables the handler)
        os.abort()
    return x + 1


def _allocate_on(x, culprits, nbytes):
    if np.any(np.isin(x, culprits)):
        block = np.ones(nbytes // 8)  # touched: resident
        time.sleep(5)  # for the nanny's memory monitor to see it
        x = x + block[0] - 1
    return x + 1


def _flagged_run_equals_the_clean_run(run, function, rows, n, **constants):
    """Only ``rows`` flagged, as lost workers; every other row equals a run in this process
    of ``function`` sparing every sample."""
    status = run["status"].values
    assert np.flatnonzero(status).tolist() == rows
    assert {status_messages(run)[s] for s in status[rows]} == {BATCH_FAILED_MESSAGE}
    expected = _workflow(function, culprits=[], **constants).run(n=n, scheduler="synchronous", batch_size=8)
    expected["y"][rows] = np.nan
    expected["status"][rows] = status[rows]
    assert run.identical(expected)


def test_aborting_samples_on_uqms_own_cluster_are_the_only_ones_flagged(tmp_path, monkeypatch):
    """Workers aborted again and again (their restarts slow under load) must not leave the
    run without workers: uqms replaces the ones its cluster gives up on."""
    import uqms.execution.scheduler
    from uqms.execution import runner

    monkeypatch.setattr(uqms.execution.scheduler.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(runner, "IN_PROCESS_SECONDS", 0.0)  # a cluster even for this small run
    n, rows = 256, [100, 170, 250]  # in three batches, beyond the 64 samples of the probe
    culprits = _workflow(_abort_on, culprits=[]).sample_inputs(0, n, n, 0)["x"][rows]
    store = tmp_path / "run.zarr"
    _workflow(_abort_on, culprits=culprits).run(n=n, scheduler="local", batch_size=8, store=store)
    _flagged_run_equals_the_clean_run(open_run(store), _abort_on, rows, n)


def test_a_small_run_kept_off_a_cluster_survives_aborting_samples(tmp_path, monkeypatch, caplog):
    """A small run is computed in a forked child, not by a cluster: a sample that aborts
    its process costs the child, the driver goes on and flags only that sample."""
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    n, rows = 256, [100, 170, 250]  # beyond the 64 samples of the probe
    culprits = _workflow(_abort_on, culprits=[]).sample_inputs(0, n, n, 0)["x"][rows]
    store = tmp_path / "run.zarr"
    with caplog.at_level("INFO", logger="uqms"):
        _workflow(_abort_on, culprits=culprits).run(n=n, scheduler="local", batch_size=8, store=store)
    assert any("run in a child of this process" in r.getMessage() for r in caplog.records)
    _flagged_run_equals_the_clean_run(open_run(store), _abort_on, rows, n)


def test_a_probe_that_aborts_is_one_clear_error_without_a_cluster(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    culprits = _workflow(_abort_on, culprits=[]).sample_inputs(0, 256, 256, 0)["x"][[3]]
    with pytest.raises(UqmsError, match="the timed probe of the first samples crashed its process"):
        _workflow(_abort_on, culprits=culprits).run(n=256, scheduler="local")


def test_a_small_run_in_a_child_flags_a_sample_that_hangs(monkeypatch):
    from uqms.execution import runner

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    monkeypatch.setattr(runner, "MIN_TASK_TIMEOUT", 1.0)
    n = 128
    culprit = _workflow(_sleep_forever_on, culprit=0.0).sample_inputs(0, n, n, 0)["x"][90]
    run = _workflow(_sleep_forever_on, culprit=culprit).run(n=n, scheduler="local", batch_size=16)
    assert np.flatnonzero(run["status"].values).tolist() == [90]
    assert status_messages(run)[int(run["status"][90])] == TIMED_OUT_MESSAGE


def test_samples_over_the_worker_memory_limit_are_the_only_ones_flagged():
    limit = 500 * 2**20
    n, rows = 128, [70, 120]
    culprits = _workflow(_abort_on, culprits=[]).sample_inputs(0, n, n, 0)["x"][rows]
    with dask.config.set(KILLED_WORKERS), LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit=limit,
    ) as local:
        run = _workflow(_allocate_on, culprits=culprits, nbytes=2 * limit).run(
            n=n, scheduler=local.scheduler_address, batch_size=8)
    _flagged_run_equals_the_clean_run(run, _allocate_on, rows, n, nbytes=2 * limit)


def test_a_nanny_that_gave_up_is_replaced_on_uqms_own_cluster(monkeypatch):
    import uqms.execution.scheduler
    from uqms.execution.scheduler import LostWorkerReplacer, connect

    monkeypatch.setattr(uqms.execution.scheduler.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(uqms.execution.scheduler, "LOST_WORKER_SECONDS", 3)  # the cluster gives up on the lost one sooner
    with connect("local") as client:
        client.wait_for_workers(2, timeout=120)
        cluster, replace = client.cluster, LostWorkerReplacer(client)
        lost = next(iter(cluster.workers.values()))
        cluster.sync(lost.close)  # as a nanny does when its worker fails to start
        deadline = time.monotonic() + 120
        while len(client.nthreads()) > 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        while len(client.nthreads()) < 2 and time.monotonic() < deadline:
            replace()
            time.sleep(0.5)
        assert len(client.nthreads()) == 2 and lost not in cluster.workers.values()
    assert LostWorkerReplacer(Client.__new__(Client)).cluster is None  # not uqms's cluster: left alone


def test_a_scheduler_whose_workers_lack_the_stage_module_is_one_clear_error(tmp_path, monkeypatch):
    (tmp_path / "slow_stages.py").write_text(SLOW_STAGES)
    (tmp_path / "slow.toml").write_text(SLOW_WORKFLOW)
    monkeypatch.syspath_prepend(str(tmp_path))  # here only: not on the scheduler's and worker's path
    stages_missing = r"cannot load the workflow's stages \(No module named 'slow_stages'\)"
    with _dask_command_cluster() as address, pytest.raises(UqmsError, match=stages_missing):
        Workflow.from_file(tmp_path / "slow.toml").run(n=200, scheduler=address)
