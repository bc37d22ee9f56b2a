"""Where a run's batches go by default: ``DASK_SCHEDULER_ADDRESS`` when set, else a local
cluster of one single-threaded worker process per core."""

import os
import platform
import subprocess
import sys

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
        assert not any(client.run(sampling_stacks).values())  # no statistical profiler taking their CPU
    run = ishigami.run(n=96, batch_size=32, scheduler=None)
    reference = ishigami.run(n=96, batch_size=96, scheduler="synchronous")
    np.testing.assert_array_equal(run.y.values, reference.y.values)


def test_two_local_clusters_on_one_machine_start_without_a_port_warning(recwarn):
    """Two runs at once on one machine: each cluster's scheduler serves its HTTP routes on a
    free port (the default, 8787, taken by the first, made the second warn)."""
    from uqms.execution.scheduler import local_cluster

    with local_cluster(1) as first, local_cluster(1) as second:
        assert first.scheduler.http_server.port != second.scheduler.http_server.port
    assert not [w for w in recwarn if "port" in str(w.message).lower()], [str(w.message) for w in recwarn]


def sampling_stacks(dask_worker) -> bool:
    """Whether Dask's statistical profiler samples this worker's threads."""
    return "profile" in dask_worker.periodic_callbacks


def page_faults_per_allocation() -> float:
    """Minor page faults of allocating, filling and freeing a 1 MiB numpy array, once warm:
    ~256 (every page, 4 KiB) where glibc maps such arrays afresh each time, ~0 where it
    reuses its heap."""
    import resource

    import numpy as np

    for _ in range(3):
        np.ones(2**17)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(100):
        np.ones(2**17)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 100


LOCAL_WORKER_FAULTS = """
from uqms.execution.scheduler import connect
from tests.test_scheduler import page_faults_per_allocation
with connect("local") as client:
    print(max(client.run(page_faults_per_allocation).values()))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc thresholds: Linux with glibc only")
def test_local_workers_reuse_freed_memory_as_their_driver_does():
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which makes glibc map every array above
    128 KiB afresh (its pages faulted in each time); uqms's cluster allocates as the driver.

    Each in a fresh process: glibc reads its settings once, and workers forked from a
    forkserver get those of the forkserver, which the first cluster of a process starts
    (an earlier test's plain LocalCluster would set them for every later one)."""
    plain = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "DASK_SCHEDULER_ADDRESS"}
    faults_in = {}
    for label, env, script in (
            ("plain", plain, "from tests.test_scheduler import page_faults_per_allocation as f; print(f())"),
            ("dask", {**plain, "MALLOC_TRIM_THRESHOLD_": "65536"},
             "from tests.test_scheduler import page_faults_per_allocation as f; print(f())"),
            ("uqms workers", plain, LOCAL_WORKER_FAULTS)):
        faults_in[label] = float(subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True,
                                                text=True, check=True).stdout.split()[-1])
    assert faults_in["dask"] > 200 and faults_in["plain"] < 20, faults_in  # the probe sees the difference
    assert faults_in["uqms workers"] < 20, faults_in


def test_dask_scheduler_address_sends_the_batches_to_that_scheduler(ishigami, local_cluster, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", local_cluster.scheduler_address)
    with connect(None) as client:
        assert client.scheduler.address == local_cluster.scheduler_address
    before = local_cluster.scheduler.transition_counter
    run = ishigami.run(n=64, batch_size=16, scheduler=None)
    assert local_cluster.scheduler.transition_counter > before  # its scheduler ran the batches
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


class ClusterStarted(Exception):
    """Raised by the stand-in for LocalCluster: a run tried to start a local cluster."""


def _no_cluster(*args, **kwargs):
    raise ClusterStarted


def test_a_small_run_stays_in_this_process_and_says_so(ishigami, monkeypatch, caplog):
    """A run the probe predicts under a few seconds starts no local cluster; a longer one does."""
    import distributed

    from uqms.execution import runner

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    monkeypatch.setattr(distributed, "LocalCluster", _no_cluster)
    with caplog.at_level("INFO", logger="uqms"):
        run = ishigami.run(n=500, scheduler=None)
    assert run.identical(ishigami.run(n=500, scheduler="synchronous"))
    assert any("run in a child of this process (no local cluster started)" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(runner, "IN_PROCESS_SECONDS", 0.0)  # every run predicted long
    with pytest.raises(ClusterStarted):
        ishigami.run(n=500, scheduler="local")


IMPORTED_DURING_THE_PROBE = """
import threading, time
THREAD = threading.current_thread().name
time.sleep(0.2)
"""


def test_the_next_imports_are_made_while_the_forked_child_probes(ishigami, monkeypatch, tmp_path):
    """The driver imports what it needs next on a thread while the child it forked computes
    the probe: the child forked first, the thread joined before the run goes on (nothing
    forks while it imports)."""
    import sys
    import threading

    from uqms.execution import runner
    from uqms.execution.forked import ForkedProcess

    events = []
    fork, start_thread = ForkedProcess.start, threading.Thread.start
    monkeypatch.setattr(ForkedProcess, "start", lambda self: (events.append("fork") if self.child is None else None,
                                                              fork(self)))
    monkeypatch.setattr(threading.Thread, "start", lambda self: (events.append(self.name), start_thread(self)))
    (tmp_path / "imported_during_the_probe.py").write_text(IMPORTED_DURING_THE_PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(runner, "IMPORTED_MEANWHILE", "imported_during_the_probe")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    run = ishigami.run(n=200, scheduler=None)
    assert sys.modules["imported_during_the_probe"].THREAD == "uqms-imports"
    assert events.index("fork") < events.index("uqms-imports")
    assert "uqms-imports" not in [thread.name for thread in threading.enumerate()]
    assert run.identical(ishigami.run(n=200, scheduler="synchronous"))


def test_resuming_a_complete_store_starts_no_scheduler(ishigami, monkeypatch, tmp_path):
    """Nothing left to compute: no cluster, no probe, the stored run returned as it is."""
    import distributed

    from uqms.execution import runner

    store = tmp_path / "run.zarr"
    first = ishigami.run(n=300, batch_size=100, scheduler="synchronous", store=store).load()
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    monkeypatch.setattr(distributed, "LocalCluster", _no_cluster)
    monkeypatch.setattr(runner, "IN_PROCESS_SECONDS", 0.0)
    monkeypatch.setattr(runner, "probe_batch", _no_cluster)
    assert ishigami.run(n=300, store=store, scheduler=None).load().identical(first)
