"""The reduction plan: constants, transforms, bounded densities, the Sobol method rule and its fallback."""

import dask.array
import numpy as np
import pytest

from tests.conftest import REPO
from uqms.analysis.plan import choose_transform, is_constant
from uqms.analysis.predictive import kde
from uqms.analysis.reduce import reduce_run
from uqms.config import AnalysisSection
from uqms.execution import open_run
from uqms.workflow import Workflow

ISHIGAMI = (REPO / "workflows" / "ishigami.toml").read_text()


def ishigami_run(tmp_path, replace: dict[str, str] | None = None, analysis: str = "", n: int = 256):
    """A stored Ishigami run, its workflow text edited by ``replace`` and its [analysis] table by ``analysis``."""
    text = ISHIGAMI[: ISHIGAMI.index("[analysis]")] + analysis
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "flow.toml"
    path.write_text(text.replace('path = "../runs/ishigami.zarr"', 'path = "run.zarr"'))
    Workflow.from_file(path).run(n=n, store=tmp_path / "run.zarr")
    return open_run(tmp_path / "run.zarr")


def plans(run, **settings):
    return {r.plan.name: r for r in reduce_run(run, AnalysisSection(convergence=False, **settings))}


def test_reflected_kde_keeps_the_density_of_a_bounded_output_inside_its_support():
    u = np.random.default_rng(0).random(200_000)
    x, density = kde(u, bounds=(0.0, 1.0))
    assert x[0] == 0.0 and x[-1] == 1.0
    assert density[0] == pytest.approx(1.0, abs=0.05) and density[-1] == pytest.approx(1.0, abs=0.05)
    assert np.trapezoid(density, x) == pytest.approx(1.0, abs=1e-3)
    free_x, free = kde(u)  # unbounded: half the density at the edges, the rest leaks past them
    assert free[np.searchsorted(free_x, 0.0)] < 0.6 and free_x[0] < 0
    e = np.random.default_rng(1).exponential(size=200_000)  # density 1 at 0, where an unbounded KDE gives 1/2
    x, density = kde(e, bounds=(0.0, None))
    assert x[0] == 0.0 and density[0] == pytest.approx(1.0, abs=0.1)


def test_an_output_that_varies_by_round_off_is_a_constant_not_a_crash():
    values = 0.41718975980557194 + 2e-16 * np.random.default_rng(0).standard_normal(1024)  # equilibrium conversion
    assert is_constant(values) == (True, pytest.approx(0.41718975980557194))
    assert is_constant(np.array([1.0, 1.0 + 1e-6]))[0] is False
    x, density = kde(values)  # "Too many bins for data range" before
    assert len(x) == 1 and np.isinf(density[0])


def test_transform_by_default_for_outputs_spanning_decades_and_as_asked():
    rng = np.random.default_rng(0)
    assert choose_transform("tof", 10 ** rng.normal(0, 2, 1000), {})[0] == "log10"
    assert choose_transform("y", rng.normal(5, 1, 1000), {}) == ("none", "")
    assert choose_transform("tof", 10 ** rng.normal(0, 2, 1000), {"tof": "none"}) == ("none", "asked for in [analysis] transform")
    transform, reason = choose_transform("y", rng.normal(0, 1, 1000), {"y": "log10"})
    assert transform == "none" and "not positive" in reason


def test_sobol_rule_follows_the_design_and_the_inputs(tmp_path):
    run = ishigami_run(tmp_path / "plain")
    assert plans(run)["y"].plan.sobol == "pce"
    correlated = ishigami_run(tmp_path / "correlated", {"[design]": '[[correlations]]\ninputs = ["x1", "x2"]\n'
                                                                  'matrix = [[1.0, 0.5], [0.5, 1.0]]\n\n[design]'})
    result = plans(correlated)["y"]
    assert result.plan.sobol == "given_data" and "dependent inputs (x1, x2)" in result.plan.sobol_reason
    assert {"first", "first_interval", "shapley"} <= set(result.indices) and not result.problems
    assert float(result.indices["shapley"].sum()) == pytest.approx(1.0)
    discrete = ishigami_run(tmp_path / "discrete", {'distribution = "uniform"\nlower = -3.141592653589793\nupper = 3.141592653589793\nkind = "epistemic"':
                                                    'distribution = "categorical"\nvalues = [-3.0, -1.0, 0.0, 1.0, 3.0]\nkind = "epistemic"'})
    result = plans(discrete)["y"]
    assert result.plan.sobol == "given_data" and "discrete inputs (x3)" in result.plan.sobol_reason
    assert "shapley" not in result.indices  # independent inputs: first-order indices only
    saltelli = ishigami_run(tmp_path / "saltelli", {'method = "sobol"': 'method = "saltelli"'}, n=5 * 64)
    assert plans(saltelli, outputs=["y"])["y"].plan.sobol == "saltelli"


def test_a_pce_above_the_leave_one_out_threshold_gives_way_to_given_data(tmp_path):
    run = ishigami_run(tmp_path, analysis="[analysis]\nloo_threshold = 1e-9\n")
    result = plans(run, loo_threshold=run.uqms.settings.loo_threshold, outputs=["y"])["y"]
    assert result.plan.sobol == "given_data" and "leave-one-out error" in result.plan.sobol_reason
    assert result.indices.attrs["method"] == "given_data" and not result.problems


def test_reductions_read_a_zarr_run_one_output_at_a_time(tmp_path):
    run = ishigami_run(tmp_path)
    assert isinstance(run["y"].data, dask.array.Array)
    results = list(reduce_run(run, AnalysisSection(convergence=False)))
    assert [r.plan.name for r in results] == ["sin_x1", "sin_x2", "y"]
    assert all(isinstance(run[name].data, dask.array.Array) for name in run.uqms.outputs)  # nothing loaded in place
