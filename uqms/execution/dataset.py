"""Assemble the arrays of a run into a self-describing xarray Dataset."""

from __future__ import annotations

import functools
import json
from importlib import metadata

import numpy as np
import xarray as xr

from uqms.execution.protocol import Runnable

BATCH_FAILED = -1
BATCH_FAILED_MESSAGE = "the sample's task failed on every try (its worker died: a crash or its memory limit; or an error outside the chain)"
TIMED_OUT = -2
TIMED_OUT_MESSAGE = "the sample's task ran longer than the task timeout (execution.task_timeout) and was stopped"
PROVENANCE_PACKAGES = ("uqms", "numpy", "scipy", "chaospy", "xarray", "dask", "distributed", "zarr", "pydantic")


@functools.cache
def package_versions() -> dict[str, str]:
    """Installed versions of uqms and the packages a run depends on."""
    versions = {}
    for package in PROVENANCE_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def build_dataset(model: Runnable, arrays: dict[str, np.ndarray], n: int, seed: int) -> xr.Dataset:
    """The run Dataset: inputs, outputs and ``status`` along ``sample``, constants as scalars.

    ``arrays`` hold consecutive samples of an ``n``-sample run (all of them by default).

    Every variable carries ``units`` and ``role`` (input, output, constant, status) in
    its attrs; the Dataset attrs carry the workflow text, the status message table and
    the content digests of the files it reads and the versions of uqms and its dependencies.
    """
    about = model.describe()
    variables: dict[str, xr.Variable] = {}
    dims = about.sample_dims
    for spec in about.inputs:
        variables[spec.name] = xr.Variable(
            dims[: arrays[spec.name].ndim], arrays[spec.name],
            {"role": "input", "units": spec.unit, "kind": spec.kind, "group": spec.group,
             "description": spec.description, "distribution": spec.distribution,
             "discrete": int(spec.discrete), **_model_units(spec.model_units)},
        )
    for constant in about.constants:
        variables[constant.name] = xr.Variable((), np.float64(constant.value),
                                               {"role": "constant", "units": constant.unit,
                                                "description": constant.description,
                                                **_model_units(constant.model_units)})
    coords: dict[str, np.ndarray] = {}
    for output in about.outputs:
        value = arrays[output.name]
        extra = output.dims if output.dims is not None else tuple(
            f"{output.name}_dim_{k}" for k in range(1, value.ndim - len(dims) + 1))
        for dim in extra:
            if dim in about.output_coords:
                # object (variable-length) strings: Zarr v3 has no spec for fixed-width ones
                coords[dim] = np.array(about.output_coords[dim], dtype=object)
        attrs = {"role": "output", "units": output.units}
        low, high = output.bounds
        attrs.update({key: float(bound) for key, bound in (("valid_min", low), ("valid_max", high)) if bound is not None})
        variables[output.name] = xr.Variable(dims + tuple(extra), value, attrs)
    messages = {0: "ok", **about.status_messages, BATCH_FAILED: BATCH_FAILED_MESSAGE, TIMED_OUT: TIMED_OUT_MESSAGE}
    variables["status"] = xr.Variable(
        dims, arrays["status"].astype(np.int32, copy=False),
        {"role": "status", "units": "1", "flag_values": np.array(list(messages), dtype=np.int32),
         "flag_meanings": " | ".join(messages.values())},
    )
    attrs = {
        "workflow": about.name,
        "workflow_file": about.source,
        "workflow_text": about.source_text,
        "workflow_files": json.dumps(about.files),
        "design": about.design,
        "seed": int(seed),
        "input_names": json.dumps(about.input_names),
        "output_names": json.dumps(about.output_names),
        "n_samples": int(n),
        "inner": int(about.inner),
        "status_messages": json.dumps({str(k): v for k, v in messages.items()}),
        "versions": json.dumps(package_versions()),
    }
    if about.posterior_inputs:
        attrs["posterior_inputs"] = json.dumps(list(about.posterior_inputs))
    if about.design == "saltelli":
        attrs["saltelli_by"] = about.design_by
        attrs["saltelli_blocks"] = json.dumps(about.design_blocks)
    # ``sample`` is a dimension without a coordinate: an index of n integers would cost
    # memory in proportion to the run, and the position along it is the sample index.
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def input_names(run: xr.Dataset) -> list[str]:
    """Names of the uncertain inputs of a run, in design order."""
    return json.loads(run.attrs["input_names"])


def output_names(run: xr.Dataset) -> list[str]:
    """Names of the outputs of a run, in chain order."""
    return json.loads(run.attrs["output_names"])


def status_messages(run: xr.Dataset) -> dict[int, str]:
    """The ``{code: message}`` table of a run."""
    return {int(k): v for k, v in json.loads(run.attrs["status_messages"]).items()}


def _model_units(unit: str | None) -> dict[str, str]:
    """``{"model_units": unit}`` for an input or constant stored in the unit it was given but
    converted to another one for the stages (nothing otherwise)."""
    return {"model_units": unit} if unit is not None else {}
