"""Freed memory kept between batches in a process that evaluates them itself (uqms.execution.malloc)."""

import os
import subprocess
import sys

from tests.conftest import REPO
from uqms.execution import malloc
from uqms.execution.scheduler import WORKER_ENVIRON

FAULTS = '''
import resource, sys
from uqms.workflow import Workflow
from uqms.execution.runner import evaluate_batch
flow = Workflow.from_file(sys.argv[1])
n, size = 8192, 1024

def faults_per_sample(evaluate):
    for start in range(0, n, size):  # once to grow the heap, then counted
        evaluate(start)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for start in range(0, n, size):
        evaluate(start)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / n

alone = faults_per_sample(lambda start: flow.evaluate(flow.sample_inputs(start, start + size, n, flow.seed)))
print(alone, faults_per_sample(lambda start: evaluate_batch(flow, start, start + size, n, flow.seed)))
'''


def test_batches_evaluated_in_this_process_reuse_freed_memory():
    """The site-averaged chain evaluated batch after batch in a process started as Dask's
    nannies start workers (MALLOC_TRIM_THRESHOLD_ 64 KiB, which also fixes glibc's mmap
    threshold at 128 KiB): by itself glibc maps its arrays afresh, their pages faulted in
    again (> 0.5 a sample); evaluate_batch sets glibc's thresholds first and then reuses
    the memory (the chain's own calls made first, in a fresh process). glibc's own dynamic
    thresholds, with no MALLOC_ setting, fault 0 or ~1 a sample from one start to the next."""
    dask_like = {**{k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}, "MALLOC_TRIM_THRESHOLD_": "65536"}
    alone, batches = map(float, subprocess.run(
        [sys.executable, "-c", FAULTS, str(REPO / "workflows" / "ammonia_sites_ensemble.toml")], env=dask_like,
        cwd=REPO, capture_output=True, text=True, check=True).stdout.split())
    assert alone > 0.5 and batches < 0.1, (alone, batches)


def test_local_workers_start_with_the_same_thresholds():
    assert {k: WORKER_ENVIRON[k] for k in malloc.ENVIRON} == malloc.ENVIRON
    assert malloc.ENVIRON["MALLOC_TRIM_THRESHOLD_"] >= 2 * malloc.ENVIRON["MALLOC_MMAP_THRESHOLD_"]
