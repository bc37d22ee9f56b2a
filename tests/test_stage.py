"""Stages and chains: wiring checked before running, failures isolated per sample."""

import numpy as np
import pytest

from uqms.errors import WiringError
from uqms.models import Chain, FunctionStage, StageError, stage


@stage(inputs=["x"], outputs=["y"], units={"y": "eV"})
def double(x):
    return 2 * x


@stage(inputs=["y", "z"], outputs=["w"])
def add(y, z):
    return y + z


def test_chain_is_a_stage_with_external_inputs_and_all_outputs():
    chain = Chain([double, add])
    assert chain.inputs == ("x", "z")
    assert chain.outputs == ("y", "w")
    assert chain.units == {"y": "eV"}
    out = chain({"x": np.arange(3.0), "z": np.ones(3)})
    assert np.array_equal(out["w"], [1.0, 3.0, 5.0])
    assert np.array_equal(out["status"], [0, 0, 0])
    nested = Chain([Chain([double]), add])
    assert np.array_equal(nested({"x": np.arange(3.0), "z": np.ones(3)})["w"], out["w"])


def test_missing_input_is_named_with_the_stage_that_needs_it():
    with pytest.raises(WiringError, match=r"stage 'add' needs \['z'\]"):
        Chain([double, add]).check_wiring(["x"])


def test_name_produced_twice_is_refused():
    with pytest.raises(WiringError, match="'y' is produced twice"):
        Chain([double, FunctionStage(lambda x: x, ["x"], ["y"], name="copy")])


def test_reading_before_production_is_an_ordering_error():
    with pytest.raises(WiringError, match="reads 'y' before stage 'double' produces it"):
        Chain([add, double])


def test_cycle_is_refused():
    a = FunctionStage(lambda q: q, ["q"], ["p"], name="a")
    b = FunctionStage(lambda p: p, ["p"], ["q"], name="b")
    with pytest.raises(WiringError, match="break the cycle"):
        Chain([a, b])


def test_output_shadowing_an_input_is_refused():
    with pytest.raises(WiringError, match=r"\['y'\] are produced by a stage and also given"):
        Chain([double]).check_wiring(["x", "y"])


def _fragile(x):
    if np.any(x == 3):
        raise ZeroDivisionError("x == 3 is fatal")
    return np.where(x == 5, np.nan, x**2)


def test_raising_and_nan_samples_get_a_status_and_the_rest_are_kept():
    fragile = FunctionStage(_fragile, ["x"], ["y"], name="fragile")
    later = FunctionStage(lambda y: y + 1, ["y"], ["v"], name="later")
    chain = Chain([fragile, later])
    x = np.arange(10.0)
    out = chain({"x": x})
    messages = chain.status_messages
    assert messages[out["status"][3]] == "stage 'fragile' raised an exception"
    assert messages[out["status"][5]] == "stage 'fragile' returned non-finite values"
    good = np.setdiff1d(np.arange(10), [3, 5])
    assert np.all(out["status"][good] == 0)
    assert np.array_equal(out["v"][good], x[good] ** 2 + 1)
    assert np.isnan(out["v"][3]) and np.isnan(out["v"][5])  # later stage never saw them


def test_samples_that_raised_are_reported_in_one_warning_per_stage_and_batch(caplog):
    chain = Chain([FunctionStage(_fragile, ["x"], ["y"], name="fragile")])
    with caplog.at_level("WARNING", logger="uqms"):
        chain({"x": np.array([3.0, 1.0, 3.0, 2.0, 3.0, 0.0])})
    assert [r.getMessage() for r in caplog.records] == [
        "stage 'fragile' raised on 3 of 6 samples of a batch; the first: ZeroDivisionError: x == 3 is fatal"
    ]


class Solver:
    inputs, outputs = ("x",), ("y",)
    status_messages = {1: "did not converge"}

    def __call__(self, batch):
        x = batch["x"]
        return {"y": np.sqrt(np.abs(x)), "status": (x < 0).astype(int)}


def test_stage_reported_status_is_mapped_into_the_chain_table():
    chain = Chain([Solver()])
    out = chain({"x": np.array([1.0, -1.0, 4.0])})
    assert chain.status_messages[out["status"][1]] == "stage 'Solver': did not converge"
    assert out["status"][0] == out["status"][2] == 0


def test_contract_violations_are_bugs_not_sample_failures():
    short = FunctionStage(lambda x: x[:-1], ["x"], ["y"], name="short")
    with pytest.raises(StageError, match="expected 4 samples first"):
        Chain([short])({"x": np.ones(4)})


class _Coverages:
    """A later stage with a per-adsorbate output; counts its calls."""

    inputs = ("y",)
    outputs = ("theta", "rate")
    units = {"theta": "1", "rate": "1/s"}
    output_dims = {"theta": ("adsorbate",)}
    output_coords = {"adsorbate": ["N*", "H*", "*"]}

    def __init__(self):
        self.calls = 0

    def __call__(self, batch):
        self.calls += 1
        return {"theta": np.full((len(batch["y"]), 3), 1 / 3), "rate": np.exp(batch["y"])}


def _always_raises(x):
    raise RuntimeError("no convergence")


def test_every_sample_failing_at_the_first_stage_leaves_later_outputs_nan_in_their_declared_shape():
    later = _Coverages()
    chain = Chain([FunctionStage(_always_raises, ["x"], ["y"], name="first"), later])
    out = chain({"x": np.arange(6.0)})
    assert later.calls == 0  # never called on an empty batch
    assert {chain.status_messages[c] for c in out["status"]} == {"stage 'first' raised an exception"}
    assert out["theta"].shape == (6, 3) and out["rate"].shape == (6,) and out["y"].shape == (6,)
    assert np.isnan(out["theta"]).all() and np.isnan(out["rate"]).all() and np.isnan(out["y"]).all()


def test_an_unreached_output_with_unlabelled_dims_is_a_contract_error():
    later = _Coverages()
    later.output_coords = {}
    chain = Chain([FunctionStage(_always_raises, ["x"], ["y"], name="first"), later])
    with pytest.raises(StageError, match=r"reached the stage producing 'theta', whose dims \['adsorbate'\] have no "
                                         "output_coords"):
        chain({"x": np.arange(4.0)})
