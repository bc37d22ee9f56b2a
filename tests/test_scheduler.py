"""Where a run's batches go by default: ``DASK_SCHEDULER_ADDRESS`` when set, else a local
cluster of one single-threaded worker process per core."""

import os

import numpy as np
import pytest
from distributed import LocalCluster

from tests.conftest import REPO
from uqms.execution.scheduler import connect
from uqms.workflow import Workflow

ISHIGAMI = REPO / "workflows" / "ishigami.toml"


@pytest.fixture(scope="module")
def ishigami():
    return Workflow.from_file(ISHIGAMI)


def test_the_default_is_a_local_cluster_of_one_single_threaded_process_per_core(ishigami, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with connect(None) as client:
        assert isinstance(client.cluster, LocalCluster)
        workers = client.scheduler_info()["workers"].values()
        assert len(workers) == (os.cpu_count() or 1) and all(w["nthreads"] == 1 for w in workers)
        assert os.getpid() not in client.run(os.getpid).values()  # worker processes, not threads here
    run = ishigami.run(n=96, batch_size=32, scheduler=None)
    reference = ishigami.run(n=96, batch_size=96, scheduler="synchronous")
    np.testing.assert_array_equal(run.y.values, reference.y.values)


def test_dask_scheduler_address_sends_the_batches_to_that_scheduler(ishigami, monkeypatch):
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        with connect(None) as client:
            assert client.scheduler.address == cluster.scheduler_address
        before = cluster.scheduler.transition_counter
        run = ishigami.run(n=64, batch_size=16, scheduler=None)
        assert cluster.scheduler.transition_counter > before  # its scheduler ran the batches
    np.testing.assert_array_equal(run.y.values, ishigami.run(n=64, scheduler="synchronous").y.values)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "synchronous")
    with connect(None) as client:
        assert client is None
