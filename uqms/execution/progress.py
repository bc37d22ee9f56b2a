"""A progress bar of samples done, rate and time left (quiet off a terminal)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)


class SampleRate(TextColumn):
    """Samples per second since the start."""

    def __init__(self):
        super().__init__("")

    def render(self, task):
        speed = task.finished_speed or task.speed
        return f"{speed:,.0f} samples/s" if speed else ""


def sample_progress(quiet: bool = False) -> Progress:
    """A rich progress bar, disabled when ``quiet`` or when the output is not a terminal."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), SampleRate(), TimeRemainingColumn(),
        console=console, disable=quiet or not console.is_terminal,
    )
