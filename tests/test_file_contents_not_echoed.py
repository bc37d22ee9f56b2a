"""Errors about files named by ``*_file`` options (or ensemble and measurement files) name the
file, the position and what was expected, never the content: the file may be any file."""

import re

import pytest

from tests.conftest import REPO
from uqms import Workflow
from uqms.calibration.data import load_measurements
from uqms.chemistry.mechanism import load_mechanism
from uqms.errors import UqmsError
from uqms.inputs.ensembles import load_ensemble

SECRETS = ["password=hunter2\n", 'password = "hunter2"\n', "[mechanism]\nname = 'hunter2'\npassword = 'hunter2'\n",
           "[mechanism]\nname = ['hunter2']\n"]


@pytest.mark.parametrize("text", SECRETS)
def test_a_mechanism_file_option_pointing_at_a_secret_does_not_echo_it(tmp_path, text):
    secret = tmp_path / "secret.txt"
    secret.write_text(text)
    workflow = (REPO / "workflows" / "ammonia.toml").read_text().replace(
        'mechanism_file = "ammonia_mechanism.toml"', f'mechanism_file = "{secret}"')
    (tmp_path / "flow.toml").write_text(workflow)
    with pytest.raises(UqmsError) as error:
        Workflow.from_file(tmp_path / "flow.toml")
    assert "secret.txt" in str(error.value) and "hunter2" not in str(error.value)
    with pytest.raises(UqmsError) as error:
        load_mechanism(secret)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(("text", "where"), [
    ("password=hunter2\n1\n2\n", "column 1 of the header row is not a quantity name"),
    ("E_N,E_H\n1,2\n3,password=hunter2\n", "row 2 (after the header), column 'E_H' is not a number"),
    ("E_N\n1\n2\n", None),
])
def test_an_ensemble_file_with_a_secret_is_refused_without_echoing_it(tmp_path, text, where):
    path = tmp_path / "secret.csv"
    path.write_text(text)
    if where is None:  # names in a valid header are the user's and may be listed
        with pytest.raises(ValueError, match=r"no quantities \['E_X'\]; it has \['E_N'\]"):
            load_ensemble(path, ["E_X"])
        return
    with pytest.raises(ValueError, match=f"secret.csv: {re.escape(where)}") as error:
        load_ensemble(path, ["E_X"])
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(("text", "key"), [
    ("password=hunter2\n1\n", "header column 1"),
    ("x1 [rad], y [1]\n0.5, 1\npassword=hunter2, 2\n", "x1"),
])
def test_a_measurement_file_with_a_secret_is_refused_without_echoing_it(tmp_path, text, key):
    path = tmp_path / "secret.csv"
    path.write_text(text)
    flow = Workflow.from_file(REPO / "workflows" / "ishigami.toml")
    with pytest.raises(UqmsError) as error:
        load_measurements(path, flow)
    assert error.value.key == key and "hunter2" not in str(error.value)
