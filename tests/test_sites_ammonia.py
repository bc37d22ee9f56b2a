"""The ammonia workflow with a functional ensemble and a site distribution (workflows/ammonia_sites_ensemble.toml)."""

from pathlib import Path

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss

from uqms.models import Chain, resolve_stage
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
