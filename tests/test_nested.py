"""Nested designs: epistemic outer samples, each with a distribution of aleatoric inner draws."""

import chaospy
import numpy as np
import pytest

from uqms import Correlation, FunctionStage, UncertainInput, Workflow, load_run
from uqms.analysis.variance_split import variance_split
from uqms.errors import WorkflowError
from uqms.execution import status_messages

EPISTEMIC = UncertainInput("e", chaospy.Normal(0, 1), kind="epistemic", unit="eV")
ALEATORIC = UncertainInput("a", chaospy.Uniform(0, 1), kind="aleatoric", unit="eV")


def _sum(e, a):
    return np.where(a > 0.999, np.nan, e + a)


def _workflow(n=50, inner=40, design="sobol"):
    stage = FunctionStage(_sum, ["e", "a"], ["y"], {"y": "eV"}, name="sum")
    return Workflow([stage], inputs=[EPISTEMIC, ALEATORIC], design=design, n=n, inner=inner, seed=3)


def test_run_has_sample_and_inner_dims():
    run = _workflow().run()
    assert run["e"].dims == ("sample",)
    assert run["a"].dims == ("sample", "inner")
    assert run["y"].dims == run["status"].dims == ("sample", "inner")
    assert dict(run.sizes) == {"sample": 50, "inner": 40}
    ok = run["status"].values == 0
    assert ok.sum() > 1900
    assert np.allclose(run["y"].values[ok], (run["e"] + run["a"]).values[ok])
    # every outer sample has draws of its own, spread over the whole aleatoric range
    a = run["a"].values
    assert not np.array_equal(a[0], a[1])
    assert a.min() < 0.05 and a.max() > 0.95


def test_failed_inner_draws_keep_their_place_with_a_status():
    run = _workflow(n=200, inner=50, design="mc").run()
    failed = run["a"].values > 0.999
    assert failed.any()
    assert np.array_equal(run["status"].values != 0, failed)
    assert {status_messages(run)[s] for s in run["status"].values[failed]} == {"stage 'sum' returned non-finite values"}


@pytest.mark.parametrize("design", ["mc", "lhs", "sobol", "halton"])
def test_nested_run_does_not_depend_on_batch_size(design):
    flow = _workflow(design=design)
    reference = flow.run(batch_size=50)
    for batch_size in (1, 7):
        assert flow.run(batch_size=batch_size).identical(reference)


def test_variance_split_of_a_sum_is_the_two_variances():
    # y = e + a, e ~ N(0, 1) epistemic, a ~ U(0, 1) aleatoric: Var = 1 + 1/12, split 1 | 1/12.
    run = _workflow(n=512, inner=256).run()
    split = variance_split(run, "y")
    assert abs(float(split["epistemic"]) - 1.0) < 0.1
    assert abs(float(split["aleatoric"]) - 1 / 12) < 0.005
    assert float(split["total"]) == pytest.approx(float(split["epistemic"]) + float(split["aleatoric"]))


def test_nested_store_round_trip(tmp_path):
    flow = _workflow()
    stored = flow.run(store=tmp_path / "nested.zarr", batch_size=16)
    assert stored.identical(flow.run())
    assert load_run(tmp_path / "nested.zarr").attrs["inner"] == 40


def test_nested_design_needs_both_kinds_and_no_correlation_across_them():
    stage = FunctionStage(_sum, ["e", "a"], ["y"])
    both_epistemic = UncertainInput("a", chaospy.Uniform(0, 1), kind="epistemic")
    with pytest.raises(WorkflowError, match="design.inner: a nested design needs at least one aleatoric input"):
        Workflow([stage], inputs=[EPISTEMIC, both_epistemic], inner=10)
    normal_aleatoric = UncertainInput("a", chaospy.Normal(0, 1), kind="aleatoric")
    with pytest.raises(WorkflowError, match="mixes epistemic and aleatoric"):
        Workflow([stage], inputs=[EPISTEMIC, normal_aleatoric], inner=10,
                 correlations=[Correlation(("e", "a"), [[1, 0.5], [0.5, 1]])])
