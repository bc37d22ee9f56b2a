"""The ammonia case's rate table: made by its script from known inputs, usable for calibration."""

import numpy as np

from tests.conftest import REPO, load_script
from uqms.calibration import CalibrationProblem, load_measurements
from uqms.workflow import Workflow

WORKFLOWS = REPO / "workflows"


def _script():
    return load_script(WORKFLOWS / "ammonia_rates.py")


def test_shipped_table_is_the_output_of_its_script(tmp_path):
    written = _script().main(tmp_path / "rates.csv")
    assert written.read_text() == (WORKFLOWS / "ammonia_rates.csv").read_text()


def test_table_loads_and_favours_the_inputs_it_was_made_with():
    flow = Workflow.from_file(WORKFLOWS / "ammonia.toml")
    data = load_measurements(WORKFLOWS / "ammonia_rates.csv", flow, positive=True)
    assert data.keys == ["tof[NH3]"] and set(data.conditions) == {"T", "p_N2", "p_H2", "p_NH3"}
    problem = CalibrationProblem(flow, data)
    truth = _script().TRUE
    theta = np.array([[truth["E_N"], truth["n2_ts_intercept"]], [truth["E_N"] + 0.1, truth["n2_ts_intercept"]],
                      [truth["E_N"], truth["n2_ts_intercept"] - 0.1]])
    log_post = problem(theta)[:, 0]
    assert np.all(np.isfinite(log_post)) and log_post[0] > log_post[1:].max()
