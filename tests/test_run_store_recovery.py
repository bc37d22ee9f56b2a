"""Run stores left in odd states, in this process: an extension killed while it resized the
arrays (named, then rolled back or finished) or before the batch cut short was computed
whole (its old rows kept), a store of another run, a half-made store whose metadata is
unreadable, an unreadable record of the batches written, a store made before batches had
checksums."""

import json
import logging
import shutil

import numpy as np
import pytest
import zarr
from typer.testing import CliRunner

from tests.conftest import REPO
from uqms import Workflow
from uqms.cli import app
from uqms.execution import open_run
from uqms.execution.run_store import (
    KEPT_ROWS,
    RunStore,
    StoreMismatchError,
    batches_done,
)
from uqms.execution.store import (
    BatchCheck,
    DamagedRunError,
    IncompleteRunError,
    verify_run,
)

N, BATCH = 200, 64  # the last of the 4 batches holds 8 samples


@pytest.fixture
def flow():
    return Workflow.from_file(REPO / "workflows" / "ishigami.toml")  # a sobol design: extendable


def _killed_mid_resize(store):
    """The state of a store whose extension from N to 2N was killed while it resized its
    arrays: one sample array resized, the others not, n not recorded."""
    zarr.open_array(store / "y", mode="r+").resize((2 * N,))


def _killed_before_recording_n(store):
    """The state of a store whose extension from N to 2N was killed just before it recorded
    the new n: arrays resized, the last batch (cut short by N) marked not done with its 8
    rows recorded as kept."""
    RunStore(store, BATCH, n_samples=N).extend(2 * N, batches_done(store))
    group = zarr.open_group(store, mode="r+")
    group.attrs["n_samples"] = N
    assert group.attrs[KEPT_ROWS] == '{"3": 8}' and not batches_done(store)[3]


KILLS = pytest.mark.parametrize("kill", [_killed_mid_resize, _killed_before_recording_n],
                                ids=["mid_resize", "before_recording_n"])


