"""A chain refuses a stage that breaks its contract, naming the stage: these are bugs to fix,
never samples to flag."""

import numpy as np
import pytest

from uqms.errors import WiringError
from uqms.models.stage import Chain, FunctionStage, StageError


class Lying:
    """Returns whatever it is told to, to break one rule at a time."""

    inputs, outputs, name = ("x",), ("y",), "liar"
    status_messages = {1: "x negative"}

    def __init__(self, result):
        self.result = result

    def __call__(self, batch):
        return self.result(batch["x"])


def test_what_is_not_a_stage_or_writes_status_is_refused_when_wired():
    with pytest.raises(WiringError, match="is not a stage"):
        Chain([lambda batch: batch])
    with pytest.raises(WiringError, match="stage 'st': 'status' is reserved for sample status"):
        Chain([FunctionStage(lambda x: x, ["x"], ["status"], name="st")])


@pytest.mark.parametrize(("result", "message"), [
    (lambda x: {"z": x}, "stage 'liar' did not return its output 'y'"),
    (lambda x: {"y": x[:-1]}, r"stage 'liar' returned 'y' with shape \(3,\), expected 4 samples first"),
    (lambda x: {"y": np.float64(1.0)}, r"returned 'y' with shape \(\), expected 4 samples first"),
    (lambda x: {"y": x, "status": np.array([0, 2, 0, 0])}, "stage 'liar' returned status 2 it does not declare"),
    (lambda x: (_ for _ in ()).throw(StageError("stage 'liar' broke a rule")), "broke a rule"),
])
def test_a_stage_breaking_its_contract_stops_the_batch(result, message):
    with pytest.raises(StageError, match=message):
        Chain([Lying(result)])({"x": np.arange(4.0)})


def test_a_declared_status_flags_its_samples_and_the_count_comes_from_any_entry():
    chain = Chain([Lying(lambda x: {"y": x, "status": np.where(x < 0, 1, 0)})])
    out = chain({"x": np.array([1.0, -1.0, 2.0])})
    assert out["status"].tolist() == [0, 3, 0]  # code 3: after the chain's own 'raised' and 'nonfinite'
    assert chain.status_messages[3] == "stage 'liar': x negative"
    constant = Chain([FunctionStage(lambda: np.ones(3), [], ["one"], name="constant")])  # reads nothing
    with pytest.raises(StageError, match="cannot tell the number of samples of an empty batch"):
        constant({})
    assert constant({"unrelated": np.zeros(3)})["status"].shape == (3,)  # counted from what the batch holds
