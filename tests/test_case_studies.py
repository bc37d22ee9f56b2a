"""Every case-study notebook (``case_studies/<name>/<name>.py``, jupytext percent format)
runs headless at its small size without error."""

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOKS = sorted(p for p in (REPO / "case_studies").glob("*/*.py") if "\n# %%" in "\n" + p.read_text())  # helper modules have no cells
TIMEOUT = 600  # s per cell: a bound for a stuck kernel, not a speed requirement


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_notebook_runs_at_small_size(path, monkeypatch):
    monkeypatch.setenv("UQMS_CASE_STUDY_SIZE", "small")
    monkeypatch.delenv("UQMS_CASE_STUDY_OUT", raising=False)
    before = repository_files()
    notebook = jupytext.read(path)
    client = NotebookClient(notebook, kernel_name="python3", timeout=TIMEOUT,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # a failing cell raises CellExecutionError
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells)
    assert repository_files() == before  # the notebook wrote nothing into the repository


def repository_files() -> set[Path]:
    """Every file under the repository, ignored ones (runs/, caches) included, but git's own."""
    return {p for p in REPO.rglob("*") if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts
            and ".pytest_cache" not in p.parts}


def test_notebooks_are_found_and_follow_the_conventions():
    assert REPO / "case_studies" / "ishigami" / "ishigami.py" in NOTEBOOKS
    for path in NOTEBOOKS:
        assert path.stem == path.parent.name, f"{path}: a notebook is case_studies/<name>/<name>.py"
        first = next(cell for cell in jupytext.read(path).cells if cell.cell_type == "code")
        assert 'SMALL = os.environ.get("UQMS_CASE_STUDY_SIZE") == "small"' in first.source, f"{path}: first code cell"
