"""``uqms analyze`` and ``uqms report`` on every bundled workflow and case-study workflow, plain
and on posterior draws (``uqms calibrate``, then ``uqms run --posterior``), at small n: no reduction fails and every output is either analysed or
listed with the reason it is not (constant, nested)."""

import pandas as pd
import pytest
from typer.testing import CliRunner

import uqms.analysis.run_accessor  # noqa: F401  (registers run.uqms)
from tests.conftest import REPO
from uqms.cli import app
from uqms.execution import open_run

runner = CliRunner()
WORKFLOWS = {  # workflow file: samples (outer samples of a nested design)
    "workflows/ishigami.toml": 256,
    "workflows/ishigami_surrogate.toml": 256,
    "workflows/ishigami_program.toml": 32,
    "workflows/ammonia_cantera_program.toml": 8,
    "workflows/atomistic_emt.toml": 16,
    "workflows/ammonia.toml": 128,
    "workflows/ammonia_pfr.toml": 64,
    "workflows/ammonia_sites_ensemble.toml": 64,
    "workflows/prox.toml": 64,
    "workflows/ammonia_two_sites.toml": 64,
    "case_studies/ammonia_synthesis/ammonia_synthesis.toml": 64,
    "case_studies/ammonia_synthesis/ammonia_synthesis_nested.toml": 16,
    "case_studies/ammonia_synthesis/ammonia_synthesis_calibrated.toml": 64,
    "case_studies/co_oxidation/co_oxidation.toml": 256,
    "case_studies/ammonia_surrogate/ammonia_surrogate_train.toml": 64,
    "case_studies/ammonia_surrogate/ammonia_surrogate.toml": 256,
}
POSTERIOR = ("workflows/ammonia.toml", "case_studies/ammonia_synthesis/ammonia_synthesis_calibrated.toml")


@pytest.fixture(scope="module")
def ammonia_calibration(tmp_path_factory):
    """``uqms calibrate`` of the ammonia workflow to its bundled rates (the docs' example), short."""
    out = tmp_path_factory.mktemp("calibration") / "ammonia_calibration.nc"
    result = runner.invoke(app, ["calibrate", str(REPO / "workflows" / "ammonia.toml"), str(REPO / "workflows" / "ammonia_rates.csv"),
                                 "--walkers", "8", "--steps", "100", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def analyse_and_report(store, tmp_path):
    """``uqms analyze`` and ``uqms report`` of a store; the plan table and the report's text."""
    result = runner.invoke(app, ["analyze", str(store), "--out", str(tmp_path / "analysis")])
    assert result.exit_code == 0, result.output
    report = runner.invoke(app, ["report", str(store), "--out", str(tmp_path / "report.html")])
    assert report.exit_code == 0, report.output
    return pd.read_csv(tmp_path / "analysis" / "plan.csv", keep_default_na=False), (tmp_path / "report.html").read_text()


def check_complete(run, plan: pd.DataFrame, html: str, analysis) -> None:
    """Every output is in the plan with nothing failed; each one varying has its indices or a stated reason."""
    assert plan["output"].tolist() == (run.uqms.settings.outputs or run.uqms.outputs)
    assert (plan["problems"] == "").all(), plan.loc[plan["problems"] != "", ["output", "problems"]].to_string()
    for row in plan.itertuples():
        assert row.output in html
        if str(row.constant) == "True":
            assert row.sobol_method == "none" and "constant" in row.sobol_reason
        elif row.sobol_method == "none":
            assert "nested" in row.sobol_reason  # the variance split and p-box stand for the indices
            assert (analysis / "variance_split.csv").exists()
        else:
            assert (analysis / f"sobol_{row.output}.csv").exists() and row.sobol_reason
    assert "failed:" not in html


@pytest.mark.parametrize("path", list(WORKFLOWS), ids=[p.rsplit("/", 1)[1].removesuffix(".toml") for p in WORKFLOWS])
def test_analyze_and_report_every_workflow(path, bundled_run, tmp_path):
    store = bundled_run(path, WORKFLOWS[path])
    plan, html = analyse_and_report(store, tmp_path)
    check_complete(open_run(store), plan, html, tmp_path / "analysis")
    if "sites_ensemble" in path:  # 500 functionals in 64 samples: the member's index is not identified, and said so
        given = plan[plan["sobol_method"] == "given_data"]
        assert len(given) and given["sobol_reason"].str.contains("not identified: functional_member").all()


@pytest.mark.parametrize("path", POSTERIOR, ids=["ammonia", "case_study"])
def test_analyze_and_report_posterior_runs(path, ammonia_calibration, tmp_path):
    store = tmp_path / "posterior.zarr"
    result = runner.invoke(app, ["run", str(REPO / path), "--posterior", str(ammonia_calibration), "--n", "128",
                                 "--out", str(store), "--scheduler", "synchronous", "--quiet"])
    assert result.exit_code == 0, result.output
    run = open_run(store)
    assert set(run.uqms.posterior_inputs) == {"E_N", "n2_ts_intercept"}
    plan, html = analyse_and_report(store, tmp_path)
    check_complete(run, plan, html, tmp_path / "analysis")
    varying = plan[plan["constant"].astype(str) == "False"]
    assert (varying["sobol_method"] == "given_data").all() and varying["sobol_reason"].str.contains("dependent").all()


def test_a_failing_reduction_is_a_line_not_the_end(bundled_run, tmp_path, monkeypatch):
    """One output whose Sobol indices raise: the others are analysed, the failure is in plan.csv and the report."""
    from uqms.analysis import reduce

    store = bundled_run("workflows/ammonia.toml", WORKFLOWS["workflows/ammonia.toml"])
    real = reduce.sobol

    def broken(run, output, method, **options):
        if output == "tof":
            raise FloatingPointError("injected")
        return real(run, output, method, **options)

    monkeypatch.setattr(reduce, "sobol", broken)
    plan, html = analyse_and_report(store, tmp_path)
    problems = dict(zip(plan["output"], plan["problems"], strict=True))
    assert "FloatingPointError: injected" in problems["tof"] and problems["coverage"] == ""
    assert (tmp_path / "analysis" / "sobol_coverage.csv").exists() and not (tmp_path / "analysis" / "sobol_tof.csv").exists()
    assert (tmp_path / "analysis" / "predictive_tof.png").exists()
    assert "tof: Sobol indices" in html and "FloatingPointError: injected" in html
