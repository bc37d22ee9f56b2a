"""The Stage protocol, function stages and the Chain that wires stages together.

A batch is a ``dict[str, numpy.ndarray]`` with the sample axis first. A stage
declares the names it reads (``inputs``) and writes (``outputs``) and is called on a
batch. Optional attributes a stage may carry:

- ``name``: label used in messages (defaults to the class name);
- ``units``: unit of each output, e.g. ``{"tof": "1/s"}``;
- ``input_units``: the unit the stage expects for inputs it reads, e.g. ``{"T": "K", "p_N2": "bar"}``;
  a workflow converts an input or constant given in another unit of the same quantity before
  the stage sees it, and refuses one of another quantity (names without an entry are passed as given);
- ``output_dims``: names of the axes after the sample axis, e.g. ``{"theta": ("adsorbate",)}``;
- ``output_coords``: labels along those axes, e.g. ``{"adsorbate": ["N*", "H*"]}`` (they also size
  the NaN rows of samples that fail before the stage);
- ``bounds``: the support of outputs that have one, e.g. ``{"coverage": (0.0, 1.0)}`` (None for an open side);
- ``status_messages``: ``{code: message}`` for the codes (>0) the stage may return in a
  ``"status"`` array of its result to flag samples it could not compute;
- ``resources``: Dask resources a task evaluating the stage needs, e.g. ``{"cores": 4}`` for a
  program running on four cores (tasks are annotated with them; workers must offer them);
- ``seconds_per_sample``: the stage's cost per sample, s, when known (batches are sized from
  it instead of a timing of the first samples).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import (
    Any,
    Protocol,
    runtime_checkable,
)

import numpy as np

from uqms.errors import UqmsError, WiringError
from uqms.models.rows import every

Batch = dict[str, np.ndarray]
log = logging.getLogger("uqms")


@runtime_checkable
class Stage(Protocol):
    """A vectorised model: reads ``inputs`` from a batch, returns ``outputs``."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def __call__(self, batch: Batch) -> Batch: ...


class StageError(UqmsError):
    """A stage broke its contract (missing output, wrong sample count); a bug, not a bad sample."""


def stage_name(stage: Stage) -> str:
    return getattr(stage, "name", None) or type(stage).__name__


class FunctionStage:
    """A stage made of a function of named arrays returning one array per output.

    Args:
        function: called as ``function(**{name: array for name in inputs})``; returns one
            array (one output), a tuple of arrays in the order of ``outputs``, or a dict.
        inputs, outputs: names read and written.
        units: unit of each output.
        name: label used in messages (defaults to the function's name).
        input_units: unit the function expects for each input (see the module's docstring).
    """

    def __init__(
        self,
        function: Callable[..., Any],
        inputs: Sequence[str],
        outputs: Sequence[str],
        units: Mapping[str, str] | None = None,
        name: str | None = None,
        input_units: Mapping[str, str] | None = None,
    ):
        self.function = function
        self.inputs, self.outputs = tuple(inputs), tuple(outputs)
        self.units = dict(units or {})
        self.input_units = dict(input_units or {})
        self.name = name or getattr(function, "__name__", "function")

    def __call__(self, batch: Batch) -> Batch:
        result = self.function(**{k: batch[k] for k in self.inputs})
        if isinstance(result, Mapping):
            return dict(result)
        if len(self.outputs) == 1:
            return {self.outputs[0]: result}
        return dict(zip(self.outputs, result, strict=True))


def stage(inputs: Sequence[str], outputs: Sequence[str], units: Mapping[str, str] | None = None,
          input_units: Mapping[str, str] | None = None):
    """Decorator turning a function of arrays into a :class:`FunctionStage`."""

    def wrap(function: Callable[..., Any]) -> FunctionStage:
        return FunctionStage(function, inputs, outputs, units, input_units=input_units)

    return wrap


