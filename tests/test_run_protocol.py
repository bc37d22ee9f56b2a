"""The executor runs anything that samples inputs, evaluates a batch and describes itself:
a model written without a Workflow runs, stores and resumes like one; a workflow on
posterior draws wraps its workflow instead of copying it."""

import dataclasses
import pickle

import arviz as az
import chaospy
import numpy as np
import pytest

from tests.conftest import REPO
from uqms import FunctionStage, UncertainInput
from uqms.calibration.posterior_inputs import PosteriorWorkflow, posterior_workflow
from uqms.errors import WorkflowError
from uqms.execution import execute, input_names, open_run
from uqms.execution.protocol import (
    InputDescription,
    OutputDescription,
    RunDescription,
    Runnable,
)
from uqms.execution.run_store import StoreMismatchError, fingerprint
from uqms.workflow import Workflow

ISHIGAMI = REPO / "workflows" / "ishigami.toml"


class Parabola:
    """y = a x^2 on x ~ U(0, 1) drawn from the sample index alone, written without a Workflow."""

    def __init__(self, a: float = 2.0):
        self.a = a

    def sample_inputs(self, start, stop, n_total, seed):
        return {"x": np.array([np.random.default_rng([seed, i]).random() for i in range(start, stop)])}

    def evaluate(self, inputs):
        y = self.a * inputs["x"] ** 2
        return {"y": y, "status": np.where(inputs["x"] > 0.9, 1, 0).astype(np.int32)}

    def describe(self):
        return RunDescription(
            name="parabola", source="<test>", source_text="", content=f"y = {self.a} x^2", files={},
            design="mc", design_by="input", design_blocks={"x": ["x"]}, fixed_n=None, inner=0,
            sample_dims=("sample",),
            inputs=(InputDescription("x", "m", "epistemic", "x", "position", "Uniform(0, 1)", False),),
            constants=(), outputs=(OutputDescription("y", None, "m^2", (0.0, None)),),
            status_messages={1: "x beyond 0.9"},
        )


def test_a_model_written_without_a_workflow_runs_stores_and_resumes(tmp_path):
    model = Parabola()
    assert isinstance(model, Runnable)
    store = tmp_path / "parabola.zarr"
    run = execute(model, 40, seed=3, batch_size=8, scheduler="synchronous", store=store).load()
    x = np.array([np.random.default_rng([3, i]).random() for i in range(40)])
    np.testing.assert_array_equal(run["x"].values, x)
    np.testing.assert_allclose(run["y"].values, 2.0 * x**2)
    np.testing.assert_array_equal(run["status"].values, (x > 0.9).astype(int))
    assert run.attrs["workflow"] == "parabola" and run["y"].attrs["units"] == "m^2" and run["y"].attrs["valid_min"] == 0
    assert run["x"].attrs["units"] == "m" and "x beyond 0.9" in run["status"].attrs["flag_meanings"]
    # extended (the description says its samples do not depend on n): only the new samples computed
    more = execute(model, 56, seed=3, batch_size=8, scheduler="synchronous", store=store).load()
    np.testing.assert_array_equal(more["x"].values[:40], x)
    # another model content is another run: its store is refused
    with pytest.raises(StoreMismatchError, match="holds another run"):
        execute(Parabola(a=3.0), 56, seed=3, scheduler="synchronous", store=store)
    assert fingerprint(Parabola(), 56, 3) != fingerprint(Parabola(a=3.0), 56, 3)


def test_a_workflow_is_described_as_its_run_records_it(tmp_path):
    flow = Workflow.from_file(ISHIGAMI)
    assert isinstance(flow, Runnable)
    about = flow.describe()
    flow.run(n=16, store=tmp_path / "run.zarr")
    run = open_run(tmp_path / "run.zarr")
    assert about.input_names == list(flow.inputs.names) == input_names(run)
    assert about.output_names == list(flow.chain.outputs) and about.content == flow.source_text
    assert run.attrs["workflow_text"] == about.source_text and run.attrs["design"] == about.design
    assert {spec.name: spec.distribution for spec in about.inputs} == {
        name: run[name].attrs["distribution"] for name in about.input_names}


