"""The report read as a document: key results naming the top input of the target output, each
Sobol panel once, labels made of coordinate values, labelled axes with units, valid HTML5; the
volcano's band against quantiles computed from the run; screenshots in headless Chromium."""

import re
import shutil
import subprocess

import html5lib
import numpy as np
import pytest

from tests.conftest import REPO
from tests.test_report import check_figures
from uqms.analysis.descriptor import choose_versus, versus_bands, versus_map
from uqms.analysis.plots import band_figure, map_figure, plane_figure, versus_figure
from uqms.calibration.posterior_inputs import posterior_workflow
from uqms.execution import open_run
from uqms.report import build_report, render
from uqms.report.document import Plot
from uqms.workflow import Workflow

TUPLE_LOOKING = re.compile(r"\(\s*'|\[\s*'|'\s*,\s*'|\('|np\.str_")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def reported(store):
    """The run in ``store``, its report, HTML and store."""
    run = open_run(store)
    report = build_report(run)
    return run, report, render(report), store


@pytest.fixture(scope="module")
def ammonia(bundled_run):
    return reported(bundled_run("workflows/ammonia.toml", 128))  # the run tests/test_every_workflow.py analyses


@pytest.fixture(scope="module")
def nested(bundled_run):
    return reported(bundled_run("case_studies/ammonia_synthesis/ammonia_synthesis_nested.toml", 16))


@pytest.fixture(scope="module")
def posterior(tmp_path_factory, ammonia_calibration_idata):
    """A small run of the ammonia workflow on posterior draws, and its report."""
    store = tmp_path_factory.mktemp("run") / "run.zarr"
    posterior_workflow(Workflow.from_file(REPO / "workflows" / "ammonia.toml"), ammonia_calibration_idata).run(n=128, store=store)
    return reported(store)


@pytest.fixture(params=["ammonia", "nested", "posterior"])
def case(request):
    return request.getfixturevalue(request.param)


def figure_texts(figure):
    """Every text a reader sees in a figure: titles, axis and tick labels, legends."""
    texts = [t.get_text() for t in figure.texts] + ([figure._suptitle.get_text()] if figure._suptitle else [])
    for axes in figure.axes:
        texts += [axes.get_title(), axes.get_xlabel(), axes.get_ylabel()]
        texts += [t.get_text() for t in axes.get_xticklabels() + axes.get_yticklabels()]
        if axes.get_legend():
            texts += [t.get_text() for t in axes.get_legend().get_texts()]
    return texts


def test_the_html_is_valid_html5(case):
    html5lib.HTMLParser(strict=True).parse(case[2])


def test_key_results_come_first_and_name_the_top_input_of_the_target(case):
    run, report, html, _ = case
    key = report.sections[0]
    assert key.title == "Key results"
    target = [r for r in report.sections[0].parts if getattr(r, "lead", False)]
    assert target, "no key sentence"
    lead = target[0].text
    table = next(p for p in key.parts if getattr(p, "caption", "").startswith("key results"))
    row = table.frame.iloc[0]
    assert "median" in lead and "90 %" in lead and row["failed"].endswith(f"of {run.uqms.status.size}")
    if run.uqms.nested:  # no indices: the variance split names the inputs of the dominant kind
        dominant = row["uncertainty split"].split(" ")[0]
        names = [n for n in run.uqms.inputs if run[n].attrs["kind"] == dominant]
        assert names and all(n in lead for n in names)
    else:
        ranked = row[next(c for c in table.frame.columns if c.startswith("inputs ranked"))]
        top = ranked.split(" ")[0]
        assert top in run.uqms.inputs and f"is that of {top}" in lead
        assert ("Shapley effect" if run.uqms.posterior_inputs else "total index") in lead
    assert html.index('id="key-results"') < html.index('id="predictive-distributions"') < html.index('id="provenance"')
    assert "<nav>" in html and "<details><summary>workflow file as run</summary>" in html


