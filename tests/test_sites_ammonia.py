"""The ammonia workflow with a functional ensemble and a site distribution (workflows/ammonia_sites_ensemble.toml)."""

from pathlib import Path

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss

from uqms.models import Chain, resolve_stage
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.steady_state import (
    BAD_INPUT,
    NOT_CONVERGED,
    OK,
    STATUS_MESSAGES,
    solve_steady_state,
)
from uqms.workflow import Workflow

WORKFLOWS = Path(__file__).parents[1] / "workflows"
FLOW = WORKFLOWS / "ammonia_sites_ensemble.toml"


@pytest.fixture(scope="module")
def workflow():
    return Workflow.from_file(FLOW)


def test_inputs_are_an_ensemble_member_and_the_site_spread(workflow):
    assert workflow.inputs.names == ("sigma_sites", "functional_member")
    assert workflow.inputs["functional_member"].group == "functional"
    assert [s.name for s in workflow.chain.stages] == ["ensemble.member(functional)", "sites.average(sites)"]


def test_site_averaged_tof_equals_per_site_solves(workflow):
    inputs = workflow.sample_inputs(0, 24)
    out = workflow.evaluate(inputs)
    assert np.all(out["status"] == 0)
    # the expectation built independently of the site average: the file's per-site chain
    # built afresh, 12-point Gauss-Hermite nodes of the standard normal from numpy
    mechanism = str(WORKFLOWS / "ammonia_mechanism.toml")
    per_site = Chain([
        resolve_stage("energetics.scaling", {"mechanism_file": mechanism}),
        resolve_stage("microkinetics.steady_state", {"mechanism_file": mechanism, "temperature": "T",
                                                     "pressures": {"N2": "p_N2", "H2": "p_H2", "NH3": "p_NH3"}}),
    ])
    nodes, weights = hermegauss(12)
    constants = {k: np.full(24, c.value) for k, c in workflow.constants.items()}
    direct = np.zeros(24)
    for weight, z in zip(weights / weights.sum(), nodes):
        batch = {**constants, "E_N": out["E_N"] + inputs["sigma_sites"] * z, "n2_ts_intercept": out["n2_ts_intercept"]}
        direct += weight * per_site(batch)["tof"][:, 0]
    np.testing.assert_allclose(out["tof"][:, 0], direct, rtol=1e-8)
    at_mean = per_site({**constants, "E_N": out["E_N"], "n2_ts_intercept": out["n2_ts_intercept"]})["tof"][:, 0]
    assert np.max(np.abs(np.log(out["tof"][:, 0] / at_mean))) > 0.1  # the mean rate is not the rate at the mean
    np.testing.assert_allclose(out["tof_site_share"].sum(axis=1), 1.0)
    assert np.all((out["tof_top5_share"] > 0.05) & (out["tof_top5_share"] <= 1))


def test_pca_mode_reports_the_kept_components(tmp_path):
    text = FLOW.read_text().replace('mode = "member"', 'mode = "pca"')
    text = text.replace('file = "data/', f'file = "{WORKFLOWS}/data/').replace('mechanism_file = "', f'mechanism_file = "{WORKFLOWS}/')
    path = tmp_path / "pca.toml"
    path.write_text(text)
    workflow = Workflow.from_file(path)
    assert workflow.inputs.names == ("sigma_sites", "functional_pc1", "functional_pc2")
    assert "principal component 1 of 2" in workflow.inputs["functional_pc1"].description
    out = workflow.evaluate(workflow.sample_inputs(0, 16))
    assert np.all(out["status"] == 0) and np.all(out["tof"] > 0)


def test_site_nodes_started_from_neighbours_equal_independent_cold_solves(workflow):
    """The site average solves samples x 12 nodes as one flat batch, each node's Newton started
    from a converged neighbour (continuation along the batch). Every sample's averages equal
    those of the same nodes solved each on its own from the uniform guess, to the solver's
    tolerance; samples whose nodes cannot converge (N-poisoned) keep NOT_CONVERGED, one with a
    negative pressure BAD_INPUT, and the samples beside them are unchanged."""
    average = workflow.chain.stages[1]
    mechanism = average.stage.stages[1].mechanism
    rng = np.random.default_rng(11)
    n = 240
    batch = {"E_N": rng.uniform(-1.6, 0.6, n), "n2_ts_intercept": rng.normal(1.56, 0.1, n),
             "sigma_sites": rng.uniform(0.05, 0.2, n), "T": np.full(n, 673.0), "p_N2": np.full(n, 25.0),
             "p_H2": np.full(n, 75.0), "p_NH3": np.zeros(n)}
    poisoned, invalid = [40, 41, 200], 120
    batch["E_N"][poisoned] = [-40.0, -30.0, -60.0]
    batch["p_N2"][invalid] = -1.0
    out = average(batch)

    nodes, weights = hermegauss(12)
    weights = weights / weights.sum()
    tof, coverage = np.zeros(n), np.zeros((n, len(mechanism.adsorbates)))
    cold_status = np.zeros(n, dtype=int)
    for weight, z in zip(weights, nodes):
        node = {**batch, "E_N": batch["E_N"] + batch["sigma_sites"] * z}
        state = solve_steady_state(mechanism, rate_constants_at(mechanism, node["T"], node),
                                   {"N2": node["p_N2"], "H2": node["p_H2"], "NH3": node["p_NH3"]}, along_batch=False)
        assert not state.iterations[state.status == OK].min() < 5  # cold: every node by continuation
        tof += weight * state.tof()[:, 0]
        coverage += weight * state.coverages
        cold_status = np.where(cold_status == OK, state.status, cold_status)

    failed = np.flatnonzero(out["status"] != 0)
    np.testing.assert_array_equal(failed, sorted([*poisoned, invalid]))
    np.testing.assert_array_equal(np.flatnonzero(cold_status != OK), failed)
    messages = average.status_messages
    assert all(messages[out["status"][i]].endswith(STATUS_MESSAGES[NOT_CONVERGED]) for i in poisoned)
    assert messages[out["status"][invalid]].endswith(STATUS_MESSAGES[BAD_INPUT])
    assert np.isnan(out["tof"][failed]).all()
    good = out["status"] == 0
    np.testing.assert_allclose(out["tof"][good, 0], tof[good], rtol=1e-8)
    np.testing.assert_allclose(out["coverage"][good], coverage[good], rtol=1e-8, atol=1e-14)
    clean = {k: np.delete(v, failed) for k, v in batch.items()}  # the same samples without the failing ones
    np.testing.assert_allclose(average(clean)["tof"][:, 0], out["tof"][good, 0], rtol=1e-8)
