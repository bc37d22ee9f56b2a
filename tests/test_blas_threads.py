"""A stage evaluates its batches with BLAS on one thread wherever it runs (in this process,
in a forked child, on a Dask worker); the analysis around a run keeps its threads."""

import sys

import chaospy
import cloudpickle
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from uqms import FunctionStage, UncertainInput, Workflow
from uqms.execution import forked

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # for the Dask workers
THREADS_OUTSIDE = 2  # what the test sets around a run, on any machine


def blas_threads() -> int:
    """The most threads any BLAS library loaded in this process may use now."""
    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


def _seen_by_the_stage(x):
    return np.full_like(x, blas_threads())


def _flow() -> Workflow:
    stage = FunctionStage(_seen_by_the_stage, ["x"], ["threads"])
    return Workflow([stage], inputs=[UncertainInput("x", chaospy.Uniform(0, 1))], design="mc", n=300)


def _run_with_threads_outside(scheduler: str, monkeypatch) -> tuple[np.ndarray, int]:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with threadpool_limits(THREADS_OUTSIDE, user_api="blas"):
        assert blas_threads() == THREADS_OUTSIDE
        run = _flow().run(scheduler=scheduler, batch_size=100)
        after = blas_threads()
    return run["threads"].values, after


def test_a_stage_run_in_this_process_sees_one_blas_thread_and_the_caller_keeps_its_own(monkeypatch):
    seen, after = _run_with_threads_outside("synchronous", monkeypatch)
    assert seen.tolist() == [1.0] * 300
    assert after == THREADS_OUTSIDE


@pytest.mark.skipif(not forked.available(), reason="no fork on this platform: small runs start a local cluster")
def test_a_small_run_in_a_forked_child_sees_one_blas_thread(monkeypatch, caplog):
    with caplog.at_level("INFO", logger="uqms"):
        seen, after = _run_with_threads_outside("local", monkeypatch)
    assert any("run in a child of this process" in r.getMessage() for r in caplog.records)
    assert seen.tolist() == [1.0] * 300
    assert after == THREADS_OUTSIDE


def test_a_stage_on_a_dask_worker_sees_one_blas_thread():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run = _flow().run(scheduler=cluster.scheduler_address, batch_size=100)
    assert run["threads"].values.tolist() == [1.0] * 300
