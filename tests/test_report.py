"""`uqms report`: a self-contained HTML page whose figures and tables are found by parsing it."""

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from uqms.analysis.plots import CATEGORICAL
from uqms.analysis.predictive import predictive
from uqms.cli import app
from uqms.execution import load_run, save_run, status_messages
from uqms.report import build_report, html, render
from uqms.test_functions import ishigami
from uqms.workflow import Workflow

runner = CliRunner()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UNIT = re.compile(r"\[[^\]]+\]")
PNG_URI = html.png_data_uri


class Page(HTMLParser):
    """Collects the figures (img data URIs, inline svg) and tables (caption, header, rows) of a page."""

    def __init__(self):
        super().__init__()
        self.images, self.svgs, self.tables, self.pre = [], 0, [], []
        self._cell = self._row = self._in = None

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag == "svg":
            self.svgs += 1
        elif tag == "table":
            self.tables.append({"caption": "", "header": [], "rows": []})
        elif tag in ("caption", "pre"):
            self._in = tag
            if tag == "pre":
                self.pre.append("")
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("caption", "pre"):
            self._in = None
        elif tag in ("th", "td"):
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr":
            table = self.tables[-1]
            if table["header"] or not self._row:
                table["rows"].append(self._row)
            else:
                table["header"] = self._row
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._in == "caption":
            self.tables[-1]["caption"] += data
        elif self._in == "pre":
            self.pre[-1] += data

    def table(self, caption_start):
        found = [t for t in self.tables if t["caption"].startswith(caption_start)]
        assert len(found) == 1, [t["caption"] for t in self.tables]
        return found[0]


def parse(text):
    page = Page()
    page.feed(text)
    return page


def ishigami_workflow(tmp_path, design, analysis='[analysis]\noutputs = ["y"]\nbootstrap = 100\n', grouped=False):
    """workflows/ishigami.toml with another design (and x1, x2 in one group if ``grouped``)."""
    text = (REPO / "workflows" / "ishigami.toml").read_text()
    text = text[: text.index("[analysis]")] + analysis
    if grouped:
        text = text.replace('kind = "aleatoric"', 'kind = "aleatoric"\ngroup = "arguments"')
    text = text.replace('[design]\nmethod = "sobol"\nn = 4096', "[design]\n" + "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in design.items()))
    path = tmp_path / "ishigami.toml"
    path.write_text(text)
    return Workflow.from_file(path), path


def check_figures(figures):
    """Every axes of every figure is labelled on both axes, with a unit in brackets unless its ticks
    are categories (input names); a colour bar's label has its unit."""
    assert figures
    for figure in figures:
        axes = [a for a in figure.axes if a.get_visible()]
        assert axes
        for a in axes:
            if hasattr(a, "_colorbar"):
                assert UNIT.search(a.get_ylabel() or a.get_xlabel())
                continue
            for text in (a.get_xlabel(), a.get_ylabel()):
                assert UNIT.search(text) or text in CATEGORICAL, (a.get_xlabel(), a.get_ylabel())


def check_embedded_pngs(page, count):
    assert len(page.images) == count and page.svgs == 0
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_SIGNATURE)


