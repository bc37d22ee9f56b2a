"""Assemble the arrays of a run into a self-describing xarray Dataset."""

from __future__ import annotations

import functools
import json
from importlib import metadata

import numpy as np
import xarray as xr

from uqms.inputs.distributions import describe, is_discrete

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


def build_dataset(workflow, arrays: dict[str, np.ndarray], n: int, seed: int) -> xr.Dataset:
    """The run Dataset: inputs, outputs and ``status`` along ``sample``, constants as scalars.

    ``arrays`` hold consecutive samples of an ``n``-sample run (all of them by default).

    Every variable carries ``units`` and ``role`` (input, output, constant, status) in
    its attrs; the Dataset attrs carry the workflow text, the status message table and
    the content digests of the files it reads and the versions of uqms and its dependencies.
    """
    chain = workflow.chain
    variables: dict[str, xr.Variable] = {}
    dims = workflow.sample_dims
    posterior = getattr(workflow, "posterior", {})  # inputs drawn jointly from a calibration's posterior
    for spec in workflow.inputs.inputs:
        drawn = f"posterior draws from {workflow.posterior_origin}" if spec.name in posterior else None
        variables[spec.name] = xr.Variable(
            dims[: arrays[spec.name].ndim], arrays[spec.name],
            {"role": "input", "units": spec.unit, "kind": spec.kind, "group": spec.group,
             "description": spec.description, "distribution": drawn or describe(spec.distribution),
             "discrete": int(is_discrete(spec.distribution)), **_model_units(workflow, spec.name)},
        )
    for name, constant in workflow.constants.items():
        variables[name] = xr.Variable((), np.float64(constant.value),
                                      {"role": "constant", "units": constant.unit, "description": constant.description,
                                       **_model_units(workflow, name)})
    coords: dict[str, np.ndarray] = {}
    for name in chain.outputs:
        value = arrays[name]
        extra = chain.output_dims.get(name, tuple(f"{name}_dim_{k}" for k in range(1, value.ndim - len(dims) + 1)))
        for dim in extra:
            if dim in chain.output_coords:
                # object (variable-length) strings: Zarr v3 has no spec for fixed-width ones
                coords[dim] = np.array(chain.output_coords[dim], dtype=object)
        attrs = {"role": "output", "units": chain.units.get(name, "")}
        low, high = getattr(chain, "bounds", {}).get(name, (None, None))
        attrs.update({key: float(bound) for key, bound in (("valid_min", low), ("valid_max", high)) if bound is not None})
        variables[name] = xr.Variable(dims + tuple(extra), value, attrs)
    messages = {0: "ok", **chain.status_messages, BATCH_FAILED: BATCH_FAILED_MESSAGE, TIMED_OUT: TIMED_OUT_MESSAGE}
    variables["status"] = xr.Variable(
        dims, arrays["status"].astype(np.int32, copy=False),
        {"role": "status", "units": "1", "flag_values": np.array(list(messages), dtype=np.int32),
         "flag_meanings": " | ".join(messages.values())},
    )
    attrs = {
        "workflow": workflow.name,
        "workflow_file": workflow.source,
        "workflow_text": workflow.source_text,
        "workflow_files": json.dumps(getattr(workflow, "files", {})),
        "design": workflow.design_method,
        "seed": int(seed),
        "input_names": json.dumps(list(workflow.inputs.names)),
        "output_names": json.dumps(list(chain.outputs)),
        "n_samples": int(n),
        "inner": int(workflow.nested.inner) if workflow.nested else 0,
        "status_messages": json.dumps({str(k): v for k, v in messages.items()}),
        "versions": json.dumps(package_versions()),
    }
    if posterior:
        attrs["posterior_inputs"] = json.dumps(list(posterior))
    if workflow.design_method == "saltelli":
        attrs["saltelli_by"] = workflow.design_by
        attrs["saltelli_blocks"] = json.dumps(workflow.design_blocks)
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


def _model_units(workflow, name: str) -> dict[str, str]:
    """``{"model_units": unit}`` for an input or constant stored in the unit it was given but
    converted to another one for the stages (nothing otherwise)."""
    change = getattr(workflow, "conversions", {}).get(name)
    return {"model_units": change.expected} if change is not None else {}
