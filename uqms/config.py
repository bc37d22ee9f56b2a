"""The workflow-file schema (TOML, validated with pydantic) and its loading.

Every error names the file, the key path inside it and what was expected, and is
raised before any work starts.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from uqms.inputs.distributions import DistributionSpec
from uqms.inputs.ensembles import EnsembleEntry

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_INPUT_META = ("kind", "group", "unit", "description")
_TAGS = ("normal", "lognormal", "uniform", "truncnormal", "beta", "triangular", "discrete", "categorical")


MIN_STEPS = 100  # emcee steps below which no autocorrelation time, burn-in or convergence can be told
MAX_SAMPLES = 2**40  # beyond any store or design uqms can fill (the design indices are int64)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class WorkflowSection(_Section):
    """Name and seed of the workflow."""

    name: str = Field(pattern=NAME_PATTERN, description="label of the workflow, used in run stores and reports")
    description: str = Field(default="", description="free text stored with every run")
    seed: int = Field(default=0, ge=0, description="seed of the design: sample i depends only on (seed, i)")


class InputEntry(_Section):
    """One uncertain input: its distribution keys plus kind, group, unit, description."""

    kind: Literal["aleatoric", "epistemic"] = Field(description="inherent variability or lack of knowledge")
    group: str = Field(default="", description="label for grouped Sobol indices; empty: the input's own name")
    unit: str | None = Field(
        default=None, description="unit of the input's values, converted to the unit the stage reading it expects "
        "(refused if of another quantity); not given: the values are in the unit the stage expects"
    )
    description: str = ""
    distribution: DistributionSpec

    @model_validator(mode="before")
    @classmethod
    def _split(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        meta = {k: data.pop(k) for k in _INPUT_META if k in data}
        return {**meta, "distribution": data}


class ConstantEntry(_Section):
    """A fixed value handed to the stages; ``NAME = 7.0`` is short for ``NAME = { value = 7.0 }``."""

    value: float
    unit: str | None = Field(
        default=None, description="unit of the value, converted to the unit the stage reading it expects "
        "(refused if of another quantity); not given: the value is in the unit the stage expects"
    )
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _bare_number(cls, data: Any) -> Any:
        return {"value": data} if isinstance(data, (int, float)) and not isinstance(data, bool) else data


class CorrelationEntry(_Section):
    """A block of correlated inputs."""

    inputs: list[str] = Field(min_length=2, description="names of the correlated inputs")
    matrix: list[list[float]] = Field(description="their correlation matrix, in the order of inputs")


class StageEntry(_Section):
    """One stage of the chain, evaluated in the order of the file."""

    stage: str = Field(min_length=1, description="registered name or 'package.module:object'")
    options: dict[str, Any] = Field(default={}, description="keyword arguments; '*_file' (read) and '*_path' (written) paths are relative to the workflow file")


class DesignSection(_Section):
    """How the inputs are sampled."""

    method: Literal["mc", "lhs", "sobol", "halton", "saltelli"] = Field(
        default="mc", description="Monte Carlo, Latin hypercube, Sobol or Halton QMC, or Saltelli's design for Sobol indices"
    )
    n: PositiveInt = Field(default=1000, le=MAX_SAMPLES, description="samples; outer samples of a nested design; for saltelli N x (blocks + 2)")
    by: Literal["input", "group"] = Field(
        default="input", description="saltelli: swap single inputs (indices per input) or whole input groups (indices "
        "per group, the blocks being the groups; an input without a group is its own)"
    )
    inner: PositiveInt | None = Field(
        default=None, description="aleatoric draws per epistemic sample: a nested design (dims sample x inner)"
    )


class ExecutionSection(_Section):
    """Where and in what batches the chain runs."""

    batch_size: PositiveInt | None = Field(default=None, description="samples per task; timed automatically if absent")
    scheduler: str | None = Field(
        default=None, description="'synchronous', 'local' (a local cluster, the default) or a Dask scheduler address"
    )

    tls: dict[Literal["ca_file", "cert_file", "key_file"], str] | None = Field(
        default=None, description="TLS settings of a tls:// scheduler: {ca_file, cert_file, key_file}, paths relative "
        "to the workflow file (absent: Dask's distributed.comm.tls configuration)"
    )

    @field_validator("scheduler")
    @classmethod
    def _known_scheduler(cls, value: str | None) -> str | None:
        from uqms.execution.scheduler import check_scheduler

        return None if value is None else check_scheduler(value)
    task_timeout: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description="s a task may run on a Dask worker before its samples are bisected and the one "
        "that hangs flagged; absent: max(60 s, 100 x the probed time of a batch)"
    )
    seconds_per_sample: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description="cost of one sample, s: batches are sized from it (slow "
        "samples: one per task) and no timing probe runs; absent: the stages' own seconds_per_sample, else timed"
    )
    resources: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default={}, description="Dask resources one task needs, e.g. {cores = 4} (with the stages' own, the larger "
        "of each): tasks are annotated with them; workers of a scheduler must be started with them (dask worker "
        "--resources 'cores=4'), a local cluster uqms starts gets them"
    )


class OutputSection(_Section):
    """Where ``uqms run`` stores the run."""

    path: str = Field(default="", pattern=r"^$|\.(zarr|nc)/?$", description="run store: '.zarr' or '.nc'")


class AnalysisSection(_Section):
    """What ``uqms run`` reduces a run to (and the defaults of ``uqms analyze``)."""

    outputs: list[str] = Field(default=[], description="outputs to analyse; empty: every output")
    targets: list[str] = Field(
        default=[], description="outputs whose key results head the report; empty: the first of outputs, else the "
        "chain's last varying output with one value per sample (a TOF, a conversion)"
    )
    versus: list[str] = Field(
        default=[], max_length=2, description="one or two inputs (or per-sample outputs such as an ensemble's E_N) the "
        "targets are drawn against (median and 5-95 % band per bin; a 2-D map for two); empty: the inputs of group "
        "'descriptor', else per-sample energies named E_*, else the input with the largest index of the first target"
    )
    bins: PositiveInt = Field(default=20, ge=2, description="bins along each versus input")
    quantiles: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        default=[0.05, 0.5, 0.95], min_length=1, description="levels of the predictive quantiles"
    )
    sobol: Literal["auto", "pce", "saltelli", "given_data", "none"] = Field(
        default="auto", description="auto: saltelli on a saltelli run; given_data (first-order indices, Shapley effects) "
        "for dependent or discrete inputs; else sparse pce, given_data where its leave-one-out error is above loo_threshold"
    )
    transform: dict[str, Literal["log10", "none"]] = Field(
        default={}, description="per output: analyse log10 of the values, or the values; absent: log10 for positive "
        "outputs spanning more than two decades"
    )
    loo_threshold: float = Field(default=0.1, gt=0, description="largest relative leave-one-out error of a PCE whose "
                                 "indices are reported; above it the given-data estimators are used")
    pce_order: PositiveInt | Literal["auto"] = Field(default="auto", description="auto: lowest leave-one-out error up to max_pce_order")
    max_pce_order: PositiveInt = Field(default=10, description="highest total degree tried by pce_order = 'auto'")
    bootstrap: PositiveInt = Field(default=1000, description="bootstrap resamples of the Saltelli confidence intervals")
    confidence: float = Field(default=0.95, gt=0, lt=1, description="level of the Saltelli confidence intervals")
    convergence: bool = Field(default=True, description="also write the convergence of the Sobol indices")
    tables: list[Literal["csv", "netcdf"]] = Field(default=["csv", "netcdf"], description="formats of the tables written")
    figures: list[Literal["png", "svg"]] = Field(default=["png"], description="formats of the figures written (svg: "
                                                 "vector figures for papers, slower to write)")
    directory: str = Field(default="", description="relative to the workflow file; empty: '<run store>_analysis' beside the store")


class CalibrationSection(_Section):
    """What ``uqms calibrate`` updates against measured data, and how."""

    inputs: list[str] = Field(default=[], description="calibrated inputs; empty: every input the data do not set")
    likelihood: Literal["log10", "linear"] = Field(default="log10", description="Gaussian in log10 of the outputs, or linear")
    sigma: DistributionSpec | None = Field(
        default=None, description="prior of an inferred noise sd (decades for log10); absent: the data's '_sd' columns"
    )
    walkers: PositiveInt = Field(default=32, description="emcee walkers")
    steps: PositiveInt = Field(default=2000, ge=MIN_STEPS, description="steps of every walker, burn-in included (a resumed chain runs up to this)")
    data: str = Field(default="", description="measurement table (.csv, .nc), relative to the workflow file")
    output: str = Field(default="", pattern=r"^$|\.nc$", description="InferenceData file (.nc), relative to the workflow file")


class WorkflowFile(_Section):
    """A whole workflow file."""

    workflow: WorkflowSection
    inputs: dict[str, InputEntry] = {}
    constants: dict[str, ConstantEntry] = {}
    correlations: list[CorrelationEntry] = []
    ensembles: dict[str, EnsembleEntry] = Field(default={}, description="members x quantities: inputs + a stage prepended to the chain")
    chain: list[StageEntry] = Field(min_length=1)
    design: DesignSection = DesignSection()
    execution: ExecutionSection = ExecutionSection()
    output: OutputSection = OutputSection()
    analysis: AnalysisSection | None = None
    calibration: CalibrationSection | None = None


def key_path(loc: tuple[Any, ...]) -> str:
    """``('inputs', 'x1', 'distribution', 'normal', 'std')`` -> ``'inputs.x1.std'``."""
    parts: list[str] = []
    skip = 0
    for i, part in enumerate(loc):
        if skip:
            skip -= 1
            continue
        if part == "distribution" and i + 1 < len(loc) and loc[i + 1] in _TAGS:
            skip = 1
            continue
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        else:
            parts.append(str(part))
    return ".".join(parts)


def not_a_name(name: str) -> str:
    """What a name that does not match ``NAME_PATTERN`` should be."""
    return f"{name!r} is not a name: expected letters, digits and '_', not starting with a digit"


def check_names(config: WorkflowFile, source: str) -> None:
    """Input and constant names must be identifiers: stages receive them as keyword arguments.

    Raises:
        WorkflowError: under the key of the first bad name.
    """
    from uqms.errors import WorkflowError

    for section in ("inputs", "constants"):
        for name in getattr(config, section):
            if not re.fullmatch(NAME_PATTERN, name):
                raise WorkflowError(source, f"{section}.{name}", not_a_name(name))


def describe_error(error: dict[str, Any], echo: bool = True) -> str:
    """A readable 'what was expected' for one pydantic error; ``echo``: quote the value
    found (not for files named by ``*_file`` options, which may be any file: then its type)."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (check its spelling and the section it is in)"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        return f"unknown distribution {error['ctx']['tag']!r}; expected one of {list(_TAGS)}"
    if kind == "union_tag_not_found":
        return f"no 'distribution' key; expected one of {list(_TAGS)}"
    if kind == "string_pattern_mismatch" and error["ctx"]["pattern"] == NAME_PATTERN:
        return not_a_name(error["input"]) if echo else "expected a name (letters, digits and _, not starting with a digit)"
    if kind == "value_error":
        return re.sub(r"^Value error, ", "", error["msg"])
    return f"{error['msg']} (got {found(error['input'], echo)})"


def found(value: Any, echo: bool = True) -> str:
    """``value`` quoted for a message, or only its type when it comes from a file that may not be the user's."""
    return repr(value) if echo else f"a value of type {type(value).__name__}"


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Text and parsed content of a TOML file, with syntax errors naming the file."""
    from uqms.errors import WorkflowError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WorkflowError(str(path), "", f"cannot read the file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise WorkflowError(str(path), "", f"not UTF-8 text (byte {error.object[error.start]:#x} on line {line}): "
                            "save the file as UTF-8") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as error:
        raise WorkflowError(str(path), "", f"not valid TOML: {error}") from None


def parse_workflow(data: dict[str, Any], source: str) -> WorkflowFile:
    """Validate the content of a workflow file against the schema."""
    from uqms.errors import WorkflowError

    try:
        config = WorkflowFile.model_validate(data)
    except ValidationError as error:
        # A misspelt key also makes the right one "missing": report the misspelling first.
        first = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
        more = error.error_count() - 1
        suffix = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
        raise WorkflowError(source, key_path(first["loc"]), describe_error(first) + suffix) from None
    check_names(config, source)
    return config
