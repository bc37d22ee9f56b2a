"""Units: inputs and constants converted to the units the stages expect, or refused."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from uqms.cli import app
from uqms.errors import WiringError, WorkflowError
from uqms.models.stage import Chain, FunctionStage
from uqms.units import UnitError, conversion
from uqms.workflow import Workflow

AMMONIA = REPO / "workflows" / "ammonia.toml"
MECHANISM = REPO / "workflows" / "ammonia_mechanism.toml"
runner = CliRunner()


def _ammonia(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    """A copy of the ammonia workflow with some text replaced (the mechanism read from the repository)."""
    text = AMMONIA.read_text().replace('"ammonia_mechanism.toml"', repr(str(MECHANISM)).replace("'", '"'))
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_conversions():
    assert conversion("degC", "K")(400.0) == pytest.approx(673.15, abs=1e-12)
    assert conversion("degF", "K")(32.0) == pytest.approx(273.15, abs=1e-12)
    assert conversion("kJ/mol", "eV")(96.485332) == pytest.approx(1.0, rel=1e-8)
    assert conversion("eV", "kJ/mol")(1.0) == pytest.approx(96.485332, rel=1e-8)
    assert conversion("Pa", "bar")(1e5) == pytest.approx(1.0)
    assert conversion("1", "rad").identity and conversion("", "1").identity
    with pytest.raises(UnitError, match=r"'K' measures \[temperature\], but 'bar'"):
        conversion("K", "bar")
    with pytest.raises(UnitError, match="'furlongs_per_mole' is not a unit"):
        conversion("furlongs_per_mole", "eV")


def test_a_temperature_in_degC_runs_as_kelvin(tmp_path):
    kelvin = _ammonia(tmp_path, "kelvin", ('value = 673.0, unit = "K"', 'value = 673.15, unit = "K"'))
    celsius = _ammonia(tmp_path, "celsius", ('value = 673.0, unit = "K"', 'value = 400.0, unit = "degC"'))
    flow = Workflow.from_file(celsius)
    assert flow.constant_values["T"] == pytest.approx(673.15, abs=1e-12)
    reference, converted = Workflow.from_file(kelvin).run(n=6), flow.run(n=6)
    np.testing.assert_allclose(converted["tof"].values, reference["tof"].values, rtol=1e-12)
    assert float(converted["T"]) == 400.0  # the run keeps the value and unit given
    assert converted["T"].attrs["units"] == "degC" and converted["T"].attrs["model_units"] == "K"


def test_an_energy_input_in_kJ_per_mol_runs_as_eV(tmp_path):
    f = 96.48533212331002  # kJ/mol per eV
    per_mole = _ammonia(tmp_path, "per_mole", ("lower = -2.0\nupper = 1.0", f"lower = {-2 * f}\nupper = {f}"),
                        ('unit = "eV"\ndescription = "N binding', 'unit = "kJ/mol"\ndescription = "N binding'))
    reference, converted = Workflow.from_file(AMMONIA).run(n=6), Workflow.from_file(per_mole).run(n=6)
    np.testing.assert_allclose(converted["E_N"].values, reference["E_N"].values * f, rtol=1e-12)
    np.testing.assert_allclose(converted["tof"].values, reference["tof"].values, rtol=1e-9)
    assert converted["E_N"].attrs["units"] == "kJ/mol" and converted["E_N"].attrs["model_units"] == "eV"
    assert "model_units" not in converted["n2_ts_intercept"].attrs


def test_validate_refuses_a_pressure_given_in_kelvin(tmp_path):
    bad = _ammonia(tmp_path, "bad", ('value = 25.0, unit = "bar"', 'value = 25.0, unit = "K"'))
    with pytest.raises(WorkflowError) as error:
        Workflow.from_file(bad)
    assert error.value.source == str(bad) and error.value.key == "constants.p_N2.unit"
    assert "'K' measures [temperature]" in error.value.message and "in 'bar'" in error.value.message
    result = runner.invoke(app, ["validate", str(bad)], env={"COLUMNS": "300"})
    assert result.exit_code != 0
    output = " ".join(result.output.split())
    assert "constants.p_N2.unit" in output and "'bar'" in output and "bad.toml" in output


def test_an_unknown_unit_is_refused(tmp_path):
    bad = _ammonia(tmp_path, "unknown", ('unit = "eV"\ndescription = "N binding', 'unit = "eVolt"\ndescription = "N binding'))
    with pytest.raises(WorkflowError, match=r"inputs\.E_N\.unit: 'eVolt' is not a unit pint knows"):
        Workflow.from_file(bad)


def test_an_unknown_unit_is_refused_where_no_stage_expects_one(ishigami_text, tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(ishigami_text.replace('unit = "rad"', 'unit = "radians_of_doom"', 1))
    with pytest.raises(WorkflowError, match=r"inputs\.x1\.unit: 'radians_of_doom' is not a unit"):
        Workflow.from_file(path)


def test_a_unit_not_given_is_the_one_the_stage_expects(tmp_path):
    path = _ammonia(tmp_path, "bare", ('{ value = 673.0, unit = "K", description = "temperature" }', "673.0"))
    flow = Workflow.from_file(path)
    assert flow.constants["T"].unit == "K" and not flow.conversions


def test_two_stages_expecting_different_units_of_one_input_are_refused():
    first = FunctionStage(lambda T: T, ["T"], ["a"], input_units={"T": "K"}, name="first")
    second = FunctionStage(lambda T: T, ["T"], ["b"], input_units={"T": "degC"}, name="second")
    with pytest.raises(WiringError, match="'T' is read in 'K' by stage 'first' and in 'degC' by stage 'second'"):
        Chain([first, second])


def test_a_stage_reading_an_upstream_output_in_another_unit_is_refused():
    # kJ/mol and eV measure the same binding energy, but stages pass values as they are: refused
    produce = FunctionStage(lambda x: 96.485 * x, ["x"], ["E"], units={"E": "kJ/mol"}, name="dft")
    read = FunctionStage(lambda E: E, ["E"], ["y"], input_units={"E": "eV"}, name="kinetics")
    with pytest.raises(WiringError, match="stage 'kinetics' reads 'E' in 'eV', but stage 'dft' produces it in 'kJ/mol'"):
        Chain([produce, read])
    other = FunctionStage(lambda x: x, ["x"], ["E"], units={"E": "K"}, name="thermometer")
    with pytest.raises(WiringError, match=r"in 'K' \(unit 'K' measures \[temperature\], but 'eV'"):
        Chain([other, read])
    unknown = FunctionStage(lambda x: x, ["x"], ["E"], units={"E": "eVolt"}, name="typo")
    with pytest.raises(WiringError, match="'eVolt' is not a unit pint knows"):
        Chain([unknown, read])
    # the same unit spelled otherwise, or a side without a unit, wires
    rate = FunctionStage(lambda x: x, ["x"], ["k"], units={"k": "1/s"}, name="rate")
    per_second = FunctionStage(lambda k: k, ["k"], ["z"], input_units={"k": "s^-1"}, name="consumer")
    np.testing.assert_array_equal(Chain([rate, per_second])({"x": np.arange(3.0)})["z"], np.arange(3.0))
    bare = FunctionStage(lambda x: x, ["x"], ["E"], name="bare")
    assert Chain([bare, read]).outputs == ("E", "y")


def test_validate_names_the_stage_the_name_and_both_units_of_an_internal_mismatch(tmp_path):
    (tmp_path / "descriptor_stage.py").write_text(
        "from uqms import FunctionStage\n"
        "descriptor = FunctionStage(lambda E_kJ: E_kJ, ['E_kJ'], ['E_N'], units={'E_N': 'kJ/mol'}, name='dft_descriptor')\n"
    )
    bad = _ammonia(tmp_path, "internal", ("[inputs.E_N]", "[inputs.E_kJ]"),
                   ('[[chain]]\nstage = "energetics.scaling"',
                    '[[chain]]\nstage = "descriptor_stage:descriptor"\n\n[[chain]]\nstage = "energetics.scaling"'))
    with pytest.raises(WorkflowError) as error:
        Workflow.from_file(bad)
    assert error.value.key == "chain"
    assert "reads 'E_N' in 'eV', but stage 'dft_descriptor' produces it in 'kJ/mol'" in error.value.message
    assert "energetics.scaling" in error.value.message
    result = runner.invoke(app, ["validate", str(bad)], env={"COLUMNS": "300"})
    assert result.exit_code != 0 and "'dft_descriptor' produces it in 'kJ/mol'" in " ".join(result.output.split())
