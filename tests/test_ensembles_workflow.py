"""[ensembles.NAME] sections of workflow files, and sites.average with nested file options."""

from pathlib import Path

import numpy as np
import pytest

from uqms.errors import WorkflowError
from uqms.models import FunctionStage
from uqms.workflow import Workflow

barrier = FunctionStage(lambda E_N, E_TS: E_TS - E_N, ["E_N", "E_TS"], ["difference"], {"difference": "eV"}, "difference")


class OffsetFromFile:
    """A stage adding a number read from ``offset_file`` (to test nested file options)."""

    def __init__(self, offset_file):
        self.offset = float(Path(offset_file).read_text())
        self.inputs, self.outputs = ("E_N",), ("shifted",)

    def __call__(self, batch):
        return {"shifted": batch["E_N"] + self.offset}


def _write(tmp_path, text, values):
    np.savetxt(tmp_path / "members.csv", values, delimiter=",", header="E_N,E_TS", comments="")
    path = tmp_path / "flow.toml"
    path.write_text(text)
    return path


ENSEMBLE_FLOW = f"""
[workflow]
name = "ensemble_flow"
seed = 3

[inputs.unused]
distribution = "uniform"
lower = 0.0
upper = 1.0
kind = "aleatoric"

[ensembles.beef]
file = "members.csv"
mode = "{{mode}}"
group = "functional"

[[chain]]
stage = "{__name__}:barrier"

[design]
method = "mc"
n = 64
"""


@pytest.fixture(autouse=True)
def trust_this_module(monkeypatch):
    """The workflows name stages of this test module by import path: trusted explicitly, as a user would."""
    monkeypatch.setenv("UQMS_ALLOW_IMPORT", __name__.partition(".")[0])


def test_member_mode_adds_an_index_input_and_a_lookup_stage(tmp_path):
    values = np.random.default_rng(0).normal(size=(12, 2))
    workflow = Workflow.from_file(_write(tmp_path, ENSEMBLE_FLOW.format(mode="member"), values))
    assert workflow.inputs.names == ("unused", "beef_member")
    assert workflow.inputs["beef_member"].group == "functional"
    assert workflow.chain.stages[0].name == "ensemble.member(beef)"
    run = workflow.run(scheduler="synchronous")
    member = run["beef_member"].values.astype(int)
    np.testing.assert_allclose(run["difference"].values, values[member, 1] - values[member, 0])
    assert len(np.unique(member)) > 6


def test_pca_mode_adds_one_standard_normal_per_kept_component(tmp_path):
    rng = np.random.default_rng(1)
    e_n = rng.normal(size=200)
    values = np.column_stack([e_n, 1.57 * e_n + 0.3])  # rank 1: one component holds all the variance
    workflow = Workflow.from_file(_write(tmp_path, ENSEMBLE_FLOW.format(mode="pca"), values))
    assert workflow.inputs.names == ("unused", "beef_pc1")
    out = workflow.evaluate(workflow.sample_inputs(0, 64))
    np.testing.assert_allclose(out["E_TS"], 1.57 * out["E_N"] + 0.3, atol=1e-9)


def test_bad_ensemble_file_is_named_with_its_section(tmp_path):
    values = np.array([[0.1, np.nan], [0.2, 0.3]])
    with pytest.raises(WorkflowError, match=r"flow.toml: ensembles.beef: .*non-finite"):
        Workflow.from_file(_write(tmp_path, ENSEMBLE_FLOW.format(mode="member"), values))
    with pytest.raises(WorkflowError, match=r"ensembles.beef.mode"):
        Workflow.from_file(_write(tmp_path, ENSEMBLE_FLOW.format(mode="median"), values))
    path = _write(tmp_path, ENSEMBLE_FLOW.format(mode="member"), values)
    (tmp_path / "members.csv").unlink()
    with pytest.raises(WorkflowError, match=r"ensembles.beef: .*members.csv: no such ensemble file"):
        Workflow.from_file(path)


def test_site_average_in_a_workflow_file_resolves_nested_file_options(tmp_path):
    (tmp_path / "offset.txt").write_text("0.25")
    path = tmp_path / "sites.toml"
    path.write_text(f"""
[workflow]
name = "sites_flow"

[inputs.E_N]
distribution = "normal"
mean = 0.0
std = 0.1
kind = "epistemic"

[[chain]]
stage = "sites.average"
[chain.options]
descriptor = "E_N"
sites = {{ kind = "discrete", labels = ["step", "terrace"], weights = [1, 3], shifts = [0.0, 0.4] }}
stage = [{{ stage = "{__name__}:OffsetFromFile", options = {{ offset_file = "offset.txt" }} }}]

[design]
n = 8
""")
    workflow = Workflow.from_file(path)
    out = workflow.evaluate(workflow.sample_inputs(0, 8))
    e_n = workflow.sample_inputs(0, 8)["E_N"]
    np.testing.assert_allclose(out["shifted"], e_n + 0.25 + 0.75 * 0.4)


def test_a_db_ensemble_that_is_not_a_database_is_named(tmp_path):
    from tests.conftest import REPO

    text = (REPO / "workflows" / "ammonia_sites_ensemble.toml").read_text()
    (tmp_path / "bad.db").write_bytes(b"not an SQLite file")
    (tmp_path / "ammonia_mechanism.toml").write_text((REPO / "workflows" / "ammonia_mechanism.toml").read_text())
    path = tmp_path / "flow.toml"
    path.write_text(text.replace('file = "data/ammonia_beef_ensemble.csv"', 'file = "bad.db"'))
    with pytest.raises(WorkflowError) as caught:
        Workflow.from_file(path)
    assert caught.value.key == "ensembles.functional" and "bad.db: not an ASE database" in caught.value.message
