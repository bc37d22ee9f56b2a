"""Sobol indices and convergence of run Datasets (Ishigami workflow), failed samples left out."""

import tomllib

import numpy as np
import pytest
from SALib.analyze import sobol as salib_sobol

from tests.conftest import REPO
from tests.test_analysis_pce import ishigami_y
from uqms.analysis.command import analyze_run
from uqms.analysis.convergence import pce_convergence, saltelli_convergence
from uqms.analysis.saltelli import saltelli_indices
from uqms.analysis.sobol import sobol, sobol_quadrature
from uqms.config import AnalysisSection, parse_workflow
from uqms.test_functions import ishigami
from uqms.workflow import Workflow


def ishigami_workflow(design="sobol", group_x1_x2=False, by="input"):
    text = (REPO / "workflows" / "ishigami.toml").read_text().replace('method = "sobol"', f'method = "{design}"\nby = "{by}"')
    if group_x1_x2:
        text = text.replace('kind = "aleatoric"', 'kind = "aleatoric"\ngroup = "sines"')
    return Workflow.from_config(parse_workflow(tomllib.loads(text), "ishigami.toml"), "ishigami.toml", text)


def ishigami_run(design, n, group_x1_x2=False):
    return ishigami_workflow(design, group_x1_x2).run(n=n)


@pytest.fixture(scope="module")
def saltelli_run():
    return ishigami_run("saltelli", 2**12 * 5)


def test_saltelli_run_gives_salib_indices_and_covers_the_analytic_ones(saltelli_run):
    found = sobol(saltelli_run, "y", resamples=300)
    assert found.attrs["method"] == "saltelli" and found.attrs["n_base"] == 2**12
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    reference = salib_sobol.analyze(problem, saltelli_run.y.values, calc_second_order=False, num_resamples=10)
    np.testing.assert_allclose(found["first"].values, reference["S1"], atol=1e-10)
    np.testing.assert_allclose(found["total"].values, reference["ST"], atol=1e-10)
    first, total = ishigami.sobol_indices()
    for kind, exact in (("first", first), ("total", total)):
        interval = found[f"{kind}_interval"]
        assert (interval.sel(bound="lower").values <= exact).all() and (exact <= interval.sel(bound="upper").values).all()


def test_a_failed_row_drops_its_whole_base_sample(saltelli_run):
    run = saltelli_run.copy(deep=True)
    failed = [3, 12, 13, 401]  # rows of base samples 0, 2 (twice) and 80
    run["status"].values[failed] = 1
    run["y"].values[failed] = np.nan
    found = sobol(run, "y", resamples=50)
    keep = np.setdiff1d(np.arange(2**12), [0, 2, 80])
    rows = saltelli_run.y.values.reshape(-1, 5)[keep].ravel()
    np.testing.assert_allclose(found["first"].values, saltelli_indices(rows, 3, resamples=50)["first"][:, 0], rtol=1e-12)
    assert found.attrs["n_base"] == 2**12 - 3 and found.attrs["n_failed"] == 4


def test_saltelli_convergence_ends_at_the_full_estimate_with_narrower_intervals(saltelli_run):
    history = saltelli_convergence(saltelli_run, "y", resamples=100)
    assert history["n_base"].values.tolist() == [64, 128, 256, 512, 1024, 2048, 4096]
    full = sobol(saltelli_run, "y", resamples=100)
    np.testing.assert_allclose(history["total"].isel(n_base=-1).values, full["total"].values)
    width = history["total_interval"].diff("bound").squeeze("bound")
    assert (width.isel(n_base=-1) < width.isel(n_base=0) / 4).all()


def test_saltelli_design_swapping_input_groups_gives_grouped_indices(tmp_path):
    n_base = 2**13
    run = ishigami_workflow("saltelli", group_x1_x2=True, by="group").run(n=n_base * 4)  # 2 groups + A + B
    found = sobol(run, "y", resamples=300)
    assert "first" not in found and found["group_first"].dims == ("group",) and found.attrs["n_base"] == n_base
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3,
               "groups": ["sines", "sines", "x3"]}
    reference = salib_sobol.analyze(problem, run.y.values, calc_second_order=False, num_resamples=10)
    np.testing.assert_allclose(found["group_first"].values, reference["S1"], atol=1e-10)
    np.testing.assert_allclose(found["group_total"].values, reference["ST"], atol=1e-10)
    # closed forms: {x1, x2} has S1 + S2 + S12 (= S1 + S2 here) and total 1 - S3; x3 has S3 and ST3
    first, total = ishigami.sobol_indices()
    exact = {"group_first": [first[0] + first[1], first[2]], "group_total": [1 - first[2], total[2]]}
    for kind, values in exact.items():
        interval = found[f"{kind}_interval"]
        assert (interval.sel(bound="lower").values <= values).all() and (values <= interval.sel(bound="upper").values).all()
    history = saltelli_convergence(run, "y", resamples=50)
    assert history["n_base"].values[-1] == n_base and "group_total_interval" in history
    written = analyze_run(run, tmp_path, AnalysisSection(convergence=True, bootstrap=50))
    table = (tmp_path / "sobol_y.csv").read_text()
    assert "sines" in table and "group_first" in table and (tmp_path / "convergence_y.png") in written


def test_pce_of_a_sobol_run_with_grouped_inputs():
    run = ishigami_run("sobol", 1024, group_x1_x2=True)
    run["status"].values[:10] = 1
    assert run.uqms.groups == {"sines": ["x1", "x2"], "x3": ["x3"]}
    found = sobol(run, "y", max_order=12)
    first, total = ishigami.sobol_indices()
    assert found.attrs["method"] == "pce" and found.attrs["n_used"] == 1014 and found.attrs["grouped"]
    np.testing.assert_allclose(found["first"].values, first, atol=1e-3)
    np.testing.assert_allclose(found["total"].values, total, atol=1e-3)
    # the group {x1, x2}: its closed index is S1 + S2 + S12 (no x1-x2 interaction here), its total 1 - S3
    np.testing.assert_allclose(found["group_first"].sel(group="sines"), first[0] + first[1], atol=1e-3)
    np.testing.assert_allclose(found["group_total"].sel(group="sines"), 1 - first[2], atol=1e-3)
    history = pce_convergence(run, "y", sizes=[64, 256, 1014], max_order=12)
    assert history["loo"].values[-1] < history["loo"].values[0] and history["order"].values[-1] >= 9


def test_sparse_quadrature_on_the_workflow_chain():
    found, nodes = sobol_quadrature(ishigami_workflow(), "y", 9)
    first, total = ishigami.sobol_indices()
    np.testing.assert_allclose(found["first"].values, first, atol=1e-3)
    np.testing.assert_allclose(found["total"].values, total, atol=1e-3)
    assert found.attrs["method"] == "pce_quadrature" and found.attrs["n_used"] == nodes.sizes["sample"]
    np.testing.assert_allclose(nodes.y.values, ishigami_y(np.stack([nodes.x1.values, nodes.x2.values, nodes.x3.values])))


def test_saltelli_indices_need_a_saltelli_run():
    with pytest.raises(ValueError, match="saltelli design"):
        sobol(ishigami_run("sobol", 64), "y", method="saltelli")