def test_every_figure_has_labelled_axes_with_units_and_no_tuple_label(case):
    _, report, _, _ = case
    check_figures(report.figures)
    for figure in report.figures:
        for text in figure_texts(figure):
            assert not TUPLE_LOOKING.search(text), text
    for table in report.tables:
        for value in [table.caption, *map(str, table.frame.columns), *table.frame.astype(str).to_numpy().ravel()]:
            assert not TUPLE_LOOKING.search(str(value)) or table.caption.startswith(("uncertain inputs", "run")), value


def test_no_sobol_panel_is_drawn_twice(case):
    _, report, _, _ = case
    panels = [tuple(np.round([p.get_width() for p in axes.patches], 4))
              for figure in report.figures for axes in figure.axes if axes.patches and axes.get_xlabel() == "index [1]"]
    assert len(panels) == len(set(panels))


def test_the_ammonia_report_is_short_and_merges_the_identical_rate_panels(ammonia):
    _, report, html, _ = ammonia
    sobol = [p for s in report.sections for p in s.parts if isinstance(p, Plot) and p.caption.startswith("Sobol indices")]
    panels = sum(len([a for a in p.figure.axes if a.get_visible()]) for p in sobol)
    assert panels < 20
    titles = [a.get_title() for p in sobol for a in p.figure.axes]
    assert any("N2 dissociation, H2 dissociation" in t.replace("\n", " ") for t in titles)
    assert "Constant over every ok sample (no density, no indices): selectivity = 1." in html


def test_the_volcano_band_holds_the_median_and_matches_the_run(ammonia):
    run, report, _, _ = ammonia
    bands = versus_bands(run, "tof", "E_N", bins=10, log_scale=True)
    low, median, high = bands["quantile"].values[..., 0]
    finite = np.isfinite(median)
    assert finite.sum() >= 8 and np.all((low <= median) & (median <= high) | ~finite)
    e_n, tof = run["E_N"].values, run["tof"].values[:, 0]
    ok = run.uqms.status == 0
    for k in np.flatnonzero(finite):
        inside = ok & (e_n >= bands["x_low"].values[k]) & ((e_n < bands["x_high"].values[k]) | (k == bands.sizes["bin"] - 1))
        np.testing.assert_allclose([low[k], median[k], high[k]], np.quantile(tof[inside], [0.05, 0.5, 0.95]), rtol=1e-12)
        assert int(bands["count"].values[k, 0]) == inside.sum()
    figure = versus_figure(bands)
    check_figures([figure])
    assert figure.axes[0].get_yscale() == "log" and "E_N [eV]" == figure.axes[0].get_xlabel()
    assert any(p.caption.startswith("tof against E_N (inputs of group 'descriptor')") for p in report.sections[0].parts
               if isinstance(p, Plot))


def test_two_descriptors_give_a_map(ammonia):
    run, _, _, _ = ammonia
    grid = versus_map(run, "tof", ["E_N", "n2_ts_intercept"], bins=4, log_scale=True)
    counts = grid["count"].values[..., 0]
    assert counts.sum() == run.sizes["sample"]
    q = grid["quantile"].values[..., 0]
    ok = np.isfinite(q[1])
    assert ok.any() and np.all(q[0][ok] <= q[1][ok]) and np.allclose(grid["width"].values[..., 0][ok], np.log10(q[2][ok] / q[0][ok]))
    check_figures([map_figure(grid)])


def test_a_plane_over_two_descriptors_marks_the_catalyst_and_extends_its_colours_below_the_levels():
    x, y = np.linspace(-2, 1, 31), np.linspace(-1, 0, 21)
    values = -((x[None, :] + 0.5) ** 2) - (y[:, None] + 0.5) ** 2  # one maximum, 0 at (-0.5, -0.5)
    values[0, 0] = np.nan  # a failed point
    optima = np.array([[-0.5, -0.5], [-0.4, -0.6]])
    figure = plane_figure(x, y, values, np.linspace(-1, 0, 11), ("E_A [eV]", "E_B [eV]", "v [1]"), "a plane",
                          line_every=5, catalyst=((-1.0, 0.1), (-0.2, 0.05)), points=optima, points_label="optima")
    check_figures([figure])
    axes = figure.axes[0]
    filled, lines = (c for c in axes.get_children() if hasattr(c, "levels"))
    assert filled.extend == "min" and list(lines.levels) == pytest.approx([-1.0, -0.5, 0.0])
    np.testing.assert_allclose(axes.collections[-1].get_offsets(), optima)
    cross, ellipse = axes.lines
    assert (cross.get_xdata()[0], cross.get_ydata()[0]) == (-1.0, -0.2)
    np.testing.assert_allclose(((ellipse.get_xdata() + 1.0) / 0.2) ** 2 + ((ellipse.get_ydata() + 0.2) / 0.1) ** 2, 1.0)  # 2 sd
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["optima", "catalyst of this study"]
    plain = plane_figure(x, y, np.clip(values, -1, 0), np.linspace(-1, 0, 11), ("E_A [eV]", "E_B [eV]", "v [1]"), "")
    assert next(c for c in plain.axes[0].get_children() if hasattr(c, "levels")).extend == "neither"
    assert plain.axes[0].get_legend() is None