@KILLS
def test_an_extension_killed_while_resizing_is_named_then_rolled_back(flow, tmp_path, caplog, kill):
    store = tmp_path / "run.zarr"
    first = flow.run(n=N, batch_size=BATCH, store=store).load()
    kill(store)
    advice = f"or with n {N} to roll it back"
    if kill is _killed_mid_resize:  # arrays of different lengths: the store cannot be opened as it is
        with pytest.raises(IncompleteRunError, match=advice):
            open_run(store)
    with pytest.raises(IncompleteRunError, match=advice):
        verify_run(store)
    result = CliRunner().invoke(app, ["verify", str(store)], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "an extension of this run to more samples was interrupted" in result.output

    with caplog.at_level(logging.WARNING, logger="uqms"):
        rolled = flow.run(n=N, batch_size=BATCH, store=store)
    assert f"an extension to more samples was interrupted; rolled back to its {N} samples" in caplog.text
    assert rolled.identical(first)
    assert KEPT_ROWS not in zarr.open_group(store, mode="r").attrs
    assert verify_run(store) == BatchCheck(written=4, batches=4, missing_samples=0)


@KILLS
def test_an_extension_killed_while_resizing_is_finished_by_the_larger_n(flow, tmp_path, kill):
    store = tmp_path / "run.zarr"
    flow.run(n=N, batch_size=BATCH, store=store)
    kill(store)
    assert flow.run(n=2 * N, batch_size=BATCH, store=store).identical(flow.run(n=2 * N, batch_size=BATCH))
    assert verify_run(store) == BatchCheck(written=7, batches=7, missing_samples=0)


def test_a_store_of_another_run_is_refused_and_left_untouched(flow, tmp_path):
    store = tmp_path / "run.zarr"
    first = flow.run(n=64, seed=1, store=store).load()
    with pytest.raises(StoreMismatchError, match=r"this store holds another run \(workflow 'ishigami', n 64, seed 1, "
                                                 r"design 'sobol'\), not workflow 'ishigami', n 64, seed 2"):
        flow.run(n=64, seed=2, store=store)
    assert open_run(store).identical(first)


def test_a_half_made_store_with_unreadable_metadata_is_made_again(flow, tmp_path):
    store = tmp_path / "run.zarr"
    store.mkdir()
    (store / "zarr.json").write_text('{"attributes": {"store_fin')  # cut short by a kill while it was written
    assert flow.run(n=64, store=store).identical(flow.run(n=64))


def test_a_store_made_before_batches_had_checksums_verifies_and_opens(flow, tmp_path):
    store = tmp_path / "run.zarr"
    first = flow.run(n=N, batch_size=BATCH, store=store).load()
    shutil.rmtree(store / "batch_checksum")
    assert verify_run(store) == BatchCheck(written=4, batches=4, missing_samples=0)
    assert open_run(store).identical(first.drop_vars("batch_checksum", errors="ignore"))



@pytest.mark.parametrize("n_again", [N, 2 * N], ids=["resumed", "extended"])
def test_a_store_made_before_batches_had_checksums_resumes_and_is_checked_from_then_on(flow, tmp_path, caplog, n_again):
    """Resumed (or extended), it gets the checksums of its batches written, equal to those a run
    records; a batch unreadable gets none and is computed again; later damage is found."""
    store = tmp_path / "run.zarr"
    flow.run(n=N, batch_size=BATCH, store=store)
    recorded = zarr.open_array(store / "batch_checksum", mode="r")[:]
    metadata = json.loads((store / "batch_checksum" / "zarr.json").read_text())
    shutil.rmtree(store / "batch_checksum")
    zarr.open_array(store / "batch_done", mode="r+")[3] = False  # interrupted before its last batch
    (store / "x1" / "c" / "1").write_bytes(np.random.default_rng(0).bytes(300))  # undecodable
    with caplog.at_level(logging.WARNING, logger="uqms"):
        resumed = flow.run(n=n_again, batch_size=BATCH, store=store).load()
    assert "made before batches had checksums" in caplog.text
    assert "1 damaged batches computed again: [1]" in caplog.text
    assert resumed.identical(flow.run(n=n_again, batch_size=BATCH))
    checksums = zarr.open_array(store / "batch_checksum", mode="r")
    np.testing.assert_array_equal(checksums[:3], recorded[:3])
    assert json.loads((store / "batch_checksum" / "zarr.json").read_text()) == {**metadata, "shape": [-(-n_again // BATCH)]}
    assert not list(tmp_path.glob(".*partial"))
    (store / "y" / "c" / "2").unlink()  # read back as NaN
    with pytest.raises(DamagedRunError, match=r"1 of \d batches written are damaged \(samples 128:192\)"):
        verify_run(store)

def test_rows_kept_by_an_extension_stay_as_they_were_when_it_resumes(flow, tmp_path):
    """An extension killed after it recorded the new n, before the batch cut short by the
    old n was computed whole: that batch's old rows are kept as stored (here changed, as a
    model giving other values on a second call would), not computed again."""
    store = tmp_path / "run.zarr"
    flow.run(n=N, batch_size=BATCH, store=store)
    RunStore(store, BATCH, n_samples=N).extend(2 * N, batches_done(store))
    assert zarr.open_group(store, mode="r").attrs[KEPT_ROWS] == '{"3": 8}'
    y = zarr.open_array(store / "y", mode="r+")
    y[192:200] = np.arange(8.0)
    extended = flow.run(n=2 * N, batch_size=BATCH, store=store)
    fresh = flow.run(n=2 * N, batch_size=BATCH)
    np.testing.assert_array_equal(extended.y.values[192:200], np.arange(8.0))
    assert extended.isel(sample=slice(200, None)).identical(fresh.isel(sample=slice(200, None)))


def test_an_unreadable_record_of_the_batches_written_is_damage(flow, tmp_path):
    store = tmp_path / "run.zarr"
    flow.run(n=N, batch_size=BATCH, store=store)
    (store / "batch_done" / "c" / "1").write_bytes(np.random.default_rng(0).bytes(300))  # undecodable
    with pytest.raises(DamagedRunError, match="its record of the batches written is unreadable"):
        verify_run(store)
    result = CliRunner().invoke(app, ["verify", str(store)], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "its record of the batches written is unreadable" in result.output
