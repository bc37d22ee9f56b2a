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


@pytest.fixture(scope="session")
def ammonia_calibration_idata():
    """A short calibration of the ammonia workflow to its bundled rates (the docs' example), shared by
    the tests of posterior runs."""
    from uqms.calibration import calibrate
    from uqms.workflow import Workflow

    flow = Workflow.from_file(REPO / "workflows" / "ammonia.toml")
    return calibrate(flow, REPO / "workflows" / "ammonia_rates.csv", walkers=8, steps=40, quiet=True)
