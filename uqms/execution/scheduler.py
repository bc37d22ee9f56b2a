"""Where batches run: in this process, on a local Dask cluster, or on any Dask scheduler."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from uqms.errors import UqmsError
from uqms.execution import malloc

SYNCHRONOUS = "synchronous"
LOCAL = "local"
LOST_WORKER_SECONDS = 45  # a worker of uqms's own cluster missing this long has its nanny replaced
log = logging.getLogger("uqms")


SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")  # those distributed knows


def check_scheduler(value: str) -> str:
    """``value`` if it names a scheduler: ``"synchronous"``, ``"local"`` or ``SCHEME://HOST[:PORT]``.

    Raises:
        ValueError: saying what was expected.
    """
    scheme, separator, host = value.partition("://")
    if value in (SYNCHRONOUS, LOCAL) or (separator and scheme in SCHEMES and host):
        return value
    raise ValueError(f"unknown scheduler {value!r}: expected 'synchronous', 'local' or a Dask scheduler address "
                     f"such as 'tcp://host:8786' (schemes {', '.join(SCHEMES)})")


def scheduler_address(scheduler: str | None) -> str | None:
    """The scheduler asked for: the argument, else ``DASK_SCHEDULER_ADDRESS``, else None (local cluster)."""
    return scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


TLS_KEYS = ("ca_file", "cert_file", "key_file")


def security_for(address: str, tls=None):
    """The ``distributed.security.Security`` of a ``tls://`` address (None for other schemes).

    Args:
        tls: a ``Security``, or ``{ca_file, cert_file, key_file}`` (paths), or None for
            Dask's own configuration (``distributed.comm.tls.ca-file``, ``.client.cert``,
            ``.client.key``, from its YAML files or ``DASK_DISTRIBUTED__COMM__TLS__...``).

    Raises:
        UqmsError: no TLS settings found, or a file missing, naming the key.
    """
    if not address.startswith("tls://"):
        return None
    from distributed.security import Security

    if isinstance(tls, Security):
        return tls
    if tls:
        for key in TLS_KEYS:
            if not tls.get(key):
                raise UqmsError(f"execution.tls.{key}: missing; a tls:// scheduler needs ca_file, cert_file and key_file")
        for key in TLS_KEYS:
            if not Path(tls[key]).is_file():
                raise UqmsError(f"execution.tls.{key}: no such file {tls[key]}")
        return Security(tls_ca_file=str(tls["ca_file"]), tls_client_cert=str(tls["cert_file"]),
                        tls_client_key=str(tls["key_file"]), require_encryption=True)
    security = Security()
    if not (security.tls_ca_file and security.tls_client_cert):
        raise UqmsError(
            f"scheduler {address}: a tls:// scheduler needs TLS settings and none were found: give --tls-ca-file, "
            "--tls-cert and --tls-key, or [execution] tls = {ca_file, cert_file, key_file} in the workflow file, or "
            "Dask's distributed.comm.tls.ca-file / .client.cert / .client.key configuration"
        )
    return security


def local_workers(cores: int, resources: dict[str, float] | None = None) -> tuple[int, dict[str, float]]:
    """Worker processes of a local cluster on ``cores`` cores and the resources each advertises:
    one per core, or, for tasks that need ``resources`` (``{"cores": 4}``), one per that many
    cores (at least one), each with exactly what one task needs, so it runs one at a time."""
    resources = dict(resources or {})
    return max(1, int(cores // max(1.0, resources.get("cores", 1.0)))), resources


@contextmanager
def connect(scheduler: str | None, tls=None, resources: dict[str, float] | None = None,
            ) -> Iterator[distributed.Client | None]:  # noqa: F821
    """Yield a Dask client, or None for ``"synchronous"`` (evaluate in this process).

    Args:
        scheduler: ``"synchronous"``, a scheduler address such as ``"tcp://host:8786"``,
            or ``"local"`` (or None) for a ``LocalCluster`` of one single-threaded worker
            process per core (model code is Python-heavy: threads would share the GIL).
        tls: the TLS settings of a ``tls://`` address (see :func:`security_for`).
        resources: what one task needs (``{"cores": 4}``): a local cluster's workers get it
            (see :func:`local_workers`); the workers of another scheduler must have been
            started with it (``dask worker ADDRESS --resources "cores=4"``).
    """
    address = scheduler_address(scheduler)
    if address == SYNCHRONOUS:
        yield None
        return
    from distributed import Client

    if address and address != LOCAL:
        try:
            client = Client(check_scheduler(address), security=security_for(address, tls))
        except (OSError, TimeoutError) as error:
            raise UqmsError(f"cannot reach the Dask scheduler {address} ({error}): start it, or choose another "
                            "scheduler") from None
        except ValueError as error:
            raise UqmsError(f"scheduler: {error}") from None
        with client:
            yield client
        return
    with local_cluster(*local_workers(os.cpu_count() or 1, resources)) as cluster, Client(cluster) as client:
        yield client


# Environment of the worker processes of uqms's local cluster, set by their nannies before
# they start: BLAS on one thread (uqms.execution.blas), and glibc's malloc thresholds of
# uqms.execution.malloc, which replace Dask's own (distributed.nanny.pre-spawn-environ:
# MALLOC_TRIM_THRESHOLD_ 64 KiB, which also fixes glibc's mmap threshold at 128 KiB; every
# numpy temporary above it is then mapped afresh and its pages faulted in, which cost the
# chains' batches 1.3-1.8x the CPU they take in the driver: ammonia 7.6 against 4.2 us a
# sample, site-averaged 47 against 31, PFR 316 against 243), whatever the driver's
# environment holds (a nanny started earlier in it leaves Dask's there).
WORKER_ENVIRON = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1, **malloc.ENVIRON}

@contextmanager
def local_cluster(workers: int, resources: dict[str, float] | None = None) -> Iterator[distributed.LocalCluster]:  # noqa: F821
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes (each advertising
    ``resources``), set up as uqms runs its batches on it.

    A task whose worker dies fails at once (uqms bisects it to the samples that kill
    workers) rather than after killing ``allowed-failures`` more of them; Ctrl-C is the
    driver's alone (see worker_setup); workers run with ``WORKER_ENVIRON`` and without Dask's
    statistical profiler (it walks the busy thread's stack every 10 ms, on the worker's event
    loop, for a dashboard uqms does not serve: 3-4 % of a worker's CPU on the ammonia chain). Workers forked
    from a server that has imported distributed restart in ~0.5 s instead of ~4 s when
    spawned afresh (2 loaded cores): a run whose samples kill workers pays that at every death.
    A nanny gets ``LOST_WORKER_SECONDS`` to restart its worker before its cluster closes it
    (Dask's 15 s is short on loaded machines, and the close races with a late restart,
    killing the task just given to it); :class:`LostWorkerReplacer` starts a new one then.
    """
    import dask
    from distributed import LocalCluster

    settings = {"distributed.scheduler.allowed-failures": 0, "distributed.worker.preload": ["uqms.execution.worker_setup"],
                "distributed.deploy.lost-worker-timeout": f"{LOST_WORKER_SECONDS}s",
                "distributed.nanny.pre-spawn-environ": WORKER_ENVIRON, "distributed.worker.profile.enabled": False}
    if "forkserver" in multiprocessing.get_all_start_methods():
        settings["distributed.worker.multiprocessing-method"] = "forkserver"
    with dask.config.set(settings), LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, resources=resources or None,
        silence_logs=logging.ERROR,  # uqms logs the samples a lost worker or timeout cost
        # no dashboard; the scheduler's HTTP server (health, metrics) on a free port, not on
        # 8787 (a second run on this machine would warn "Port 8787 is already in use")
        scheduler_kwargs={"dashboard_address": ":0"},
    ) as cluster:
        yield cluster


