"""A :class:`~uqms.report.document.Report` as one self-contained HTML page.

Figures are embedded as base64 PNG ``data:`` URIs and tables are rendered by pandas,
so the file can be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import io
from html import escape
from string import Template

from matplotlib.figure import Figure

from uqms.report.document import Code, Plot, Report, Section, Table, Text

DPI = 110

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { border-bottom: 2px solid #444; }
h2 { border-bottom: 1px solid #bbb; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: right; }
th { background: #f0f0f0; }
caption { caption-side: top; font-weight: bold; text-align: left; padding: 0.3rem 0; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; }
figcaption { font-style: italic; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>$title</h1>
$body
</body>
</html>
""")


def png_data_uri(figure: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _number(value) -> str:
    return f"{value:.4g}"


def render_part(part: Text | Code | Table | Plot) -> str:
    if isinstance(part, Text):
        return f"<p>{escape(part.text)}</p>"
    if isinstance(part, Code):
        return f"<pre>{escape(part.text)}</pre>"
    if isinstance(part, Table):
        table = part.frame.to_html(index=part.index, float_format=_number, border=0, na_rep="")
        return table.replace(">\n", f">\n<caption>{escape(part.caption)}</caption>\n", 1)
    if isinstance(part, Plot):
        return (f'<figure><img src="{png_data_uri(part.figure)}" alt="{escape(part.caption)}">'
                f"<figcaption>{escape(part.caption)}</figcaption></figure>")
    raise TypeError(f"cannot render {type(part).__name__}")


def render_section(section: Section) -> str:
    return "\n".join([f"<h2>{escape(section.title)}</h2>", *(render_part(part) for part in section.parts)])


def render(report: Report) -> str:
    """The report as an HTML document (a string)."""
    return PAGE.substitute(title=escape(report.title), body="\n".join(render_section(s) for s in report.sections))