def test_a_band_figure_draws_each_entry_between_its_edges_with_its_name():
    x = np.linspace(-1, 0, 5)
    band = np.stack([np.exp(x) * f for f in (0.5, 1.0, 2.0)])[..., None] * np.array([1.0, 10.0])  # (3, 5, 2)
    figure = band_figure(x, band, ["CO2", "H2O"], ("E_O [eV]", "TOF [1/s]"), "a volcano", log_scale=True)
    check_figures([figure])
    axes = figure.axes[0]
    assert axes.get_yscale() == "log"
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["CO2: 5-95 % band", "CO2: median",
                                                                      "H2O: 5-95 % band", "H2O: median"]
    for k, (line, shaded) in enumerate(zip(axes.lines, axes.collections)):
        np.testing.assert_allclose(line.get_ydata(), band[1, :, k])
        y = shaded.get_paths()[0].vertices[:, 1]
        assert y.min() == pytest.approx(band[0, :, k].min()) and y.max() == pytest.approx(band[2, :, k].max())


def test_versus_is_asked_for_or_detected(ammonia, nested):
    run = ammonia[0]
    assert choose_versus(run, [])[0] == ["E_N"]
    assert choose_versus(run, ["n2_ts_intercept"]) == (["n2_ts_intercept"], "asked for in [analysis] versus")
    with pytest.raises(ValueError, match="analysis.versus"):
        choose_versus(run, ["nope"])
    assert choose_versus(nested[0], [])[0] == ["E_N"]  # the functional ensemble's binding energy


def screenshot(tmp_path, html_path, size="1280,2000"):
    png = tmp_path / f"{html_path.stem}.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                    f"--screenshot={png}", f"--window-size={size}", html_path.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return png


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt-get install chromium): the screenshots need a browser")
def test_screenshots_of_the_report_and_the_volcano(ammonia, tmp_path):
    from matplotlib.image import imread

    _, report, html, _ = ammonia
    page = tmp_path / "ammonia_report.html"
    page.write_text(html)
    volcano = tmp_path / "volcano.html"
    figure = next(p for p in report.sections[0].parts if isinstance(p, Plot))
    volcano.write_text(render(type(report)("volcano", [type(report.sections[0])("Volcano", [figure])])))
    for path in (page, volcano):
        image = imread(screenshot(tmp_path, path))
        assert image.shape[:2] == (2000, 1280)
        assert image[..., :3].std() > 0.05  # not a blank page: text and a figure were drawn


def test_show_names_the_posterior_and_cuts_no_output_name_at_80_columns(posterior, monkeypatch):
    from rich.console import Console
    from typer.testing import CliRunner

    from uqms import cli

    store = posterior[3]
    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    monkeypatch.setattr(cli, "console", console)
    assert CliRunner().invoke(cli.app, ["show", str(store)]).exit_code == 0
    text = console.export_text()
    assert "posterior draws from" in text and "…" not in text
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80
    names = [line.split()[0] for line in lines if line.strip()]
    assert {"tof", "drc", "rate"} <= set(names)
    words = set(text.split())
    assert {"[N2_dissociation,", "[NH3_formation,", "NH3]", "[H2_dissociation]"} <= words  # whole, wrapped at a space
