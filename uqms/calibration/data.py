"""Measured data: the conditions of each experiment and the outputs observed there.

A measurement table has one row per experiment. Each column is one of:

- a *condition*: a constant or an uncertain input of the workflow whose value differs
  between experiments (temperature, partial pressures, ...), e.g. ``T [K]``;
- an *observation* of a chain output, e.g. ``y [1]`` or, for an output with extra
  dimensions, one entry selected by its labels, e.g. ``tof[NH3] [1/s]`` (labels in the
  order of the output's dimensions, separated by commas);
- the standard deviation of an observation, in the output's unit: ``tof[NH3]_sd [1/s]``;
- ``experiment`` (optional, no unit): row labels.

Units are required: in the CSV header, in brackets after the name and a space; in a
NetCDF file, in each variable's ``units`` attribute (variables along one dimension;
an output with extra dimensions may also be stored with them, labelled by coordinates).
Units must match those the workflow declares. Every problem is raised as a
:class:`~uqms.errors.WorkflowError` naming the file, the column and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uqms.errors import WorkflowError

if TYPE_CHECKING:
    from uqms.workflow import Workflow

LABEL_COLUMN = "experiment"
SD_SUFFIX = "_sd"
_HEADER = re.compile(r"^(?P<name>[A-Za-z_]\w*?)(?:\[(?P<labels>[^\]]+)\])?(?P<sd>_sd)?\s+\[(?P<unit>[^\]]*)\]$")


@dataclass(frozen=True)
class Observable:
    """One observed quantity: a chain output, or one entry of it.

    Args:
        output: name of the chain output.
        index: position of the entry along the output's extra dimensions (empty for a scalar output).
        key: label used in tables and InferenceData, e.g. ``tof[NH3]``.
    """

    output: str
    index: tuple[int, ...]
    key: str

    def select(self, values: np.ndarray) -> np.ndarray:
        """This entry of an output array whose first axis is the sample axis."""
        return values[(slice(None), *self.index)]


@dataclass
class Measurements:
    """A checked measurement table.

    Args:
        source: file the table came from.
        labels: one label per experiment.
        conditions: ``{name: values}`` of the constants and inputs set per experiment.
        observables: what was observed, in column order.
        observed: ``(experiments, observables)`` measured values, in the outputs' units.
        sd: ``(experiments, observables)`` standard deviations, NaN where none was given.
        units: unit of each condition and observable key.
    """

    source: str
    labels: np.ndarray
    conditions: dict[str, np.ndarray]
    observables: list[Observable]
    observed: np.ndarray
    sd: np.ndarray
    units: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def keys(self) -> list[str]:
        return [o.key for o in self.observables]


def load_measurements(path: str | Path, workflow: Workflow, positive: bool = False) -> Measurements:
    """Read and check a measurement table (``.csv`` or ``.nc``) against a workflow.

    Args:
        path: the file.
        workflow: the :class:`~uqms.workflow.Workflow` whose conditions and outputs the columns name.
        positive: observations must be > 0 (a likelihood in log10 of the outputs).

    Raises:
        WorkflowError: naming the file, the column and what was expected.
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise WorkflowError(source, "", "no such measurement file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        columns = _read_csv(path)
    elif suffix == ".nc":
        columns = _read_netcdf(path)
    else:
        raise WorkflowError(source, "", f"unknown file type {suffix!r}; expected a .csv or .nc measurement table")
    return _check(source, columns, workflow, positive)


def _read_csv(path: Path) -> dict[str, tuple[str | None, np.ndarray]]:
    """``{header name: (unit, values)}`` of a CSV file, units parsed from ``name [unit]``."""
    source = str(path)
    try:
        frame = pd.read_csv(path, skipinitialspace=True, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise WorkflowError(source, "", f"not a readable CSV table: {error}") from None
    if frame.empty:
        raise WorkflowError(source, "", "no rows: expected one row per experiment")
    columns: dict[str, tuple[str | None, np.ndarray]] = {}
    for position, header in enumerate(frame.columns, start=1):
        text = str(header).strip()
        if text == LABEL_COLUMN:
            columns[text] = (None, frame[header].astype(str).to_numpy())
            continue
        match = _HEADER.match(text)
        if match is None:  # a header that is no name is named by position: the file may not be a table at all
            key = text if re.fullmatch(r"[A-Za-z_]\w*(\[[\w ,.\-]*\])?\w*", text) else f"header column {position}"
            raise WorkflowError(
                source, key, "expected 'name [unit]' (e.g. 'T [K]', 'tof[NH3] [1/s]', "
                "'tof[NH3]_sd [1/s]'); every column needs its unit in brackets"
            )
        name = text[: match.start("unit") - 1].rstrip()
        columns[name] = (match["unit"].strip(), frame[header].to_numpy())
    return columns


def _read_netcdf(path: Path) -> dict[str, tuple[str | None, np.ndarray]]:
    """``{column name: (unit, values)}`` of a NetCDF file: one dimension of experiments;
    a variable with extra labelled dimensions gives one column per entry."""
    import xarray as xr

    source = str(path)
    try:
        data = xr.load_dataset(path)
    except (OSError, ValueError) as error:
        raise WorkflowError(source, "", f"not a readable NetCDF file: {error}") from None
    rows = [d for d in data.dims if all(d in data[v].dims for v in data.data_vars)]
    if len(rows) != 1:
        raise WorkflowError(source, "", f"expected one dimension shared by every variable (the experiments), got {list(data.dims)}")
    row = rows[0]
    columns: dict[str, tuple[str | None, np.ndarray]] = {}
    if row in data.coords and data[row].dtype.kind in "OUS":
        columns[LABEL_COLUMN] = (None, data[row].values.astype(str))
    for name, var in data.data_vars.items():
        var = var.transpose(row, ...)
        unit = var.attrs.get("units")
        extra = var.dims[1:]
        if not extra:
            columns[str(name)] = (unit, var.values)
            continue
        base, sd = (str(name)[: -len(SD_SUFFIX)], SD_SUFFIX) if str(name).endswith(SD_SUFFIX) else (str(name), "")
        for index in np.ndindex(*var.shape[1:]):
            labels = ",".join(str(data[d].values[i]) if d in data.coords else str(i) for d, i in zip(extra, index))
            columns[f"{base}[{labels}]{sd}"] = (unit, var.values[(slice(None), *index)])
    return columns


def _check(source: str, columns: dict[str, tuple[str | None, np.ndarray]], workflow: Workflow, positive: bool) -> Measurements:
    """Sort columns into conditions, observations and standard deviations, checking each."""
    chain = workflow.chain
    declared = {name: c.unit for name, c in workflow.constants.items()}
    declared.update({i.name: i.unit for i in workflow.inputs.inputs})
    n = len(next(iter(columns.values()))[1])
    labels = columns.pop(LABEL_COLUMN, (None, np.array([str(i) for i in range(n)])))[1]
    conditions: dict[str, np.ndarray] = {}
    observed: dict[str, tuple[Observable, np.ndarray]] = {}
    sds: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    for name, (unit, raw) in columns.items():
        if unit is None:
            raise WorkflowError(source, name, "no 'units' attribute; expected the unit of the column")
        values = _numbers(source, name, raw)
        match = _HEADER.match(f"{name} [{unit}]")
        if match is None:
            raise WorkflowError(source, name, "expected a condition, an output, 'output[labels]' or '<observation>_sd'")
        if match["sd"]:
            key = name[: -len(SD_SUFFIX)]
            if np.any(values <= 0):
                raise WorkflowError(source, name, f"standard deviations must be > 0, got {values.min():g}")
            sds[key] = values
            units[name] = unit
            continue
        if match["name"] in declared and not match["labels"]:
            values, unit = _to_unit(source, name, values, unit, declared[name], "the workflow declares")
            conditions[name] = values
        elif match["name"] in chain.outputs:
            observable = _observable(source, name, match["name"], match["labels"], chain)
            values, unit = _to_unit(source, name, values, unit, chain.units.get(observable.output, ""), "the chain gives")
            if positive and np.any(values <= 0):
                raise WorkflowError(source, name, f"observations must be > 0 for a log10 likelihood, got {values.min():g}")
            observed[name] = (observable, values)
        else:
            raise WorkflowError(
                source, name, f"unknown column; expected a condition (one of {sorted(declared)}), "
                f"an observed output (one of {list(chain.outputs)}) or '<observation>_sd'"
            )
        units[name] = unit
    if not observed:
        raise WorkflowError(source, "", f"no observed output; expected a column named after one of {list(chain.outputs)}")
    orphans = sorted(set(sds) - set(observed))
    if orphans:
        raise WorkflowError(source, f"{orphans[0]}{SD_SUFFIX}", f"standard deviation of {orphans[0]!r}, which is not an observed column")
    for key, sd in list(sds.items()):
        column = f"{key}{SD_SUFFIX}"
        sds[key], units[column] = _to_unit(source, column, sd, units[column], units[key], f"{key!r} is in", spread=True)
    keys = list(observed)
    return Measurements(
        source=source, labels=np.asarray(labels, dtype=str), conditions=conditions,
        observables=[observed[k][0] for k in keys],
        observed=np.column_stack([observed[k][1] for k in keys]),
        sd=np.column_stack([sds.get(k, np.full(n, np.nan)) for k in keys]), units=units,
    )


def _numbers(source: str, column: str, raw: np.ndarray) -> np.ndarray:
    """The column as finite floats."""
    values = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=float)
    text = pd.isna(values) & pd.notna(pd.Series(raw)).to_numpy()
    if text.any():  # the cell named by its row, not quoted
        raise WorkflowError(source, column, f"row {np.flatnonzero(text)[0] + 1} is not a number; expected numbers")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise WorkflowError(source, column, f"row {bad[0] + 1} is {values[bad[0]]} (missing or not finite); expected a finite number")
    return values


def _to_unit(source: str, column: str, values: np.ndarray, unit: str, expected: str, who: str,
             spread: bool = False) -> tuple[np.ndarray, str]:
    """A column's values converted from its ``unit`` to ``expected`` (nothing expected: kept as
    given); ``spread``: a standard deviation, scaled without the offset of units such as degC.

    Raises:
        WorkflowError: a unit pint does not know, or of another quantity than ``expected``.
    """
    if not expected or unit == expected:
        return values, unit
    from uqms.units import UnitError, conversion

    try:
        change = conversion(unit, expected)
    except UnitError as error:
        raise WorkflowError(source, column, f"{error} ({who} {expected!r})") from None
    return (change.spread(values) if spread else change(values)), expected


def _observable(source: str, column: str, output: str, labels: str | None, chain) -> Observable:
    """The entry of ``output`` a column observes, its labels checked against the output's coordinates."""
    dims = chain.output_dims.get(output, ())
    given = [s.strip() for s in labels.split(",")] if labels else []
    if len(given) != len(dims):
        expected = f"'{output}[{', '.join(dims)}]' with one label per dimension" if dims else f"'{output}' without labels"
        raise WorkflowError(source, column, f"expected {expected}")
    index = []
    for dim, label in zip(dims, given):
        options = [str(c) for c in chain.output_coords.get(dim, [])]
        if label not in options:
            raise WorkflowError(source, column, f"unknown {dim} {label!r}; expected one of {options}")
        index.append(options.index(label))
    return Observable(output, tuple(index), f"{output}[{','.join(given)}]" if given else output)
