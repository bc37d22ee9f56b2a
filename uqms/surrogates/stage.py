"""The ``surrogate`` stage: a fitted surrogate standing in for the stage or sub-chain it was trained on.

Its outputs (names, units, dims, labels) are those of the training run. The surrogate's
own error enters as model discrepancy, an additive Gaussian term: with ``error_input`` a
standard-normal input of the workflow, every output entry is ``prediction + z * rmse``
(``rmse`` its cross-validated RMSE, one ``z`` shared by all entries, so the discrepancy
of all entries is fully correlated). An output fitted in log10 gets a multiplicative
term instead, ``prediction * 10 ** (z * rmse)``, its rmse being in decades (additive in log10). A workflow file declares the input and names it::

    [inputs.surrogate_error]
    distribution = "normal"
    mean = 0.0
    std = 1.0
    kind = "epistemic"
    group = "surrogate"

    [[chain]]
    stage = "surrogate"
    options = { model_file = "steady_state.nc", error_input = "surrogate_error" }

so the variance split and the Sobol indices show the surrogate's share of the output
variance (``error_input = ""`` leaves the error out). A sample with an input outside the
training range gets status 1 and NaN outputs instead of an extrapolated value.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from uqms.models.stage import Batch
from uqms.surrogates.model import Surrogate

OUT_OF_RANGE = 1


class SurrogateStage:
    """A stage evaluating a surrogate file.

    Args:
        model_file: the NetCDF file written by ``uqms surrogate fit`` (relative to the workflow file).
        error_input: name of the standard-normal input scaling the RMSE, or "" for none.
        name: label used in messages.
    """

    status_messages: ClassVar[dict[int, str]] = {OUT_OF_RANGE: "input outside the surrogate's training range (not extrapolated)"}

    def __init__(self, model_file: str | Path, error_input: str = "surrogate_error", name: str = "surrogate"):
        self.model = Surrogate.load(model_file)
        self.error_input, self.name = error_input, name
        self.inputs = self.model.inputs + ((error_input,) if error_input else ())
        self.outputs = tuple(spec.name for spec in self.model.outputs)
        self.units = {spec.name: spec.units for spec in self.model.outputs}
        # inputs in the units of the training run (a unit of "1" or none, as in runs made before
        # units were checked, is passed as given)
        self.input_units = {name: unit for name, unit in zip(self.model.inputs, self.model.input_units, strict=True)
                            if unit.strip() not in ("", "1")}
        self.output_dims = {spec.name: spec.dims for spec in self.model.outputs if spec.dims}
        self.output_coords = {d: c for spec in self.model.outputs for d, c in spec.coords.items()}

    def __call__(self, batch: Batch) -> Batch:
        x = np.stack([np.asarray(batch[name], dtype=float) for name in self.model.inputs], axis=1)
        inside = self.model.in_range(x)
        values = np.full((len(x), len(self.model.chosen)), np.nan)
        values[inside] = self.model.predict(x[inside])
        if self.error_input:
            values = self.model.with_error(values, batch[self.error_input])
        return {**self.model.split(values), "status": np.where(inside, 0, OUT_OF_RANGE)}
