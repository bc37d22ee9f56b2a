"""The run store: fingerprinted (workflow and the content of its files), made atomically, locked, checksummed."""

import json
import socket
import subprocess
import sys

import numpy as np
import pytest

from uqms import Workflow
from uqms.execution.lock import StoreLockedError, lock_path
from uqms.execution.run_store import StoreMismatchError
from uqms.execution.store import DamagedRunError, verify_run

SCALED_STAGES = '''
import numpy as np

class Scaled:
    """y = scale * x, the scale read from a file."""
    inputs, outputs = ("x",), ("y",)

    def __init__(self, scale_file):
        self.scale = float(open(scale_file).read())

    def __call__(self, batch):
        return {"y": self.scale * batch["x"]}
'''

SCALED_WORKFLOW = '''
[workflow]
name = "scaled"

[inputs.x]
distribution = "uniform"
lower = 0.0
upper = 1.0
kind = "aleatoric"

[[chain]]
stage = "scaled_stages:Scaled"
options = { scale_file = "scale.txt" }

[design]
n = 64

[execution]
batch_size = 16
'''


@pytest.fixture
def scaled(tmp_path, monkeypatch):
    """A workflow file whose stage reads ``scale.txt`` beside it."""
    (tmp_path / "scaled_stages.py").write_text(SCALED_STAGES)
    (tmp_path / "scaled.toml").write_text(SCALED_WORKFLOW)
    (tmp_path / "scale.txt").write_text("2.0")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path / "scaled.toml"


def test_a_store_refuses_to_resume_after_a_file_of_the_workflow_changed(scaled, tmp_path):
    store = tmp_path / "run.zarr"
    first = Workflow.from_file(scaled).run(store=store).load()
    (tmp_path / "scale.txt").write_text("3.0")
    with pytest.raises(StoreMismatchError, match=r"scale.txt changed since this store was started"):
        Workflow.from_file(scaled).run(store=store)
    (tmp_path / "scale.txt").write_text("2.0")
    assert Workflow.from_file(scaled).run(store=store).identical(first)


HALF_MADE = '{"attributes":{},"zarr_format":3,"consolidated_metadata":null,"node_type":"group"}'


def test_a_store_whose_creation_was_killed_is_made_again(scaled, tmp_path):
    reference = Workflow.from_file(scaled).run()
    half_made = tmp_path / "old.zarr"  # as left by a kill -9 in the middle of to_zarr
    half_made.mkdir()
    (half_made / "zarr.json").write_text(HALF_MADE)
    assert Workflow.from_file(scaled).run(store=half_made).identical(reference)
    partial = tmp_path / ".new.zarr.partial"  # a creation killed before its rename into place
    (partial / "x").mkdir(parents=True)
    assert Workflow.from_file(scaled).run(store=tmp_path / "new.zarr").identical(reference)
    assert not partial.exists()


def test_a_store_in_use_is_refused_and_a_stale_lock_taken_over(scaled, tmp_path):
    store = tmp_path / "run.zarr"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_path(store).write_text(json.dumps({"pid": other.pid, "host": socket.gethostname(), "since": "now"}))
        with pytest.raises(StoreLockedError, match=rf"run.zarr: in use by another uqms run \(pid {other.pid} on"):
            Workflow.from_file(scaled).run(store=store)
        assert not store.exists()
    finally:
        other.kill()
        other.wait()
    # the owner is dead now: its lock is stale
    assert Workflow.from_file(scaled).run(store=store).identical(Workflow.from_file(scaled).run())
    assert not lock_path(store).exists()


def test_damaged_batches_are_found_and_computed_again(scaled, tmp_path):
    from typer.testing import CliRunner

    from uqms.cli import app

    store = tmp_path / "run.zarr"
    reference = Workflow.from_file(scaled).run(store=store).load()
    assert verify_run(store) == 4
    (store / "y" / "c" / "1").unlink()  # read back as NaN
    (store / "x" / "c" / "2").write_bytes(np.random.default_rng(0).bytes(300))  # undecodable
    with pytest.raises(DamagedRunError, match=r"2 of 4 batches written are damaged \(samples 16:32, 32:48\)"):
        verify_run(store)
    for command in ("verify", "show"):
        result = CliRunner().invoke(app, [command, str(store)], env={"COLUMNS": "300"})
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert "2 of 4 batches written are damaged" in result.output
    assert Workflow.from_file(scaled).run(store=store).identical(reference)
    assert verify_run(store) == 4
