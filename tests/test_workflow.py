"""Runs: the chain evaluated on the design, one Dataset with units, statuses and provenance."""

import json

import chaospy
import numpy as np
import pytest

from tests.conftest import REPO
from uqms import Constant, FunctionStage, UncertainInput, Workflow
from uqms.errors import UqmsError, WorkflowError
from uqms.execution import status_messages
from uqms.test_functions import ishigami

ISHIGAMI = REPO / "workflows" / "ishigami.toml"


def test_ishigami_run_matches_analytic_mean_and_variance():
    run = Workflow.from_file(ISHIGAMI).run(n=100_000)
    y = run["y"].values
    assert abs(y.mean() - ishigami.mean()) < 0.01 * ishigami.mean()
    assert abs(y.var() - ishigami.variance()) < 0.01 * ishigami.variance()
    assert abs(ishigami.variance() - 13.8446) < 1e-4  # REFERENCES.md value


def test_run_dataset_carries_units_roles_status_and_provenance():
    run = Workflow.from_file(ISHIGAMI).run(n=64)
    assert dict(run.sizes) == {"sample": 64}
    for name in ("x1", "x2", "x3"):
        assert run[name].attrs["role"] == "input" and run[name].attrs["units"] == "rad"
    assert run["x3"].attrs["kind"] == "epistemic"
    assert run["y"].attrs == {"role": "output", "units": "1"}
    assert float(run["a"]) == 7.0 and run["a"].attrs["role"] == "constant"
    assert np.all(run["status"].values == 0)
    assert status_messages(run)[0] == "ok"
    assert run.attrs["workflow_text"] == ISHIGAMI.read_text()
    versions = json.loads(run.attrs["versions"])
    assert {"uqms", "numpy", "chaospy", "xarray"} <= set(versions)
    assert run.attrs["seed"] == 2024 and run.attrs["design"] == "sobol"


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol", "halton"])
def test_run_does_not_depend_on_batch_size(method, tmp_path):
    path = tmp_path / "flow.toml"
    path.write_text(ISHIGAMI.read_text().replace('method = "sobol"', f'method = "{method}"'))
    flow = Workflow.from_file(path)
    reference = flow.run(n=300, batch_size=300)
    for batch_size in (1, 7, 1000):
        assert reference.identical(flow.run(n=300, batch_size=batch_size))


def test_seed_changes_the_samples():
    flow = Workflow.from_file(ISHIGAMI)
    assert not np.array_equal(flow.run(n=16, seed=1)["x1"], flow.run(n=16, seed=2)["x1"])


def _brittle(x, c):
    if np.any(x > 0.9):
        raise RuntimeError("model diverged")
    return np.where(x < 0.1, np.nan, c * x)


def test_failed_samples_keep_their_rows_with_a_status():
    flow = Workflow(
        [FunctionStage(_brittle, ["x", "c"], ["y"], {"y": "1/s"}, name="brittle")],
        inputs=[UncertainInput("x", chaospy.Uniform(0, 1), unit="eV")],
        constants=[Constant("c", 2.0)],
        design="mc", n=1000, batch_size=64,
    )
    run = flow.run()
    x, y, status = run["x"].values, run["y"].values, run["status"].values
    messages = status_messages(run)
    assert run.sizes["sample"] == 1000
    assert {messages[s] for s in status[x > 0.9]} == {"stage 'brittle' raised an exception"}
    assert {messages[s] for s in status[x < 0.1]} == {"stage 'brittle' returned non-finite values"}
    good = (x >= 0.1) & (x <= 0.9)
    assert np.all(status[good] == 0) and np.allclose(y[good], 2 * x[good])


def test_a_workflow_needs_an_uncertain_input():
    with pytest.raises(WorkflowError, match="at least one uncertain input"):
        Workflow([FunctionStage(lambda c: c, ["c"], ["y"])], constants=[Constant("c", 1.0)])


class _FailsBelow:
    """Raises on a whole batch holding any x below ``threshold`` (a solver that gives up on the batch)."""

    inputs = ("x",)
    outputs = ("e",)
    units = {"e": "eV"}
    name = "first"

    def __init__(self, threshold: float):
        self.threshold = threshold

    def __call__(self, batch):
        if np.any(batch["x"] < self.threshold):
            raise RuntimeError("no convergence")
        return {"e": batch["x"]}


def _coverages(e):
    return {"theta": np.column_stack([e, 1 - e]), "rate": np.exp(e)}


def _coverage_stage():
    later = FunctionStage(_coverages, ["e"], ["theta", "rate"], units={"theta": "1", "rate": "1/s"})
    later.output_dims, later.output_coords = {"theta": ("adsorbate",)}, {"adsorbate": ["N*", "*"]}
    return later


def test_batches_whose_every_sample_fails_early_keep_their_rows():
    flow = Workflow([_FailsBelow(0.7), _coverage_stage()], [UncertainInput("x", chaospy.Uniform(0, 1))])
    run = flow.run(n=64, batch_size=4)
    ok = run.status.values == 0
    assert run.sizes == {"sample": 64, "adsorbate": 2} and 0 < ok.sum() < 32
    assert np.isnan(run.theta.values[~ok]).all() and np.isnan(run.rate.values[~ok]).all()
    np.testing.assert_allclose(run.theta.values[ok, 0], run.x.values[ok])
    assert {status_messages(run)[c] for c in np.unique(run.status.values[~ok])} == {
        "stage 'first' raised an exception"}


def test_a_chain_in_which_every_sample_fails_early_is_refused_before_the_run():
    flow = Workflow([_FailsBelow(2.0), _coverage_stage()], [UncertainInput("x", chaospy.Uniform(0, 1))])
    with pytest.raises(UqmsError, match="every one of the first .* samples failed: stage 'first' raised an exception"):
        flow.run(n=64, batch_size=4)


@pytest.mark.parametrize(("section", "key", "expected"), [
    ('[analysis]\noutputs = ["y", "nope"]\n', "analysis.outputs", "['nope'] not among the workflow's outputs"),
    ('[calibration]\ninputs = ["x4"]\n', "calibration.inputs", "['x4'] not among the workflow's inputs"),
])
def test_unknown_names_to_analyse_or_calibrate_are_refused_when_read(tmp_path, ishigami_text, section, key, expected):
    from uqms.errors import WorkflowError

    text = ishigami_text[: ishigami_text.index("# Reductions")] + section
    (tmp_path / "flow.toml").write_text(text)
    with pytest.raises(WorkflowError) as caught:
        Workflow.from_file(tmp_path / "flow.toml")
    assert caught.value.key == key and expected in caught.value.message
