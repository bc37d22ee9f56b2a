"""Runs round-trip exactly through NetCDF and Zarr."""

import chaospy
import numpy as np
import pytest

from uqms import UncertainInput, Workflow, load_run, save_run
from uqms.execution import input_names, output_names, status_messages
from uqms.execution.store import verify_run


class Profile:
    """A stage with a 2-D output along a labelled axis."""

    inputs, outputs = ("k",), ("theta", "tof")
    units = {"theta": "1", "tof": "1/s"}
    output_dims = {"theta": ("adsorbate",)}
    output_coords = {"adsorbate": ["N*", "H*", "*"]}
    status_messages = {1: "did not converge"}

    def __call__(self, batch):
        k = batch["k"]
        theta = np.column_stack([k, k**2, 1 - k - k**2]) / 2
        return {"theta": theta, "tof": np.exp(k), "status": (k > 0.95).astype(int)}


@pytest.fixture(scope="module")
def run():
    flow = Workflow([Profile()], inputs=[UncertainInput("k", chaospy.Uniform(0, 1), unit="eV")], n=200, batch_size=64)
    return flow.run()


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_round_trip_is_exact(run, tmp_path, suffix):
    path = save_run(run, tmp_path / f"run{suffix}")
    back = load_run(path)
    assert back.identical(run)
    assert back["theta"].dims == ("sample", "adsorbate")
    assert list(back["adsorbate"].values) == ["N*", "H*", "*"]
    assert input_names(back) == ["k"] and output_names(back) == ["theta", "tof"]
    assert "did not converge" in status_messages(back)[int(back.status.max())]


@pytest.mark.parametrize("reader", [load_run, verify_run])
def test_missing_store_is_named(tmp_path, reader):
    with pytest.raises(FileNotFoundError, match="nothing.zarr: no such run store"):
        reader(tmp_path / "nothing.zarr")
