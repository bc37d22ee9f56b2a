"""The run store: fingerprinted by the workflow and the content of its files."""

import pytest

from uqms import Workflow
from uqms.execution.run_store import StoreMismatchError

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
