"""``uqms report``: a run store's reductions as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

from uqms.analysis.command import with_options
from uqms.config import AnalysisSection
from uqms.execution import open_run
from uqms.report.contents import build_report
from uqms.report.html import render


def default_path(store: str | Path) -> Path:
    """``<store>_report.html`` beside the store."""
    store = Path(store)
    return store.with_name(store.name.removesuffix("/").rsplit(".", 1)[0] + "_report.html")


def report_store(store: str | Path, out: str | Path | None = None, settings: AnalysisSection | None = None,
                 command: str = "", **options) -> Path:
    """Open a run store and write its report (what its workflow's ``[analysis]`` asks for, or all of
    it, with ``options``: :func:`~uqms.analysis.command.with_options`); ``command``: the command
    line that asked for it, for the provenance.

    Returns the path written.
    """
    run = open_run(store)
    report = build_report(run, with_options(settings or run.uqms.settings, **options), command)
    path = Path(out) if out else default_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
