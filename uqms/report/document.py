"""The parts a report is made of: sections holding text, tables and figures, before any HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd
from matplotlib.figure import Figure


@dataclass
class Text:
    """A paragraph of plain text (escaped when rendered); ``lead``: set apart as a key sentence."""

    text: str
    lead: bool = False
    kind: ClassVar[str] = "text"


@dataclass
class Code:
    """Preformatted text, e.g. the workflow file; collapsed under ``summary`` when one is given."""

    text: str
    summary: str = ""
    kind: ClassVar[str] = "code"


@dataclass
class Table:
    """A captioned table; ``index`` keeps the frame's index as leading columns; ``collapsed``:
    shown on demand (under its caption)."""

    caption: str
    frame: pd.DataFrame
    index: bool = False
    collapsed: bool = False
    kind: ClassVar[str] = "table"


@dataclass
class Plot:
    """A captioned matplotlib figure (embedded as a PNG when rendered)."""

    caption: str
    figure: Figure
    kind: ClassVar[str] = "plot"


@dataclass
class Section:
    title: str
    parts: list[Text | Code | Table | Plot] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The section's id in the page: ``"Key results"`` -> ``"key-results"``."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


@dataclass
class Report:
    """A whole report: a title, a subtitle and its sections, in order."""

    title: str
    sections: list[Section]
    subtitle: str = ""

    @property
    def figures(self) -> list[Figure]:
        return [part.figure for section in self.sections for part in section.parts if isinstance(part, Plot)]

    @property
    def tables(self) -> list[Table]:
        return [part for section in self.sections for part in section.parts if isinstance(part, Table)]
