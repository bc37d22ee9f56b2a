"""Outputs declared once: the stage protocol's output attributes follow from one list, prefixed in one place."""

import numpy as np
import pytest

from tests.conftest import REPO
from uqms.models.energetics.stage import MechanismEnergies
from uqms.models.microkinetics.stages import SteadyStateStage
from uqms.models.outputs import DeclaredOutputs, DeclaresOutputs, Output
from uqms.models.stage import Chain, Stage

MECHANISM = REPO / "workflows" / "ammonia_mechanism.toml"


class Doubler(DeclaresOutputs):
    inputs = ("x",)

    def __init__(self, prefix=""):
        self.declared = DeclaredOutputs(
            [Output("twice", units="m"), Output("pair", ("side",), "m", (0.0, None))], prefix, {"side": ["left", "right"]})

    def __call__(self, batch):
        x = batch["x"]
        return self.declared.batch({"twice": 2 * x, "pair": np.stack([x, 2 * x], axis=1)}, np.zeros(len(x), np.int32))


def test_names_dims_units_bounds_and_coords_follow_from_one_list_with_the_prefix_applied_once():
    stage = Doubler("a_")
    assert isinstance(stage, Stage)
    assert stage.outputs == ("a_twice", "a_pair")
    assert stage.output_dims == {"a_pair": ("a_side",)}  # one number per sample: no dims
    assert stage.units == {"a_twice": "m", "a_pair": "m"} and stage.bounds == {"a_pair": (0.0, None)}
    assert stage.output_coords == {"a_side": ["left", "right"]}
    out = Chain([stage, Doubler("b_")])({"x": np.array([1.0, 3.0])})
    np.testing.assert_array_equal(out["a_pair"], [[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_array_equal(out["b_twice"], [2.0, 6.0])


def test_a_result_must_be_exactly_the_declared_outputs():
    declared = DeclaredOutputs([Output("y")], "p_")
    with pytest.raises(KeyError, match="never declared"):
        declared.batch({"y": np.zeros(2), "z": np.zeros(2)})
    with pytest.raises(KeyError):
        declared.batch({})
    assert set(declared.batch({"y": np.zeros(2)})) == {"p_y"}
    with pytest.raises(ValueError, match="declared twice"):
        DeclaredOutputs([Output("y"), Output("y", units="s")])
    assert DeclaredOutputs([Output("y", units=None)]).units == {}  # an undeclared unit stays undeclared


def test_prefixed_mechanism_stages_name_their_outputs_and_dims_with_the_prefix():
    energies = MechanismEnergies(str(MECHANISM), prefix="Ru_")
    kinetics = SteadyStateStage(str(MECHANISM), prefix="Ru_", reaction_orders=True)
    assert energies.outputs == ("Ru_reaction_energy", "Ru_barrier") and set(energies.units.values()) == {"eV"}
    assert set(kinetics.inputs) >= set(energies.outputs)
    assert kinetics.output_dims["Ru_reaction_order"] == ("Ru_product", "Ru_gas")
    assert kinetics.units["Ru_tof"] == "1/s" and kinetics.bounds == {"Ru_coverage": (0.0, 1.0), "Ru_free_sites": (0.0, 1.0)}
    assert all(dim in kinetics.output_coords for dims in kinetics.output_dims.values() for dim in dims)
