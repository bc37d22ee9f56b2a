"""Shared fixtures and helpers."""

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def _metadata_of_this_tree() -> None:
    """Make uqms's installed metadata declare this tree's stage entry points.

    Stages are found through the ``uqms.stages`` entry points of the installed uqms. When
    the tests run this tree through PYTHONPATH while uqms is installed from another
    checkout, that metadata is another tree's: write a metadata folder (``dist-info``)
    with this ``pyproject.toml``'s entry points and put it first on the path, also for
    the subprocesses the tests start.
    """
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["entry-points"]["uqms.stages"]
    try:
        installed = {p.name: p.value for p in importlib.metadata.distribution("uqms").entry_points
                     if p.group == "uqms.stages"}
    except importlib.metadata.PackageNotFoundError:
        installed = {}
    if installed == declared:
        return
    folder = Path(tempfile.mkdtemp(prefix="uqms-metadata-"))
    info = folder / f"uqms-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: uqms\nVersion: {project['version']}\n")
    (info / "entry_points.txt").write_text(
        "[uqms.stages]\n" + "".join(f"{name} = {value}\n" for name, value in declared.items()))
    sys.path.insert(0, str(folder))
    os.environ["PYTHONPATH"] = os.pathsep.join([str(folder), str(REPO), os.environ.get("PYTHONPATH", "")])


_metadata_of_this_tree()

if os.environ.get("PYTEST_XDIST_WORKER"):
    # A pytest-xdist worker inherits the COLUMNS and LINES that GNU readline (imported by pytest in
    # the controlling process) set in its C environment. The console of uqms.cli, made when it is
    # imported, would keep that width for good and ignore the COLUMNS a test gives the command.
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)


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
def plugin_site(tmp_path_factory) -> Path:
    """A folder holding tests/plugin_package (a second package declaring a ``uqms.stages``
    entry point), installed there by pip from its own pyproject."""
    site = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(site), str(REPO / "tests" / "plugin_package")], check=True, capture_output=True)
    return site


@pytest.fixture(scope="session")
def ammonia_calibration_idata():
    """A short calibration of the ammonia workflow to its bundled rates (the docs' example), shared by
    the tests of posterior runs."""
    from uqms.calibration import calibrate
    from uqms.workflow import Workflow

    flow = Workflow.from_file(REPO / "workflows" / "ammonia.toml")
    return calibrate(flow, REPO / "workflows" / "ammonia_rates.csv", walkers=8, steps=40, quiet=True)


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory) -> Callable[[str, int], Path]:
    """``bundled_run(path, n)``: the store of a run of a bundled workflow (``path`` from the
    repository's root) at ``n`` samples, made once per session and shared by the tests that
    only read it. Its per-sample result caches go next to the store, not into the repository."""
    from uqms.workflow import Workflow

    made: dict[tuple[str, int], Path] = {}

    def run(path: str, n: int) -> Path:
        if (path, n) not in made:
            folder = tmp_path_factory.mktemp(Path(path).stem)
            flow = Workflow.from_file(REPO / path)
            for stage in flow.chain.stages:
                if getattr(stage, "cache_path", None):
                    stage.cache_path = str(folder / "cache.sqlite")
            flow.run(n=n, store=folder / "run.zarr")
            made[path, n] = folder / "run.zarr"
        return made[path, n]

    return run


@pytest.fixture(scope="session")
def local_cluster():
    """A local Dask cluster of two single-threaded worker processes, shared by the tests that only
    run work on it (a test that kills workers or needs other settings starts its own). Dask gives
    up a task at its first lost worker (allowed-failures 0): a worker lost here fails the test at once."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # read once, by the scheduler it starts
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster:
        yield cluster