class Chain:
    """Stages evaluated in order; the wiring is checked when the chain is built.

    A chain is itself a stage: its ``inputs`` are the names no member produces, its
    ``outputs`` every name a member produces. Calling it never lets one bad sample
    spoil a batch: a stage that raises is re-run on halves of the batch until the
    failing samples are isolated, non-finite outputs are flagged, and later stages
    see only the samples still good. The result carries a ``"status"`` array whose
    codes are explained by ``status_messages``.

    Args:
        stages: the members, in evaluation order.
        name: label used in messages.

    ``input_units`` collects the units members expect for the chain's external inputs
    (``{name: unit}``), and ``input_unit_stage`` the member that declared each.

    Raises:
        WiringError: a name produced twice, or read before the member producing it runs, or
            read by two members expecting different units.
    """

    def __init__(self, stages: Sequence[Stage], name: str = "chain"):
        self.stages = tuple(stages)
        self.name = name
        for member in self.stages:
            if not isinstance(member, Stage):
                raise WiringError(f"{member!r} is not a stage (it needs inputs, outputs and __call__)")
        producer: dict[str, str] = {}
        for member in self.stages:
            for out in member.outputs:
                if out == "status":
                    raise WiringError(f"stage {stage_name(member)!r}: 'status' is reserved for sample status")
                if out in producer:
                    raise WiringError(
                        f"{out!r} is produced twice: by stage {producer[out]!r} and by stage {stage_name(member)!r}"
                    )
                producer[out] = stage_name(member)
        external: list[str] = []
        produced: set[str] = set()
        for member in self.stages:
            for name_in in member.inputs:
                if name_in in produced:
                    continue
                if name_in in producer:
                    raise WiringError(
                        f"stage {stage_name(member)!r} reads {name_in!r} before stage {producer[name_in]!r} "
                        "produces it: reorder the chain (or break the cycle)"
                    )
                if name_in not in external:
                    external.append(name_in)
            produced.update(member.outputs)
        self.inputs = tuple(external)
        self.outputs = tuple(producer)
        self.input_units: dict[str, str] = {}
        self.input_unit_stage: dict[str, str] = {}
        for member in self.stages:
            for name_in, unit in getattr(member, "input_units", {}).items():
                if name_in not in self.inputs or name_in not in member.inputs:
                    continue
                if name_in in self.input_units and self.input_units[name_in] != unit:
                    raise WiringError(
                        f"{name_in!r} is read in {self.input_units[name_in]!r} by stage "
                        f"{self.input_unit_stage[name_in]!r} and in {unit!r} by stage {stage_name(member)!r}"
                    )
                self.input_units[name_in] = str(unit)
                self.input_unit_stage.setdefault(name_in, stage_name(member))
        self.units = {k: v for m in self.stages for k, v in getattr(m, "units", {}).items()}
        self._check_internal_units(producer)
        self.output_dims = {k: tuple(v) for m in self.stages for k, v in getattr(m, "output_dims", {}).items()}
        self.bounds = {k: tuple(v) for m in self.stages for k, v in getattr(m, "bounds", {}).items()}
        self.output_coords = {k: v for m in self.stages for k, v in getattr(m, "output_coords", {}).items()}
        self.resources: dict[str, float] = {}  # a batch runs its stages one after another: the most any needs
        for member in self.stages:
            for key, amount in (getattr(member, "resources", None) or {}).items():
                self.resources[key] = max(self.resources.get(key, 0.0), float(amount))
        costs = [float(m.seconds_per_sample) for m in self.stages if getattr(m, "seconds_per_sample", None)]
        self.seconds_per_sample = sum(costs) if costs else None  # stages that declare none are taken as free
        self._codes: list[dict[str, int]] = []
        self.status_messages: dict[int, str] = {}
        for member in self.stages:
            label = stage_name(member)
            codes = {
                "raised": self._new_code(f"stage {label!r} raised an exception"),
                "nonfinite": self._new_code(f"stage {label!r} returned non-finite values"),
            }
            for local, message in sorted(getattr(member, "status_messages", {}).items()):
                codes[local] = self._new_code(f"stage {label!r}: {message}")
            self._codes.append(codes)

    def _check_internal_units(self, producer: Mapping[str, str]) -> None:
        """Refuse a member reading a name produced upstream in another unit than the one declared
        by its producer (units compared with pint: ``1/s`` and ``s^-1`` match, ``kJ/mol`` and ``eV``
        do not; values are never converted between stages). A name without a unit on either side
        is not checked.

        Raises:
            WiringError: naming the reading stage, the name and both units.
        """
        from uqms.units import UnitError, conversion

        for member in self.stages:
            for name_in, wanted in getattr(member, "input_units", {}).items():
                given = self.units.get(name_in)
                if name_in not in producer or name_in not in member.inputs or given is None:
                    continue
                try:
                    same = conversion(str(given), str(wanted)).identity
                except UnitError as error:
                    same, why = False, f" ({error})"
                else:
                    why = ""
                if not same:
                    raise WiringError(
                        f"stage {stage_name(member)!r} reads {name_in!r} in {wanted!r}, but stage "
                        f"{producer[name_in]!r} produces it in {given!r}{why}: declare the same unit on both"
                    )

    def _new_code(self, message: str) -> int:
        code = len(self.status_messages) + 1
        self.status_messages[code] = message
        return code

    def check_wiring(self, available: Iterable[str], source: str = "chain") -> None:
        """Check that every external input is among ``available`` and no output shadows one.

        Raises:
            WiringError: naming the missing input and the stage that needs it.
        """
        available = set(available)
        shadowed = sorted(available & set(self.outputs))
        if shadowed:
            raise WiringError(f"{source}: {shadowed} are produced by a stage and also given as inputs or constants")
        for member in self.stages:
            missing = [n for n in member.inputs if n not in available and n not in self.outputs]
            if missing:
                raise WiringError(
                    f"{source}: stage {stage_name(member)!r} needs {missing}, which is neither an input, "
                    "a constant nor produced upstream"
                )

    def __call__(self, batch: Batch) -> Batch:
        n = _sample_count(batch, self.inputs)
        status = np.zeros(n, dtype=np.int32)
        values = dict(batch)
        results: Batch = {}
        for member, codes in zip(self.stages, self._codes):
            rows = np.flatnonzero(status == 0)
            if rows.size == 0:
                break
            everything = rows.size == n
            sub = {k: values[k] if everything else values[k][rows] for k in member.inputs}
            raised: list[str] = []
            _evaluate_isolating(member, sub, rows, n, results, status, codes, raised)
            if raised:
                log.warning("stage %r raised on %d of %d samples of a batch; the first: %s",
                            stage_name(member), len(raised), rows.size, raised[0])
            values.update({k: results[k] for k in member.outputs if k in results})
        for out in self.outputs:  # outputs of stages no sample reached: NaN of their declared shape
            if out not in results:
                results[out] = np.full((n, *self._entry_shape(out)), np.nan)
        results["status"] = status
        return results

    def _entry_shape(self, name: str) -> tuple[int, ...]:
        """Shape of one sample's value of output ``name``, from its declared dims and coordinates."""
        dims = self.output_dims.get(name, ())
        unlabelled = [d for d in dims if d not in self.output_coords]
        if unlabelled:
            raise StageError(f"no sample of the batch reached the stage producing {name!r}, whose dims {unlabelled} "
                             "have no output_coords: declare them so its rows can be filled")
        return tuple(len(self.output_coords[d]) for d in dims)


