"""``uqms verify`` on a store whose run was interrupted: the batches written are checked and
the batches and samples still missing are named; incomplete is not damage (exit status 0)."""

import zarr
from typer.testing import CliRunner

from tests.conftest import REPO
from uqms import Workflow
from uqms.cli import app
from uqms.execution.store import BatchCheck, save_run, verify_run


def _verify(store):
    return CliRunner().invoke(app, ["verify", str(store)], env={"COLUMNS": "300"})


def test_verify_names_the_batches_and_samples_an_interrupted_run_has_not_written(tmp_path):
    flow = Workflow.from_file(REPO / "workflows" / "ishigami.toml")
    store = tmp_path / "run.zarr"
    whole = flow.run(n=200, batch_size=64, store=store).load()  # batches of 64, 64, 64 and 8 samples
    done = zarr.open_array(store / "batch_done", mode="r+")
    done[1] = done[3] = False  # as a run killed before recording them leaves its store

    assert verify_run(store) == BatchCheck(written=2, batches=4, missing_samples=64 + 8)
    result = _verify(store)
    assert result.exit_code == 0, result.output
    assert f"{store}: ok - 2 batches match their checksums" in result.output
    assert f"{store}: incomplete - 2 of 4 batches (72 samples) not written yet; run the same `uqms run` command " \
           "again to resume it" in result.output

    assert flow.run(n=200, batch_size=64, store=store).identical(whole)  # resumed
    assert verify_run(store) == BatchCheck(written=4, batches=4, missing_samples=0)
    result = _verify(store)
    assert result.exit_code == 0 and "incomplete" not in result.output
    assert f"{store}: ok - 4 batches match their checksums" in result.output


def test_verify_of_a_run_killed_before_its_first_batch_is_not_taken_for_a_store_without_checksums(tmp_path):
    flow = Workflow.from_file(REPO / "workflows" / "ishigami.toml")
    store = tmp_path / "run.zarr"
    flow.run(n=100, batch_size=50, store=store)
    zarr.open_array(store / "batch_done", mode="r+")[:] = False
    assert verify_run(store) == BatchCheck(written=0, batches=2, missing_samples=100)
    result = _verify(store)
    assert result.exit_code == 0
    assert "no batch checksums" not in result.output
    assert "incomplete - 2 of 2 batches (100 samples) not written yet" in result.output


def test_verify_of_a_store_without_checksums_says_so(tmp_path):
    """A NetCDF file and a store saved whole have nothing to check: exit 0, said in one line."""
    run = Workflow.from_file(REPO / "workflows" / "ishigami.toml").run(n=32)
    for path in (tmp_path / "run.nc", tmp_path / "whole.zarr"):
        save_run(run, path)
        assert verify_run(path) == BatchCheck(written=0, batches=0, missing_samples=0)
        result = _verify(path)
        assert result.exit_code == 0
        assert f"{path}: no batch checksums to verify (a NetCDF file or a store saved whole)" in result.output
