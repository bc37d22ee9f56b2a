"""The run store: fingerprinted (workflow and the content of its files), made atomically, locked, checksummed."""

import json
import socket
import subprocess
import sys

import numpy as np
import pytest

from uqms import Workflow
from uqms.execution.lock import StoreLockedError, lock_path
from uqms.execution.run_store import StoreMismatchError
from uqms.execution.store import DamagedRunError, verify_run

SCALED_STAGES = '''
import numpy as np

class Scaled:
    """y = scale * x, the scale read from a file."""
    inputs, outputs = ("x",), ("y",)

    def __init__(self, scale_file):
        self.scale = float(open(scale_file).read())

    def __call__(self, batch):
        return {"y": self.scale * batch["x"]}
'''

SCALED_WORKFLOW = '''
[workflow]
name = "scaled"

[inputs.x]
distribution = "uniform"
lower = 0.0
upper = 1.0
kind = "aleatoric"

[[chain]]
stage = "scaled_stages:Scaled"
options = { scale_file = "scale.txt" }

[design]
n = 64

[execution]
batch_size = 16
'''


@pytest.fixture
def scaled(tmp_path, monkeypatch):
    """A workflow file whose stage reads ``scale.txt`` beside it."""
    (tmp_path / "scaled_stages.py").write_text(SCALED_STAGES)
    (tmp_path / "scaled.toml").write_text(SCALED_WORKFLOW)
    (tmp_path / "scale.txt").write_text("2.0")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path / "scaled.toml"


def test_a_store_refuses_to_resume_after_a_file_of_the_workflow_changed(scaled, tmp_path):
    store = tmp_path / "run.zarr"
    first = Workflow.from_file(scaled).run(store=store).load()
    (tmp_path / "scale.txt").write_text("3.0")
    with pytest.raises(StoreMismatchError, match=r"scale.txt changed since this store was started"):
        Workflow.from_file(scaled).run(store=store)
    (tmp_path / "scale.txt").write_text("2.0")
    assert Workflow.from_file(scaled).run(store=store).identical(first)


HALF_MADE = '{"attributes":{},"zarr_format":3,"consolidated_metadata":null,"node_type":"group"}'


def test_a_store_whose_creation_was_killed_is_made_again(scaled, tmp_path):
    reference = Workflow.from_file(scaled).run()
    half_made = tmp_path / "old.zarr"  # as left by a kill -9 in the middle of to_zarr
    half_made.mkdir()
    (half_made / "zarr.json").write_text(HALF_MADE)
    assert Workflow.from_file(scaled).run(store=half_made).identical(reference)
    partial = tmp_path / ".new.zarr.partial"  # a creation killed before its rename into place
    (partial / "x").mkdir(parents=True)
    assert Workflow.from_file(scaled).run(store=tmp_path / "new.zarr").identical(reference)
    assert not partial.exists()


def test_a_store_in_use_is_refused_and_a_stale_lock_taken_over(scaled, tmp_path):
    store = tmp_path / "run.zarr"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_path(store).write_text(json.dumps({"pid": other.pid, "host": socket.gethostname(), "since": "now"}))
        with pytest.raises(StoreLockedError, match=rf"run.zarr: in use by another uqms run \(pid {other.pid} on"):
            Workflow.from_file(scaled).run(store=store)
        assert not store.exists()
    finally:
        other.kill()
        other.wait()
    # the owner is dead now: its lock is stale
    assert Workflow.from_file(scaled).run(store=store).identical(Workflow.from_file(scaled).run())
    assert not lock_path(store).exists()


def test_damaged_batches_are_found_and_computed_again(scaled, tmp_path):
    from typer.testing import CliRunner

    from uqms.cli import app

    store = tmp_path / "run.zarr"
    reference = Workflow.from_file(scaled).run(store=store).load()
    assert verify_run(store).written == 4
    (store / "y" / "c" / "1").unlink()  # read back as NaN
    (store / "x" / "c" / "2").write_bytes(np.random.default_rng(0).bytes(300))  # undecodable
    with pytest.raises(DamagedRunError, match=r"2 of 4 batches written are damaged \(samples 16:32, 32:48\)"):
        verify_run(store)
    for command in ("verify", "show"):
        result = CliRunner().invoke(app, [command, str(store)], env={"COLUMNS": "300"})
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert "2 of 4 batches written are damaged" in result.output
    assert Workflow.from_file(scaled).run(store=store).identical(reference)
    assert verify_run(store).written == 4


