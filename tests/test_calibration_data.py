"""Measurement tables: conditions, observations and standard deviations checked on load."""

import chaospy
import numpy as np
import pytest
import xarray as xr

from uqms import Constant, FunctionStage, UncertainInput, Workflow
from uqms.calibration import CalibrationProblem, Likelihood, load_measurements
from uqms.errors import WorkflowError


def _rates(k0, order, T, p):
    """A rate per product: two products with the same kinetics scaled 1 and 0.1."""
    rate = k0 * np.exp(-1000.0 / T) * p**order
    return np.stack([rate, 0.1 * rate], axis=1)


@pytest.fixture
def flow():
    stage = FunctionStage(_rates, ["k0", "order", "T", "p"], ["tof"], units={"tof": "1/s"})
    stage.output_dims = {"tof": ("product",)}
    stage.output_coords = {"product": ["A", "B"]}
    return Workflow(
        [stage],
        [UncertainInput("k0", chaospy.LogNormal(0, 1), unit="1/s"), UncertainInput("order", chaospy.Uniform(0, 2))],
        [Constant("T", 500.0, "K"), Constant("p", 1.0, "bar")],
    )


GOOD = "experiment, T [K], p [bar], tof[A] [1/s], tof[A]_sd [1/s], tof[B] [1/s]\nrun1, 500, 1, 0.1, 0.01, 0.01\nrun2, 600, 2, 0.4, 0.04, 0.05\n"


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_table_gives_conditions_observations_and_sd(tmp_path, flow):
    data = load_measurements(_write(tmp_path, GOOD), flow, positive=True)
    assert list(data.labels) == ["run1", "run2"]
    np.testing.assert_array_equal(data.conditions["T"], [500, 600])
    assert data.keys == ["tof[A]", "tof[B]"]
    assert [o.index for o in data.observables] == [(0,), (1,)]
    np.testing.assert_array_equal(data.observed, [[0.1, 0.01], [0.4, 0.05]])
    assert data.sd[1, 0] == 0.04 and np.isnan(data.sd[0, 1])
    assert data.units["T"] == "K" and data.units["tof[A]"] == "1/s"


def test_netcdf_table_reads_like_the_csv(tmp_path, flow):
    csv = load_measurements(_write(tmp_path, GOOD), flow)
    ds = xr.Dataset(
        {"T": ("experiment", [500.0, 600.0], {"units": "K"}), "p": ("experiment", [1.0, 2.0], {"units": "bar"}),
         "tof": (("experiment", "product"), [[0.1, 0.01], [0.4, 0.05]], {"units": "1/s"}),
         "tof[A]_sd": ("experiment", [0.01, 0.04], {"units": "1/s"})},
        coords={"experiment": ["run1", "run2"], "product": ["A", "B"]},
    )
    ds.to_netcdf(tmp_path / "data.nc", engine="h5netcdf")
    nc = load_measurements(tmp_path / "data.nc", flow)
    assert nc.keys == csv.keys and list(nc.labels) == list(csv.labels)
    np.testing.assert_array_equal(nc.observed, csv.observed)
    np.testing.assert_array_equal(nc.sd, csv.sd)


