"""The parts a report is made of: sections holding text, tables and figures, before any HTML."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure


@dataclass
class Text:
    """A paragraph of plain text (escaped when rendered)."""

    text: str


@dataclass
class Code:
    """Preformatted text, e.g. the workflow file."""

    text: str


@dataclass
class Table:
    """A captioned table; ``index`` keeps the frame's index as leading columns."""

    caption: str
    frame: pd.DataFrame
    index: bool = False


@dataclass
class Plot:
    """A captioned matplotlib figure (embedded as a PNG when rendered)."""

    caption: str
    figure: Figure


@dataclass
class Section:
    title: str
    parts: list[Text | Code | Table | Plot] = field(default_factory=list)


@dataclass
class Report:
    """A whole report: a title and its sections, in order."""

    title: str
    sections: list[Section]

    @property
    def figures(self) -> list[Figure]:
        return [part.figure for section in self.sections for part in section.parts if isinstance(part, Plot)]

    @property
    def tables(self) -> list[Table]:
        return [part for section in self.sections for part in section.parts if isinstance(part, Table)]
