"""Reports of runs: the reductions of :mod:`uqms.analysis` gathered into one self-contained HTML page."""

from uqms.report.command import report_store
from uqms.report.contents import build_report
from uqms.report.document import Code, Plot, Report, Section, Table, Text
from uqms.report.html import render

__all__ = ["Code", "Plot", "Report", "Section", "Table", "Text", "build_report", "render", "report_store"]
