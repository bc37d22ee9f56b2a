"""`uqms run` killed with SIGKILL at chosen and at random moments (store creation, batch
writes, an extension's resize), then run again: the store ends identical to an
uninterrupted run, or the run ends with one clear line; never a hang (every subprocess
has a timeout). Moments are drawn from a seeded generator, so a failure replays."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from uqms import Workflow
from uqms.execution import open_run
from uqms.execution.store import IncompleteRunError

SECONDS = 120  # bound on any one command
SLOW_STAGES = '''
import time

class Slow:
    """y = 2 x + 1, taking 0.05 s a batch."""
    inputs, outputs = ("x",), ("y",)

    def __call__(self, batch):
        time.sleep(0.05)
        return {"y": 2 * batch["x"] + 1}
'''
WORKFLOW = '''
[workflow]
name = "slow"
seed = 5

[inputs.x]
distribution = "normal"
mean = 0.0
std = 1.0
kind = "epistemic"

[[chain]]
stage = "fault_stages:Slow"

[design]
method = "halton"
n = 464

[execution]
batch_size = 32
scheduler = "synchronous"
'''
N = 464  # 14.5 batches: an extension recomputes a last batch cut short
CREATION_WRITES = 6  # Zarr keys written to make the store (metadata of the group and of its 5 arrays)
RUN_WRITES = 5 * 15  # x, y, status, checksum and done of each batch
RESIZES = 5  # x, y, status, batch_checksum, batch_done
# Run the CLI with a function writing the store (Zarr's, or the run store's own writes of
# chunk files) that kills this process (SIGKILL) at the k-th such call.
KILLER = '''
import os, signal, sys
import zarr, zarr.storage
import uqms.execution.run_store as run_store
target, count = sys.argv[1], int(sys.argv[2])
owner, name = {"write": (zarr.storage.LocalStore, "set"), "resize": (zarr.Array, "resize")}[target]
original, calls = getattr(owner, name), [0]

def due():
    calls[0] += 1
    if calls[0] == count:
        os.kill(os.getpid(), signal.SIGKILL)

async def write(self, *args, **kwargs):
    due()
    return await original(self, *args, **kwargs)

def resize(self, *args, **kwargs):
    due()
    return original(self, *args, **kwargs)

def write_file(path, data):
    due()
    return original_file(path, data)

original_file = run_store._write_file
setattr(owner, name, write if target == "write" else resize)
if target == "write":
    run_store._write_file = write_file
from uqms.cli import app
app(sys.argv[3:], prog_name="uqms")
'''
MOMENTS = np.random.default_rng(15)


@pytest.fixture
def slow(tmp_path, monkeypatch):
    (tmp_path / "fault_stages.py").write_text(SLOW_STAGES)
    (tmp_path / "slow.toml").write_text(WORKFLOW)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    return tmp_path / "slow.toml"


def _reference(flow_file, n=N):
    """An uninterrupted run of the same file (runs name their workflow file)."""
    return Workflow.from_file(flow_file).run(n=n)


def _uqms(*arguments, kill_at: tuple[str, int] | None = None) -> subprocess.CompletedProcess:
    """Run ``uqms ARGUMENTS`` (killed at the k-th store write or resize if ``kill_at``)."""
    prefix = ["-c", KILLER, *map(str, kill_at)] if kill_at else ["-m", "uqms.cli"]
    return subprocess.run([sys.executable, *prefix, *map(str, arguments)], check=False, capture_output=True, text=True,
                          timeout=SECONDS, env={**os.environ, "COLUMNS": "300"})


def _resumed(flow_file, store, n=N):
    """The store after ``uqms run`` finishes it (in this process: quicker than a new one)."""
    return Workflow.from_file(flow_file).run(n=n, store=store)


@pytest.mark.parametrize("kill_at", [("write", int(k)) for k in MOMENTS.choice(np.arange(1, CREATION_WRITES + 1), 2,
                                                                              replace=False)]
                         + [("write", int(k)) for k in MOMENTS.integers(CREATION_WRITES + 1, CREATION_WRITES + RUN_WRITES, 2)])
def test_a_run_killed_while_writing_resumes_to_the_uninterrupted_run(slow, kill_at):
    store = slow.with_name("run.zarr")
    killed = _uqms("run", slow, "--out", store, "--quiet", kill_at=kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _resumed(slow, store).identical(_reference(slow))


@pytest.mark.parametrize("delay", MOMENTS.uniform(0.5, 5.0, 2).round(2).tolist())
def test_a_run_killed_at_a_random_moment_resumes_to_the_uninterrupted_run(slow, delay):
    store = slow.with_name("run.zarr")
    process = subprocess.Popen([sys.executable, "-m", "uqms.cli", "run", str(slow), "--out", str(store), "--quiet"],
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=SECONDS)
    assert _resumed(slow, store).identical(_reference(slow))


@pytest.mark.parametrize("resize", sorted(MOMENTS.choice(np.arange(1, RESIZES + 1), 2, replace=False).tolist()))
def test_an_extension_killed_while_resizing_rolls_back_or_finishes(slow, resize):
    store = slow.with_name("run.zarr")
    Workflow.from_file(slow).run(store=store)
    killed = _uqms("run", slow, "--n", 2 * N, "--out", store, "--quiet", kill_at=("resize", resize))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    if resize > 1:  # some arrays resized, not all: the store says so until run again
        shown = _uqms("show", store)
        assert shown.returncode == 2 and "Traceback" not in shown.stdout + shown.stderr
        assert "an extension of this run to more samples was interrupted" in shown.stdout
        with pytest.raises(IncompleteRunError, match=f"or with n {N} to roll it back"):
            open_run(store)
    rolled = _uqms("run", slow, "--n", N, "--out", store, "--quiet")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert open_run(store).identical(_reference(slow))
    _uqms("run", slow, "--n", 2 * N, "--out", store, "--quiet", kill_at=("resize", resize))
    assert _resumed(slow, store, 2 * N).identical(_reference(slow, 2 * N))  # the extension finished