def test_the_posterior_workflow_wraps_its_workflow_and_pickles(tmp_path):
    flow = Workflow.from_file(ISHIGAMI)
    draws = {"x1": np.linspace(-1.0, 1.0, 50), "x2": np.linspace(2.0, 3.0, 50)}
    posterior = PosteriorWorkflow(flow, draws, "cal.nc")
    assert isinstance(posterior, Runnable) and posterior.workflow is flow
    assert "chain" not in vars(posterior) and posterior.chain is flow.chain  # read through, not copied
    assert posterior.name == "ishigami_posterior" and flow.name == "ishigami"
    posterior.output = "elsewhere.zarr"
    assert flow.output != "elsewhere.zarr"
    about = posterior.describe()
    assert about.posterior_inputs == ("x1", "x2") and about.source_text.startswith(flow.source_text.rstrip())
    assert "cal.nc" in about.source_text and about.content == about.source_text
    assert {spec.name: spec.distribution for spec in about.inputs if spec.name in draws} == dict.fromkeys(
        draws, "posterior draws from cal.nc")
    assert dataclasses.replace(about, name="x") != about  # a plain value: compared, replaced, pickled
    copy = pickle.loads(pickle.dumps(posterior))
    values = copy.sample_inputs(0, 32, 32, 5)
    np.testing.assert_array_equal(values["x1"], posterior.sample_inputs(0, 32, 32, 5)["x1"])
    index = np.rint((values["x1"] + 1.0) / 2.0 * 49).astype(int)
    np.testing.assert_allclose(values["x2"], draws["x2"][index])  # both calibrated inputs from one draw
    np.testing.assert_array_equal(values["x3"], flow.sample_inputs(0, 32, 32, 5)["x3"])
    run = posterior.run(n=32, seed=5)
    np.testing.assert_array_equal(run["x1"].values, values["x1"])
    assert run.attrs["workflow"] == "ishigami_posterior" and run.attrs["posterior_inputs"] == '["x1", "x2"]'
    assert fingerprint(posterior, 32, 5) != fingerprint(flow, 32, 5)
    with pytest.raises(AttributeError):
        _ = posterior.no_such_attribute


def test_posterior_draws_that_cannot_replace_the_inputs_are_refused(tmp_path):
    flow = Workflow.from_file(ISHIGAMI)
    with pytest.raises(WorkflowError, match="expected the same, non-zero number of draws of every input"):
        PosteriorWorkflow(flow, {"x1": np.zeros(3), "x2": np.zeros(4)}, "cal.nc")
    with pytest.raises(WorkflowError, match="expected the same, non-zero number"):
        PosteriorWorkflow(flow, {"x1": np.zeros(0)}, "cal.nc")
    nested = Workflow([FunctionStage(lambda a, b: a + b, ["a", "b"], ["y"])],
                      [UncertainInput("a", chaospy.Uniform(), "epistemic"), UncertainInput("b", chaospy.Uniform(), "aleatoric")],
                      inner=4)
    with pytest.raises(WorkflowError, match="design.inner: posterior draws replace inputs of flat designs only"):
        PosteriorWorkflow(nested, {"a": np.zeros(3)}, "cal.nc")
    garbage = tmp_path / "cal.nc"
    garbage.write_text("not a NetCDF file")
    with pytest.raises(WorkflowError, match="cal.nc: not a calibration NetCDF file"):
        posterior_workflow(flow, garbage)
    no_posterior = az.from_dict(prior={"x1": np.zeros((1, 5))})
    with pytest.raises(WorkflowError, match="posterior: no posterior of calibrated inputs; expected a file written by"):
        posterior_workflow(flow, no_posterior)
