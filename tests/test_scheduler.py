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


def test_a_run_through_a_tls_scheduler_equals_the_synchronous_run(tmp_path):
    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    from tests.conftest import REPO
    from uqms import Workflow

    flow = Workflow.from_file(REPO / "workflows" / "ishigami.toml")
    security = Security.temporary()  # in-memory CA and certificates
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tls://", security=security, dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        run = flow.run(n=256, batch_size=64, scheduler=cluster.scheduler_address, tls=security)
    assert run.identical(flow.run(n=256, batch_size=64, scheduler="synchronous"))


def test_a_tls_scheduler_without_tls_settings_is_refused_clearly(monkeypatch):
    import pytest

    from uqms.errors import UqmsError
    from uqms.execution.scheduler import security_for

    for name in ("DASK_DISTRIBUTED__COMM__TLS__CA_FILE", "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UqmsError, match="tls:// scheduler needs TLS settings and none were found: give --tls-ca-file"):
        security_for("tls://127.0.0.1:8786")
    with pytest.raises(UqmsError, match="execution.tls.key_file: missing"):
        security_for("tls://127.0.0.1:8786", {"ca_file": "ca.pem", "cert_file": "c.pem"})
    assert security_for("tcp://127.0.0.1:8786") is None
