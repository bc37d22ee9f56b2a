"""The micro-kinetic stages in chains and in the worked ammonia workflow file."""

from pathlib import Path

import numpy as np

from uqms.models.microkinetics.stages import MechanismEnergies, SteadyStateStage
from uqms.models.registry import resolve_stage
from uqms.models.stage import Chain
from uqms.workflow import Workflow

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
MECHANISM = str(WORKFLOWS / "ammonia_mechanism.toml")


def test_ammonia_workflow_runs_with_labelled_outputs():
    flow = Workflow.from_file(WORKFLOWS / "ammonia.toml")
    run = flow.run(n=64)
    assert (run.status.values == 0).all()
    assert run.coverage.dims == ("sample", "adsorbate")
    assert list(run.coverage.adsorbate.values) == ["N*", "H*", "NH*", "NH2*"]
    assert run.tof.attrs["units"] == "1/s" and (run.tof.values > 0).all()
    np.testing.assert_allclose(run.coverage.sum("adsorbate") + run.free_sites.sum("site"), 1.0, atol=1e-12)
    np.testing.assert_allclose(run.drc.sum("step"), 1.0, atol=1e-8)
    np.testing.assert_allclose(run.selectivity, 1.0)


def test_steady_state_stage_options_and_failures_in_a_chain():
    energies = resolve_stage("energetics.scaling", {"mechanism_file": MECHANISM})
    steady = resolve_stage("microkinetics.steady_state", {
        "mechanism_file": MECHANISM, "temperature": "T", "pressures": {"N2": "p_N2", "H2": 75.0},
        "reaction_orders": True, "apparent_activation_energy": True,
    })
    assert isinstance(energies, MechanismEnergies) and isinstance(steady, SteadyStateStage)
    assert steady.inputs == ("reaction_energy", "barrier", "T", "p_N2")
    chain = Chain([energies, steady])
    temperature = np.array([673.0, np.nan, 673.0])  # a broken sample reaches the solver
    out = chain({"E_N": np.array([-1.0, -0.5, 0.5]), "n2_ts_intercept": np.full(3, 1.56), "T": temperature,
                 "p_N2": np.full(3, 25.0)})
    assert out["status"][0] == 0 and out["status"][2] == 0
    assert "rate constants or pressures not finite" in chain.status_messages[out["status"][1]]
    assert np.isnan(out["tof"][1]).all()
    assert out["reaction_order"].shape == (3, 1, 3) and out["apparent_activation_energy"].shape == (3, 1)
    assert out["reaction_order"][2, 0, 0] > 0.9  # N2 dissociation limits: first order in N2
    # N2 dissociation on an H-covered surface: E_app ~ E_TS (2.35 eV) + the H2 adsorption enthalpy the
    # two free sites cost (~1.2 eV at 673 K with zero-point and thermal terms) - k_B T / 2 (collision theory)
    assert 3.2 < out["apparent_activation_energy"][2, 0] < 3.8


NUMBERS_MECHANISM = """
[mechanism]
name = "numbers"
products = ["CO_b"]

[gas.CO_a]
mass = 28.0
pressure = 1.0
[gas.CO_b]
mass = 28.0

[sites.s]
adsorbates = ["CO*"]

[[steps]]
equation = "CO_a + * <=> CO*"
reaction_energy = -0.5
barrier = 0.0
[[steps]]
equation = "CO* <=> CO_b + *"
reaction_energy = 0.2
barrier = 0.9
"""

NUMBERS_WORKFLOW = """
[workflow]
name = "numbers"

[inputs.T]
distribution = "uniform"
lower = 450.0
upper = 550.0
kind = "aleatoric"
unit = "K"

[[chain]]
stage = "energetics.scaling"
options = { mechanism_file = "numbers.toml" }

[[chain]]
stage = "microkinetics.steady_state"
options = { mechanism_file = "numbers.toml", temperature = "T" }
"""


def test_a_mechanism_of_plain_numbers_runs_in_a_workflow(tmp_path):
    """Its energetics stage names no batch entry, yet learns the sample count from the temperature."""
    (tmp_path / "numbers.toml").write_text(NUMBERS_MECHANISM)
    (tmp_path / "workflow.toml").write_text(NUMBERS_WORKFLOW)
    run = Workflow.from_file(tmp_path / "workflow.toml").run(n=8)
    assert (run.status.values == 0).all()
    np.testing.assert_allclose(run.reaction_energy.values, np.tile([-0.5, 0.2], (8, 1)))
    assert (run.tof.values > 0).all()


def test_steps_that_give_rate_constants_leave_the_energetics_outputs_in_a_workflow(tmp_path):
    """The energetics stage covers the steps whose rates come from energies, along energy_step."""
    mixed = NUMBERS_MECHANISM.replace('reaction_energy = 0.2\nbarrier = 0.9\n', 'A = "A_des"\nEa = 0.9\nreversible = false\n')
    (tmp_path / "numbers.toml").write_text(mixed)
    (tmp_path / "workflow.toml").write_text(NUMBERS_WORKFLOW + """
[inputs.A_des]
distribution = "uniform"
lower = 1e12
upper = 1e14
kind = "epistemic"
unit = "1/s"
""")
    run = Workflow.from_file(tmp_path / "workflow.toml").run(n=8)
    assert (run.status.values == 0).all()
    assert run.barrier.dims == ("sample", "energy_step") and list(run.energy_step.values) == ["step0"]
    assert run.rate.dims == ("sample", "step") and (run.tof.values > 0).all()


def test_rate_constants_stage_gives_transition_state_theory_and_equilibrium_ratios():
    """Surface steps of the ammonia mechanism (no adsorbate thermochemistry): k_f = k_B T / h
    exp(-Ea / k_B T) with Ea the clipped barrier, and k_f / k_r = exp(-dE / k_B T)."""
    stage = resolve_stage("microkinetics.rate_constants", {"mechanism_file": MECHANISM, "temperature": 600.0})
    assert stage.inputs == ("reaction_energy", "barrier") and stage.units["k_forward"] == "1/s"
    batch = {"E_N": np.array([-1.0, -0.4, 0.3]), "n2_ts_intercept": np.array([1.5, 1.56, 1.7])}
    out = Chain([resolve_stage("energetics.scaling", {"mechanism_file": MECHANISM}), stage])(batch)
    kt, h = 8.617333262e-5 * 600.0, 4.135667696e-15  # eV, eV s (CODATA 2018)
    surface = [2, 3, 4]  # NH, NH2 formation; NH3 formation releases a gas: its ratio has gas terms
    barrier, energy = out["barrier"][:, surface], out["reaction_energy"][:, surface]
    np.testing.assert_allclose(out["k_forward"][:, surface], kt / h * np.exp(-barrier / kt), rtol=1e-9)
    np.testing.assert_allclose((out["k_forward"] / out["k_reverse"])[:, 2:4], np.exp(-energy[:, :2] / kt), rtol=1e-9)
    assert out["k_forward"].shape == (3, 5) and np.all(out["k_reverse"] > 0)
