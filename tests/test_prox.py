"""The PROX workflow (workflows/prox.toml): CO2 against H2O from one O2 feed in a PFR.

On every sample of a small run: the outlet keeps the elements, neither overall reaction is
past its equilibrium, the yields of CO2 and H2O add up to the O2 conversion, and the CO2
made is the CO converted. The selectivity depends on the descriptors the way the mechanism
says it must: CO that binds more strongly keeps O* from H* (higher CO2 selectivity).
"""

import numpy as np
from scipy.stats import spearmanr

from tests.conftest import REPO
from uqms.execution import open_run
from uqms.workflow import Workflow

WORKFLOW = REPO / "workflows" / "prox.toml"


def test_prox_balances_equilibrium_and_selectivity_on_every_sample(bundled_run):
    flow = Workflow.from_file(WORKFLOW)
    pfr = flow.chain.stages[-1]
    assert pfr.reactions.equations == ("2 CO + O2 -> 2 CO2", "O2 + 2 H2 -> 2 H2O")
    assert pfr.output_coords["product"] == ["CO2", "H2O"] and pfr.reactant == "O2"
    run = open_run(bundled_run("workflows/prox.toml", 64))  # the run tests/test_every_workflow.py analyses
    assert np.all(run["status"] == 0)
    assert np.all(run["element_imbalance"] <= 1e-10)
    assert np.all(run["approach_to_equilibrium"] <= 1.0)
    flows, inlet_o2, inlet_co = run["outlet_flow"], 0.01, 0.01
    co2_made = flows.sel(gas="CO2").values
    np.testing.assert_allclose(co2_made, inlet_co - flows.sel(gas="CO").values, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(run["yield"].sel(product="CO2").values, co2_made / 2 / inlet_o2, rtol=1e-12)
    np.testing.assert_allclose(run["yield"].sum("product").values, run["conversion"].values, rtol=1e-9, atol=1e-14)
    selectivity = run["selectivity"].sel(product="CO2").values
    assert selectivity.min() < 0.2 and selectivity.max() > 0.9  # the descriptors move it across the range
    assert spearmanr(-run["E_CO"].values, selectivity).statistic > 0.5