class LostWorkerReplacer:
    """Keeps the local cluster uqms started at its size.

    Its nannies restart a worker process that dies, but one that restarts slower than
    Dask's ``distributed.deploy.lost-worker-timeout`` (``LOST_WORKER_SECONDS``) is closed
    by its cluster and never started again, and one whose start fails stays failed: a run
    whose samples kill workers would end with none. Called now and then, this starts a new nanny for each closed or
    failed one. A client of a scheduler uqms did not start gets a replacer that does nothing.
    """

    def __init__(self, client):
        cluster = getattr(client, "cluster", None)
        self.cluster = cluster if hasattr(cluster, "worker_spec") else None
        self.starting: set = set()  # names of the workers being started again

    def __call__(self) -> None:
        cluster = self.cluster
        if cluster is None or cluster.status.name != "running":
            return
        size = len(cluster.worker_spec)
        failed = [name for name, nanny in cluster.workers.items() if nanny.status.name in ("failed", "closed")]
        for name in failed:  # renamed: its old nanny is closed and a new one started
            del cluster.worker_spec[name]
        closed = set(cluster.worker_spec) - set(cluster.workers)  # started again under their names
        self.starting &= closed
        if failed or closed - self.starting:
            log.warning("the local cluster lost workers %s (their nannies could not restart them): starting new ones",
                        sorted(map(str, [*failed, *closed - self.starting])))
            self.starting |= closed
        if failed or closed:
            cluster.scale(size)