def _files(store) -> dict[str, object]:
    """Every file of a Zarr store: metadata parsed (JSON), chunks as bytes."""
    return {str(f.relative_to(store)): json.loads(f.read_text()) if f.name == "zarr.json" else f.read_bytes()
            for f in sorted(store.rglob("*")) if f.is_file()}


@pytest.mark.parametrize("file", ["ishigami.toml", "ammonia_sites_ensemble.toml", "ammonia_pfr.toml"])
def test_a_store_is_made_as_xarray_makes_it(file, tmp_path):
    """The store RunStore.create makes with Zarr directly equals, file for file, the one xarray's
    to_zarr(compute=False) makes of the same template (sample variables, constants, output
    coordinates, attributes, fill values, chunks, compression), and opens to the same Dataset."""
    import xarray as xr

    from benchmarks.store_create import through_xarray
    from tests.conftest import REPO
    from uqms.execution.run_store import RunStore, fingerprint
    from uqms.execution.runner import _template, evaluate_batch

    flow = Workflow.from_file(REPO / "workflows" / file)
    n, batch_size = 1000, 96  # a last batch cut short
    probe = evaluate_batch(flow, 0, 4, n, flow.seed)
    made = {}
    for label, make in (("xarray", through_xarray), ("uqms", RunStore.create)):
        made[label] = tmp_path / f"{label}.zarr"
        make(made[label], _template(flow, probe, n, flow.seed, batch_size), fingerprint(flow, n, flow.seed), batch_size, 1e-4)
    assert _files(made["uqms"]) == _files(made["xarray"])
    assert any(name.endswith("/c/0") for name in _files(made["uqms"])) == (file != "ishigami.toml")  # coordinates written
    with xr.open_zarr(made["uqms"], consolidated=False) as ours, xr.open_zarr(made["xarray"], consolidated=False) as peer:
        assert ours.identical(peer) and ours.sizes["sample"] == n


def _ishigami(tmp_path, design: str):
    """The bundled Ishigami workflow with another design, written beside the store."""
    from tests.conftest import REPO

    path = tmp_path / f"ishigami_{design}.toml"
    path.write_text((REPO / "workflows" / "ishigami.toml").read_text().replace('method = "sobol"', f'method = "{design}"'))
    return Workflow.from_file(path)


def _bits(run) -> dict[str, bytes]:
    return {name: run[name].values.tobytes() for name in run.data_vars}


