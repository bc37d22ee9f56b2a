"""A :class:`~uqms.report.document.Report` as one self-contained HTML page, rendered by the
jinja2 template ``templates/report.html.j2`` (escaping on).

Figures are embedded as base64 PNG ``data:`` URIs and tables are rendered by pandas,
so the file can be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import io
from html import escape

import jinja2
from markupsafe import Markup
from matplotlib.figure import Figure

from uqms.report.document import Report, Table

DPI = 110
ENVIRONMENT = jinja2.Environment(loader=jinja2.PackageLoader("uqms.report", "templates"), autoescape=True,
                                 trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def png_data_uri(figure: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def table_html(part: Table) -> Markup:
    """A table as HTML (pandas escapes its cells), its caption first."""
    html = part.frame.to_html(index=part.index, float_format=lambda value: f"{value:.4g}", border=0, na_rep="")
    return Markup(html.replace(">\n", f">\n<caption>{escape(part.caption)}</caption>\n", 1))


ENVIRONMENT.filters["table"] = table_html
ENVIRONMENT.filters["png"] = lambda figure: png_data_uri(figure)  # looked up at call time: tests wrap png_data_uri


def render(report: Report) -> str:
    """The report as an HTML document (a string)."""
    return ENVIRONMENT.get_template("report.html.j2").render(report=report)
