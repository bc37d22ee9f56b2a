"""Shared fixtures and helpers."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_script(path: Path) -> ModuleType:
    """Import a script of the repo (not part of the package) from its path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def ishigami_text() -> str:
    """The text of the bundled Ishigami workflow file."""
    return (REPO / "workflows" / "ishigami.toml").read_text()
