"""`uqms analyze`, the [analysis] table of workflow files, and the figures' labels."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from tests.conftest import REPO
from uqms.analysis import plots
from uqms.analysis.pbox import pbox
from uqms.analysis.predictive import predictive
from uqms.cli import app
from uqms.config import AnalysisSection
from uqms.execution import load_run

runner = CliRunner()


def workflow_file(tmp_path, design, n, analysis):
    text = (REPO / "workflows" / "ishigami.toml").read_text()
    text = text[: text.index("[analysis]")] + analysis
    text = text.replace('method = "sobol"', f'method = "{design}"').replace("n = 4096", f"n = {n}")
    text = text.replace('path = "../runs/ishigami.zarr"', 'path = "runs/ishigami.nc"')
    path = tmp_path / "ishigami.toml"
    path.write_text(text)
    return path


def test_run_performs_the_analysis_its_workflow_asks_for(tmp_path):
    path = workflow_file(tmp_path, "saltelli", 5 * 512, '[analysis]\noutputs = ["y"]\nbootstrap = 200\nfigures = ["png"]\n')
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "runs" / "ishigami_analysis"
    assert "analysis:" in result.output and folder.is_dir()
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["plan.csv", "predictive.csv", "predictive.nc", "predictive_y.png", "sobol_y.csv", "sobol_y.nc", "sobol_y.png",
                            "convergence_y.csv", "convergence_y.nc", "convergence_y.png",
                            "versus_y_x2.csv", "versus_y_x2.nc", "versus_y_x2.png"])  # y (the target) against its top input
    table = pd.read_csv(folder / "sobol_y.csv", index_col="input")
    assert list(table.columns) == ["first", "total", "first_lower", "first_upper", "total_lower", "total_upper"]
    assert (table["first_lower"] <= table["first"]).all() and (table["total"] <= table["total_upper"]).all()
    run = load_run(tmp_path / "runs" / "ishigami.nc")
    assert pd.read_csv(folder / "predictive.csv")["mean"][0] == pytest.approx(run.y.values.mean())
    assert xr.open_dataset(folder / "sobol_y.nc", engine="h5netcdf").attrs["method"] == "saltelli"


def test_analyze_writes_tables_and_figures_in_every_format(tmp_path):
    path = workflow_file(tmp_path, "sobol", 256, "")
    assert runner.invoke(app, ["run", str(path)]).exit_code == 0
    assert not (tmp_path / "runs" / "ishigami_analysis").exists()  # nothing asked for
    path = workflow_file(tmp_path, "sobol", 256, '[analysis]\nfigures = ["png", "svg"]\ndirectory = "run_analysis"\n')
    assert runner.invoke(app, ["run", str(path)]).exit_code == 0
    out = tmp_path / "report"
    result = runner.invoke(app, ["analyze", str(tmp_path / "runs" / "ishigami.nc"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for stem in ("predictive_y", "sobol_y", "convergence_y", "predictive_sin_x1"):
        assert (out / f"{stem}.png").stat().st_size > 1000 and (out / f"{stem}.svg").read_text().startswith("<?xml")
    assert pd.read_csv(out / "predictive.csv")["output"].tolist() == ["sin_x1", "sin_x2", "y"]


def test_analysis_table_is_validated(tmp_path):
    path = workflow_file(tmp_path, "sobol", 64, "[analysis]\nquantiles = [0.5, 1.5]\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "analysis.quantiles" in result.output
    with pytest.raises(ValueError):
        AnalysisSection(sobol="morris")


def test_unknown_output_is_named(tmp_path):
    path = workflow_file(tmp_path, "sobol", 64, '[analysis]\noutputs = ["z"]\n')
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2 and "'z'" in result.output


def labelled(figure):
    axes = [a for a in figure.axes if a.get_visible()]
    return axes and all(("[" in a.get_xlabel() or a.get_xlabel() in plots.CATEGORICAL)
                        and ("[" in a.get_ylabel() or a.get_ylabel() in plots.CATEGORICAL) for a in axes)


def test_every_figure_has_labelled_axes_with_units():
    rng = np.random.default_rng(0)
    values = 10.0 ** rng.normal(-3, 1.5, (20, 50))
    run = xr.Dataset(
        {"tof": (("sample", "inner"), values, {"role": "output", "units": "s^-1"}),
         "status": (("sample", "inner"), np.zeros(values.shape, dtype=np.int32))},
        attrs={"status_messages": json.dumps({"0": "ok"}), "output_names": json.dumps(["tof"]), "input_names": "[]"},
    )
    figure = plots.predictive_figure(run, "tof", predictive(run))
    assert labelled(figure) and figure.axes[0].get_xscale() == "log" and "s^-1" in figure.axes[0].get_xlabel()
    assert labelled(plots.pbox_figure(pbox(run, "tof"), "s^-1"))
    indices = xr.Dataset(
        {"first": ("input", [0.3, 0.4]), "total": ("input", [0.5, 0.45]),
         "first_interval": (("bound", "input"), [[0.2, 0.3], [0.4, 0.5]]),
         "total_interval": (("bound", "input"), [[0.4, 0.4], [0.6, 0.5]])},
        coords={"input": ["a", "b"], "bound": ["lower", "upper"]}, attrs={"output": "tof", "method": "saltelli", "n_used": 40},
    )
    assert labelled(plots.sobol_figure(indices))
    history = xr.concat([indices, indices], dim="n_base").assign_coords(n_base=[64, 128])
    assert labelled(plots.convergence_figure(history))
