"""Every case-study notebook (``case_studies/<name>/<name>.py``, jupytext percent format)
runs headless at its small size without error."""

import jupytext
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOKS = sorted(p for p in (REPO / "case_studies").glob("*/*.py") if "\n# %%" in "\n" + p.read_text())  # helper modules have no cells
TIMEOUT = 600  # s per cell: a bound for a stuck kernel, not a speed requirement


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_notebook_runs_at_small_size(path, monkeypatch):
    monkeypatch.setenv("UQMS_CASE_STUDY_SIZE", "small")
    notebook = jupytext.read(path)
    client = NotebookClient(notebook, kernel_name="python3", timeout=TIMEOUT,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # a failing cell raises CellExecutionError
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells)


def test_notebooks_are_found_and_follow_the_conventions():
    assert REPO / "case_studies" / "ishigami" / "ishigami.py" in NOTEBOOKS
    for path in NOTEBOOKS:
        assert path.stem == path.parent.name, f"{path}: a notebook is case_studies/<name>/<name>.py"
        first = next(cell for cell in jupytext.read(path).cells if cell.cell_type == "code")
        assert 'SMALL = os.environ.get("UQMS_CASE_STUDY_SIZE") == "small"' in first.source, f"{path}: first code cell"