def test_report_command_writes_every_figure_and_table(tmp_path, monkeypatch):
    _, path = ishigami_workflow(tmp_path, {"method": "sobol", "n": 256}, grouped=True)
    store = tmp_path / "ishigami.nc"
    assert runner.invoke(app, ["run", str(path), "--out", str(store), "--scheduler", "synchronous"]).exit_code == 0
    embedded = []
    monkeypatch.setattr(html, "png_data_uri", lambda figure: embedded.append(figure) or PNG_URI(figure))
    result = runner.invoke(app, ["report", str(store), "--out", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    page = parse((tmp_path / "report.html").read_text())
    run = load_run(store)

    check_embedded_pngs(page, 4)  # y against x1 (its largest total index), predictive, Sobol bars and convergence of y
    assert len(embedded) == 4
    check_figures(embedded)
    run_facts = dict(page.table("run")["rows"])
    assert run_facts["workflow"] == "ishigami" and run_facts["design"] == "sobol"
    assert run_facts["samples (n)"] == "256" and run_facts["seed"] == "2024"
    assert "numpy" in [row[0] for row in page.table("package versions")["rows"]]
    assert page.pre == [run.attrs["workflow_text"]]
    inputs = page.table("uncertain inputs")
    assert inputs["header"] == ["input", "kind", "group", "unit", "distribution", "description"]
    assert [row[:4] for row in inputs["rows"]] == [["x1", "aleatoric", "arguments", "rad"], ["x2", "aleatoric", "arguments", "rad"],
                                                   ["x3", "epistemic", "x3", "rad"]]
    assert all("niform" in row[4] for row in inputs["rows"])
    assert [row[0] for row in page.table("constants")["rows"]] == ["a", "b"]
    assert page.table("statuses")["rows"] == [["0", "ok", "256", "1"]]
    summary = page.table("predictive summary")
    row = dict(zip(summary["header"], summary["rows"][0]))
    assert row["output"] == "y" and float(row["mean"]) == pytest.approx(run.y.values.mean(), rel=1e-3)
    indices = page.table("Sobol indices of y (pce")
    assert indices["header"] == ["input", "first", "total", "first_lower", "first_upper", "total_lower", "total_upper"]
    first = {r[0]: [float(v) for v in r[1:]] for r in indices["rows"]}
    np.testing.assert_allclose([first[name][0] for name in ("x1", "x2", "x3")], ishigami.sobol_indices()[0], atol=0.05)
    assert all(low <= value <= high for low, high, value in ((r[2], r[3], r[0]) for r in first.values()))
    grouped = page.table("grouped Sobol indices of y")
    assert [r[0] for r in grouped["rows"]] == ["arguments", "x3"]
    total_x3 = {r[0]: float(r[2]) for r in grouped["rows"]}["x3"]
    assert total_x3 == pytest.approx(ishigami.sobol_indices()[1][2], abs=0.05)


def test_saltelli_run_reports_intervals(tmp_path):
    flow, _ = ishigami_workflow(tmp_path, {"method": "saltelli", "n": 5 * 256})
    run = flow.run()
    report = build_report(run, run.uqms.settings)
    check_figures(report.figures)
    page = parse(render(report))
    check_embedded_pngs(page, 4)
    table = page.table("Sobol indices of y (saltelli")
    assert table["header"] == ["input", "first", "total", "first_lower", "first_upper", "total_lower", "total_upper"]
    for _, first, total, first_low, first_high, total_low, total_high in ([r[0], *map(float, r[1:])] for r in table["rows"]):
        assert first_low <= first <= first_high and total_low <= total <= total_high


def test_nested_run_reports_the_variance_split_and_pboxes(tmp_path):
    flow, _ = ishigami_workflow(tmp_path, {"method": "sobol", "n": 32, "inner": 64}, analysis="")
    run = flow.run()
    report = build_report(run)
    check_figures(report.figures)
    page = parse(render(report))
    outputs = ["sin_x1", "sin_x2", "y"]
    check_embedded_pngs(page, 2 * len(outputs) + 1)  # a predictive figure and a p-box each, no Sobol indices; y against x1
    assert not [t for t in page.tables if t["caption"].startswith("Sobol")]
    assert page.table("run")["rows"][4] == ["inner draws per sample", "64"]
    split = page.table("variance split")
    assert split["header"][:7] == ["output", "variance unit", "total", "epistemic", "aleatoric", "epistemic_share", "n_ok"]
    rows = {r[0]: r for r in split["rows"]}
    assert list(rows) == outputs
    total, epistemic, aleatoric = map(float, rows["y"][2:5])
    assert total == pytest.approx(epistemic + aleatoric, rel=1e-3)
    assert total == pytest.approx(float(run.y.var()), rel=1e-3)
    assert [img.split(",")[0] for img in page.images] == ["data:image/png;base64"] * 7


def test_failed_samples_are_counted_with_their_message(tmp_path):
    flow, _ = ishigami_workflow(tmp_path, {"method": "sobol", "n": 128}, analysis='[analysis]\nsobol = "none"\n')
    run = flow.run()
    run["status"][:10] = 1
    save_run(run, tmp_path / "failed.nc")
    result = runner.invoke(app, ["report", str(tmp_path / "failed.nc"), "--out", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    page = parse((tmp_path / "report.html").read_text())
    rows = page.table("statuses")["rows"]
    assert [r[:3] for r in rows] == [["0", "ok", "118"], ["1", status_messages(run)[1], "10"]]
    summary = page.table("predictive summary")
    row = dict(zip(summary["header"], summary["rows"][-1]))
    assert row["n_failed"] == "10"
    expected = predictive(run.isel(sample=slice(10, None)))["y"].sel(statistic="mean")
    assert float(row["mean"]) == pytest.approx(float(expected), rel=1e-3)
    check_embedded_pngs(page, 4)  # predictive figures (sobol = "none") and y against x1 (its first epistemic input)


def test_unknown_store_is_an_error(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path / "missing.zarr")])
    assert result.exit_code == 2 and "error" in result.output
