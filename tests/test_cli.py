"""The uqms command line: run, show, validate."""

import pytest
from typer.testing import CliRunner

from uqms import load_run
from uqms.cli import app
from tests.conftest import REPO

runner = CliRunner()
ISHIGAMI = str(REPO / "workflows" / "ishigami.toml")


@pytest.mark.parametrize("command", [[], ["run"], ["show"], ["validate"]])
def test_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_validate_reports_the_workflow():
    result = runner.invoke(app, ["validate", ISHIGAMI])
    assert result.exit_code == 0
    assert "3 inputs" in result.output and "2 stages" in result.output


def test_validate_names_the_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(open(ISHIGAMI).read().replace('method = "sobol"', 'method = "grid"'))
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "design.method" in result.output and "bad.toml" in result.output


def test_run_then_show(tmp_path):
    out = tmp_path / "ishigami.nc"
    result = runner.invoke(app, ["run", ISHIGAMI, "--n", "512", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = load_run(out)
    assert run.sizes["sample"] == 512 and run.attrs["seed"] == 3
    shown = runner.invoke(app, ["show", str(out)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    mean = f"{float(run['y'].mean()):.3g}"  # 3 significant digits: names fit in 80 columns
    assert mean in shown.output
    for word in ("x1", "x3", "epistemic", "ok", "512", "5%", "95%"):
        assert word in shown.output


def test_show_names_the_groups_a_saltelli_design_swapped(tmp_path):
    text = (REPO / "workflows" / "ishigami.toml").read_text().replace('method = "sobol"', 'method = "saltelli"\nby = "group"')
    text = text.replace('kind = "aleatoric"', 'kind = "aleatoric"\ngroup = "sines"')
    (tmp_path / "grouped.toml").write_text(text)
    out = tmp_path / "grouped.nc"
    assert runner.invoke(app, ["run", str(tmp_path / "grouped.toml"), "--n", "256", "--out", str(out)]).exit_code == 0
    shown = runner.invoke(app, ["show", str(out)], env={"COLUMNS": "200"})
    assert "design saltelli swapping input groups sines (x1, x2); x3 (x3)" in shown.output
