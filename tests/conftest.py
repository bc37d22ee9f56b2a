"""Shared fixtures."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def ishigami_text() -> str:
    """The text of the bundled Ishigami workflow file."""
    return (REPO / "workflows" / "ishigami.toml").read_text()