@pytest.mark.parametrize(("design", "n", "batch_size"), [
    ("mc", 256, 64), ("sobol", 256, 64), ("halton", 256, 64), ("sobol", 256, 96), ("saltelli", 320, 64),
])
def test_a_finished_store_extended_to_2n_equals_a_fresh_2n_run(tmp_path, design, n, batch_size):
    from uqms.execution import open_run

    flow, store = _ishigami(tmp_path, design), tmp_path / "run.zarr"
    first = flow.run(n=n, batch_size=batch_size, store=store).load()
    extended = flow.run(n=2 * n, batch_size=batch_size, store=store).load()
    fresh = flow.run(n=2 * n, batch_size=batch_size)
    assert extended.sizes["sample"] == 2 * n and extended.attrs["n_samples"] == 2 * n
    assert _bits(extended.isel(sample=slice(n))) == _bits(first)  # the first n kept bit for bit
    assert extended.identical(fresh)
    assert verify_run(store).written == -(-2 * n // batch_size)
    assert open_run(store).identical(fresh)
    assert flow.run(n=2 * n, store=store).identical(fresh)  # run again: nothing left to do


def test_an_extension_interrupted_resumes(tmp_path):
    import zarr

    from uqms.execution import open_run
    from uqms.execution.store import IncompleteRunError

    flow, store = _ishigami(tmp_path, "halton"), tmp_path / "run.zarr"
    flow.run(n=256, batch_size=64, store=store)
    extended = flow.run(n=512, batch_size=64, store=store).load()
    done = zarr.open_array(store / "batch_done", mode="r+")
    done[5:] = False  # as if killed after the first new batch was written
    with pytest.raises(IncompleteRunError, match="5 of 8 batches"):
        open_run(store)
    assert flow.run(n=512, store=store).identical(extended)
    assert verify_run(store).written == 8


def test_a_run_of_a_design_whose_samples_depend_on_n_is_not_extended(tmp_path):
    from uqms.execution import open_run

    flow, store = _ishigami(tmp_path, "lhs"), tmp_path / "run.zarr"
    first = flow.run(n=256, batch_size=64, store=store).load()
    with pytest.raises(StoreMismatchError, match=r"256 samples of this run and cannot be extended to n 512: a Latin "
                       r"hypercube's strata depend on n .*design 'lhs'.*left untouched"):
        flow.run(n=512, batch_size=64, store=store)
    with pytest.raises(StoreMismatchError, match="more than the n 128 asked for"):
        flow.run(n=128, store=store)
    assert open_run(store).identical(first)


def test_a_store_fingerprinted_before_runs_could_be_extended_still_resumes_and_extends(tmp_path):
    import zarr

    from uqms.execution.run_store import FINGERPRINT, fingerprint

    flow, store = _ishigami(tmp_path, "mc"), tmp_path / "run.zarr"
    flow.run(n=256, batch_size=64, store=store)
    zarr.open_group(store, mode="r+").attrs[FINGERPRINT] = fingerprint(flow, 256, flow.seed, legacy=True)
    assert flow.run(n=512, batch_size=64, store=store).identical(flow.run(n=512, batch_size=64))


@pytest.mark.parametrize("file", ["ammonia.toml", "ammonia_sites_ensemble.toml"])
def test_batches_written_straight_to_their_chunk_files_are_byte_for_byte_zarrs(file, tmp_path):
    """RunStore writes a batch's chunks, its checksum and done mark to their files itself
    (Zarr's own write costs more than encoding them): the files are byte for byte those Zarr
    writes of the same rows into a twin store, the last batch cut short included, and read
    back through xarray as written. A store whose arrays use a codec it does not write
    (here: none at all) is written by Zarr, to the same values."""
    import shutil

    import xarray as xr
    import zarr

    from tests.conftest import REPO
    from uqms.execution.run_store import (
        WRITE_CONFIG,
        RunStore,
        _chunk_writer,
        _leading_dimension,
        fingerprint,
    )
    from uqms.execution.runner import _template, evaluate_batch

    flow = Workflow.from_file(REPO / "workflows" / file)
    n, batch_size = 200, 96
    template = _template(flow, evaluate_batch(flow, 0, 4, n, flow.seed), n, flow.seed, batch_size)
    paths = {label: tmp_path / f"{label}.zarr" for label in ("direct", "zarr")}
    for path in paths.values():
        RunStore.create(path, template, fingerprint(flow, n, flow.seed), batch_size, 1e-4)
    batches = [evaluate_batch(flow, start, min(start + batch_size, n), n, flow.seed) for start in range(0, n, batch_size)]
    direct = RunStore(paths["direct"], batch_size)
    rows_of = {name for name, array in direct._zarr_arrays().items() if _leading_dimension(array) in ("sample", "batch")}
    assert set(direct._chunk_writers()) == rows_of and len(rows_of) > len(batches[0])
    for index, rows in enumerate(batches):
        direct.write(rows, index)
        twin = zarr.open_group(paths["zarr"], mode="r+")
        for name, values in rows.items():  # every chunk written, as RunStore's arrays write them
            twin[name].with_config(WRITE_CONFIG)[index * batch_size : index * batch_size + len(values)] = values
    for name in ("batch_done", "batch_checksum"):
        zarr.open_group(paths["zarr"], mode="r+")[name][:] = zarr.open_group(paths["direct"])[name][:]
    assert _files(paths["direct"]) == _files(paths["zarr"])
    with xr.open_zarr(paths["direct"], consolidated=False) as run:
        for name in batches[0]:
            np.testing.assert_array_equal(run[name].values, np.concatenate([b[name] for b in batches]))

    plain = tmp_path / "plain.zarr"
    shutil.copytree(paths["zarr"], plain)
    uncompressed = zarr.create_array(plain / "status_copy", shape=(n,), chunks=(batch_size,), dtype="int32",
                                     compressors=None)
    assert _chunk_writer(uncompressed) is None
    store = RunStore(plain, batch_size)
    assert "status_copy" not in store._chunk_writers()
    store.write_rows({"status_copy": batches[-1]["status"] + 7}, len(batches) - 1)
    np.testing.assert_array_equal(uncompressed[-len(batches[-1]["status"]):], batches[-1]["status"] + 7)