def _sample_count(batch: Batch, names: Sequence[str]) -> int:
    for name in names:
        return len(batch[name])
    for value in batch.values():
        return len(value)
    raise StageError("cannot tell the number of samples of an empty batch")


def _evaluate_isolating(member, sub: Batch, rows, n, results, status, codes, raised: list[str]) -> None:
    """Evaluate ``member`` on ``sub`` (rows ``rows`` of the batch), bisecting on exceptions;
    the error of each sample that raised on its own is appended to ``raised``."""
    try:
        out = member(sub)
    except StageError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure of a model is a sample failure
        if rows.size == 1:
            raised.append(f"{type(error).__name__}: {error}")
            status[rows] = codes["raised"]
            return
        half = rows.size // 2
        for part in (slice(None, half), slice(half, None)):
            _evaluate_isolating(member, {k: v[part] for k, v in sub.items()}, rows[part], n, results, status, codes,
                                raised)
        return
    if "status" in out:
        local = np.asarray(out["status"])
        for code in np.unique(local[local != 0]):
            if code not in codes:
                raise StageError(f"stage {stage_name(member)!r} returned status {code} it does not declare")
            status[rows[local == code]] = codes[code]
    for name in member.outputs:
        if name not in out:
            raise StageError(f"stage {stage_name(member)!r} did not return its output {name!r}")
        value = np.asarray(out[name])
        if value.ndim == 0 or len(value) != rows.size:
            raise StageError(
                f"stage {stage_name(member)!r} returned {name!r} with shape {value.shape}, "
                f"expected {rows.size} samples first"
            )
        if rows.size == n:  # the whole batch (rows is 0..n-1): a copy, not a scatter (45x faster)
            results[name] = value.copy()
        else:
            if name not in results:
                fill = np.nan if np.issubdtype(value.dtype, np.inexact) else 0
                results[name] = np.full((n,) + value.shape[1:], fill, dtype=value.dtype)
            results[name][rows] = value
        if np.issubdtype(value.dtype, np.inexact):
            bad = ~every(np.isfinite(value)) & (status[rows] == 0)
            status[rows[bad]] = codes["nonfinite"]