def test_columns_in_other_units_of_the_same_quantity_are_converted(tmp_path, flow):
    text = "T [degC], tof[A] [1/h], tof[A]_sd [1/min]\n226.85, 360, 0.6\n"
    data = load_measurements(_write(tmp_path, text), flow)
    np.testing.assert_allclose(data.conditions["T"], [500.0])
    np.testing.assert_allclose(data.observed, [[0.1]])
    np.testing.assert_allclose(data.sd, [[0.01]])
    assert data.units["T"] == "K" and data.units["tof[A]"] == data.units["tof[A]_sd"] == "1/s"


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ("T [K], tof[A]\n500, 0.1\n", "tof[A]", "needs its unit"),
        ("T [K], tof[A] [1/s]\n500, \n", "tof[A]", "row 1 is nan"),
        ("T [K], tof[A] [1/s]\n500, abc\n", "tof[A]", "expected numbers"),
        ("T [K], pressure [bar], tof[A] [1/s]\n500, 1, 0.1\n", "pressure", "unknown column"),
        ("T [bar], tof[A] [1/s]\n227, 0.1\n", "T", "unit 'bar' measures [mass] / [length] / [time] ** 2, but 'K'"),
        ("T [K], tof[A] [K]\n500, 0.1\n", "tof[A]", "(the chain gives '1/s')"),
        ("T [K], tof[A] [1/sec0nd]\n500, 0.1\n", "tof[A]", "'1/sec0nd' is not a unit pint knows"),
        ("T [K], tof[C] [1/s]\n500, 0.1\n", "tof[C]", "unknown product 'C'; expected one of ['A', 'B']"),
        ("T [K], tof [1/s]\n500, 0.1\n", "tof", "expected 'tof[product]'"),
        ("T [K], tof[A] [1/s], tof[A]_sd [1/s]\n500, 0.1, 0\n", "tof[A]_sd", "must be > 0"),
        ("T [K], tof[A] [1/s], tof[B]_sd [1/s]\n500, 0.1, 0.1\n", "tof[B]_sd", "not an observed column"),
        ("T [K], tof[A] [1/s], tof[A]_sd [bar]\n500, 0.1, 0.1\n", "tof[A]_sd", "('tof[A]' is in '1/s')"),
        ("T [K], tof[A] [1/s]\n500, -0.1\n", "tof[A]", "must be > 0 for a log10 likelihood"),
        ("T [K], p [bar]\n500, 1\n", "", "no observed output"),
        ("T [degC], tof[A] [1/s]\n-300, 0.1\n", "T", "row 1 is -26.85 K: an absolute temperature must be > 0 K"),
        ("T [K], p [bar], tof[A] [1/s]\n500, 1, 0.1\n500, -2, 0.1\n", "p", "row 2 is -2 bar: a pressure must be >= 0"),
    ],
)
def test_bad_tables_name_the_file_the_column_and_what_was_expected(tmp_path, flow, text, column, expected):
    path = _write(tmp_path, text)
    with pytest.raises(WorkflowError) as error:
        load_measurements(path, flow, positive=True)
    assert error.value.source == str(path)
    assert error.value.key == column
    assert expected in error.value.message


def test_missing_file_and_unknown_type(tmp_path, flow):
    with pytest.raises(WorkflowError, match="no such measurement file"):
        load_measurements(tmp_path / "absent.csv", flow)
    with pytest.raises(WorkflowError, match="expected a .csv or .nc"):
        load_measurements(_write(tmp_path, GOOD, "data.xlsx"), flow)


def test_known_noise_needs_every_standard_deviation(tmp_path, flow):
    data = load_measurements(_write(tmp_path, GOOD), flow)
    with pytest.raises(WorkflowError) as error:
        CalibrationProblem(flow, data)
    assert error.value.key == "tof[B]_sd" and "infer the noise" in error.value.message
    inferred = CalibrationProblem(flow, data, likelihood=Likelihood(sigma_prior=chaospy.Uniform(0.01, 1)))
    assert inferred.parameter_names == ("k0", "order", "sigma")


def test_a_condition_cannot_be_calibrated(tmp_path, flow):
    data = load_measurements(_write(tmp_path, "order [1], tof[A] [1/s], tof[A]_sd [1/s]\n1, 0.1, 0.01\n"), flow)
    with pytest.raises(WorkflowError, match="is a condition column"):
        CalibrationProblem(flow, data, inputs=["k0", "order"])
    assert CalibrationProblem(flow, data).calibrated == ("k0",)


def test_netcdf_variable_without_units_is_named(tmp_path, flow):
    ds = xr.Dataset({"T": ("experiment", [500.0], {"units": "K"}), "tof[A]": ("experiment", [0.1])})
    ds.to_netcdf(tmp_path / "data.nc", engine="h5netcdf")
    with pytest.raises(WorkflowError) as error:
        load_measurements(tmp_path / "data.nc", flow)
    assert error.value.key == "tof[A]" and "no 'units' attribute" in error.value.message


def test_calibration_table_of_a_workflow_file_is_checked(ishigami_text):
    import tomllib

    from uqms.config import parse_workflow

    data = tomllib.loads(ishigami_text)
    data["calibration"] = {"inputs": ["x1"], "likelihood": "log", "walkers": 8}
    with pytest.raises(WorkflowError) as error:
        parse_workflow(data, "flow.toml")
    assert error.value.key == "calibration.likelihood" and "'log10'" in error.value.message
    data["calibration"].update(likelihood="linear", sigma={"distribution": "lognormal", "mu": -2.0, "sigma": 0.5})
    section = parse_workflow(data, "flow.toml").calibration
    assert section.walkers == 8 and section.steps == 2000 and np.all(section.sigma.build().lower >= 0)


def test_a_row_given_twice_is_warned_of(tmp_path, flow, caplog):
    load_measurements(_write(tmp_path, GOOD + "run3, 500, 1, 0.1, 0.01, 0.01\n"), flow, positive=True)
    assert "experiments run1, run3 are the same row" in caplog.text
    caplog.clear()
    load_measurements(_write(tmp_path, GOOD), flow, positive=True)
    assert "same row" not in caplog.text
