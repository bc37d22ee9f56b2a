"""A workflow: uncertain inputs and constants, a chain of stages, a design, a store."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from uqms.config import OutputSection, WorkflowFile, parse_workflow, read_toml
from uqms.errors import WiringError, WorkflowError
from uqms.execution.protocol import (
    ConstantDescription,
    InputDescription,
    OutputDescription,
    RunDescription,
)
from uqms.inputs import Constant, Correlation, InputSet, UncertainInput
from uqms.inputs.distributions import describe, is_discrete
from uqms.inputs.ensembles import ensemble_inputs
from uqms.models.registry import resolve_stage
from uqms.models.stage import Batch, Chain, Stage
from uqms.sampling.designs import make_design
from uqms.sampling.nested import INNER, NestedDesign

if TYPE_CHECKING:
    import xarray as xr
    from distributed.security import Security

    from uqms.units import Conversion

MIN_SALTELLI_BASE = 2  # base samples below which Saltelli's estimators have no variance to divide by


class Workflow:
    """Everything needed to run a chain under uncertainty.

    Args:
        chain: a :class:`Chain` or a sequence of stages.
        inputs: the uncertain inputs (design columns, in order).
        constants: fixed values handed to the stages.
        correlations: correlation blocks between inputs.
        design: ``"mc"``, ``"lhs"``, ``"sobol"``, ``"halton"`` or ``"saltelli"``.
        design_by: ``"input"`` or ``"group"``: what a Saltelli design swaps, single inputs
            or whole input groups (grouped indices from N x (groups + 2) samples).
        n: number of samples (outer samples of a nested design).
        inner: aleatoric draws per outer (epistemic) sample; None for a flat design.
        seed: seed of the design; sample i depends only on (seed, i).
        batch_size: samples evaluated together (None: chosen from a timing of the first samples).
        scheduler: where ``uqms run`` evaluates batches (see :meth:`run`).
        task_timeout: s a task may run (on a Dask worker, or in this process under the
            synchronous scheduler) before its samples are bisected and the culprit flagged
            (None: derived from the probed time of a batch).
        seconds_per_sample: cost of a sample, s (None: the stages' declared costs, else timed).
        resources: Dask resources a task needs, merged with the stages' (the larger of each).
        name: label of the workflow (used in stores and reports).
        output: where ``uqms run`` stores the run (``.zarr`` or ``.nc``), may be empty.
        source: file the workflow came from (for messages and provenance).
        source_text: that file's text (stored with every run).
        files: the data files the workflow reads (mechanisms, ensembles, ``*_file``
            options); their content hashes are kept in :attr:`files`, so a resumable
            store notices when one is edited.

    Raises:
        WorkflowError: the chain cannot be wired to the inputs and constants.
    """

    def __init__(
        self,
        chain: Chain | Sequence[Stage],
        inputs: Sequence[UncertainInput] = (),
        constants: Sequence[Constant] = (),
        correlations: Sequence[Correlation] = (),
        design: str = "mc",
        design_by: str = "input",
        n: int = 1000,
        inner: int | None = None,
        seed: int = 0,
        batch_size: int | None = None,
        scheduler: str | None = None,
        task_timeout: float | None = None,
        seconds_per_sample: float | None = None,
        resources: dict[str, float] | None = None,
        name: str = "workflow",
        output: str = "",
        source: str = "<python>",
        source_text: str = "",
        files: Sequence[str] = (),
    ):
        self.chain = chain if isinstance(chain, Chain) else Chain(chain)
        if not inputs:
            raise WorkflowError(source, "inputs", "at least one uncertain input is needed")
        self.inputs = InputSet(inputs, correlations)
        self.constants = {c.name: c for c in constants}
        clash = sorted(set(self.constants) & set(self.inputs.names))
        if clash:
            raise WorkflowError(source, f"constants.{clash[0]}", "already defined as an uncertain input")
        try:
            self.chain.check_wiring([*self.inputs.names, *self.constants], source)
        except WiringError as error:
            raise WorkflowError(source, "chain", str(error).removeprefix(f"{source}: ")) from None
        self._convert_units(source)
        if design_by != "input" and design != "saltelli":
            raise WorkflowError(source, "design.by", f"swapping input groups applies to the saltelli design, not {design!r}")
        self.design_method, self.design_by = design, design_by
        self.design_blocks = _design_blocks(self.inputs, design_by)
        names = list(self.inputs.names)
        self.design = make_design(
            design, [[names.index(m) for m in members] for members in self.design_blocks.values()]
            if design == "saltelli" else None,
        )
        try:
            self.nested = NestedDesign(inputs, correlations, self.design, inner) if inner else None
        except ValueError as error:
            raise WorkflowError(source, "design.inner", str(error)) from None
        self.n, self.seed, self.batch_size, self.scheduler = int(n), int(seed), batch_size, scheduler
        self.task_timeout, self.tls = task_timeout, None
        self.asks_for_analysis = False  # an [analysis] table in its file: ``uqms run`` analyses the run
        self.seconds_per_sample = seconds_per_sample or self.chain.seconds_per_sample
        self.resources = dict(self.chain.resources)
        for key, amount in (resources or {}).items():
            self.resources[key] = max(float(amount), self.resources.get(key, 0.0))
        self.name, self.output = name, output
        self.source, self.source_text = source, source_text
        self.files = {str(path): file_digest(path) for path in files}

    def _convert_units(self, source: str) -> None:
        """Match the unit of every input and constant to the one the stage reading it expects.

        A unit not given is taken to be the expected one (``"1"`` if no stage declares one);
        a unit of the same quantity gets a :class:`~uqms.units.Conversion` (inputs keep the
        unit they were given, in :attr:`inputs` and in stored runs; the stages see converted
        values); a unit of another quantity, or one pint does not know, is refused.

        Raises:
            WorkflowError: naming the key (``inputs.T.unit``), the unit given and the one expected.
        """
        from uqms.units import DIMENSIONLESS, UnitError, conversion, parse

        expected, expecting = self.chain.input_units, self.chain.input_unit_stage
        self.conversions: dict[str, Conversion] = {}
        self.model_units: dict[str, str] = {}

        def check(name: str, unit: str | None, key: str) -> str:
            want = expected.get(name)
            if unit is None:
                return want or "1"
            try:
                if want is None:
                    if unit.strip() not in DIMENSIONLESS:
                        parse(unit)
                    return unit
                change = conversion(unit, want)
            except UnitError as error:
                reader = f" (stage {expecting[name]!r} reads {name!r} in {want!r})" if want else ""
                raise WorkflowError(source, key, f"{error}{reader}") from None
            self.model_units[name] = want
            if not change.identity:
                self.conversions[name] = change
            return unit

        inputs = [
            UncertainInput(spec.name, spec.specification, spec.kind, spec.group,
                                check(spec.name, spec.unit, f"inputs.{spec.name}.unit"), spec.description)
            for spec in self.inputs.inputs
        ]
        self.inputs = InputSet(inputs, self.inputs.correlations)
        self.constants = {
            name: Constant(name, c.value, check(name, c.unit, f"constants.{name}.unit"), c.description)
            for name, c in self.constants.items()
        }
        self.constant_values = {
            name: float(self.conversions[name](c.value)) if name in self.conversions else float(c.value)
            for name, c in self.constants.items()
        }

    def to_model_units(self, batch: Batch) -> Batch:
        """The batch with every input or constant given in another unit converted to the unit
        its stage expects (others unchanged)."""
        return {name: self.conversions[name](values) if name in self.conversions else values
                for name, values in batch.items()}

    @classmethod
    def from_file(cls, path: str | Path) -> Workflow:
        """Read and validate a workflow file (TOML)."""
        path = Path(path)
        data, text = read_toml(path)
        return cls.from_config(parse_workflow(data, str(path)), str(path), text)

    @classmethod
    def from_config(cls, config: WorkflowFile, source: str = "<dict>", text: str = "") -> Workflow:
        """Build a workflow from a validated :class:`~uqms.config.WorkflowFile`."""
        ensembles = ensemble_expansions(config, source)
        inputs, correlations = inputs_from_config(config, source, ensembles)
        constants = [Constant(name, c.value, c.unit, c.description) for name, c in config.constants.items()]
        stages = [stage for _, stage in ensembles]
        files = [relative_to_workflow(source, entry.file) for entry in config.ensembles.values()]
        for i, entry in enumerate(config.chain):
            options = _resolve_file_options(entry.options, source)
            files.extend(_file_options(options))
            try:
                stages.append(resolve_stage(entry.stage, options, _folder(source)))
            except (LookupError, TypeError, ValueError) as error:
                raise WorkflowError(source, f"chain[{i}].stage", str(error)) from None
        try:
            chain = Chain(stages, name=config.workflow.name)
            flow = cls(
                chain, inputs, constants, correlations,
                design=config.design.method, design_by=config.design.by, n=config.design.n, inner=config.design.inner,
                seed=config.workflow.seed, batch_size=config.execution.batch_size,
                scheduler=config.execution.scheduler, task_timeout=config.execution.task_timeout,
                seconds_per_sample=config.execution.seconds_per_sample, resources=config.execution.resources,
                name=config.workflow.name,
                output=_output_path(config.output, source), source=source, source_text=text,
                files=files,
            )
        except (WiringError, ValueError) as error:
            raise WorkflowError(source, "chain" if isinstance(error, WiringError) else "inputs", str(error)) from None
        flow.asks_for_analysis = config.analysis is not None
        if config.execution.tls:  # paths relative to the workflow file
            flow.tls = {key: relative_to_workflow(source, value) for key, value in config.execution.tls.items()}
        _refuse_unknown_names(config, flow, source)
        return flow

    def check_samples(self, n: int) -> None:
        """Refuse a sample count the design cannot use, before any work (by :meth:`run`;
        not when built, since a run may give its own n).

        Raises:
            WorkflowError: under ``design.n``.
        """
        if self.design_method != "saltelli":
            return
        step = len(self.design_blocks) + 2
        if n % step or n < MIN_SALTELLI_BASE * step:
            raise WorkflowError(self.source, "design.n", f"the saltelli design of {len(self.design_blocks)} blocks "
                                f"takes N x {step} samples with N >= {MIN_SALTELLI_BASE} base samples, not {n} "
                                f"(e.g. {max(MIN_SALTELLI_BASE, n // step) * step})")

    @property
    def sample_dims(self) -> tuple[str, ...]:
        """Dims of one value of a scalar output: ``("sample",)``, or ``("sample", "inner")`` if nested."""
        return ("sample", INNER) if self.nested else ("sample",)

    def sample_inputs(self, start: int, stop: int, n_total: int | None = None, seed: int | None = None) -> Batch:
        """Input values of samples ``start:stop`` of an ``n_total``-sample design (nested:
        aleatoric inputs shaped samples x inner)."""
        n_total = self.n if n_total is None else n_total
        seed = self.seed if seed is None else seed
        if self.nested:
            return self.nested.sample(start, stop, n_total, seed)
        u = self.design.unit_cube(start, stop, n_total, len(self.inputs), seed)
        return self.inputs.from_unit_cube(u)

    def evaluate(self, inputs: Batch) -> Batch:
        """Run the chain on a batch of input values (in the units the inputs were given: they
        are converted to the stages' units here); returns outputs and ``status``
        (nested: shaped samples x inner, the chain seeing every draw in one flat batch)."""
        batch = self.to_model_units(self.nested.flatten(inputs) if self.nested else dict(inputs))
        n = len(next(iter(batch.values())))
        for name, value in self.constant_values.items():
            batch[name] = np.broadcast_to(np.float64(value), (n,))
        result = self.chain(batch)
        return self.nested.unflatten(result) if self.nested else result

    def describe(self) -> RunDescription:
        """What a run of this workflow records about it (:class:`~uqms.execution.protocol.Runnable`)."""
        chain = self.chain

        def converted(name: str) -> str | None:
            change = self.conversions.get(name)
            return change.expected if change is not None else None

        content = self.source_text or repr(
            [(i.name, str(i.distribution)) for i in self.inputs.inputs]
            + [(k, c.value) for k, c in self.constants.items()]
            + [(type(s).__qualname__, s.inputs, s.outputs) for s in chain.stages]
        )
        return RunDescription(
            name=self.name, source=self.source, source_text=self.source_text, content=content, files=dict(self.files),
            design=self.design_method, design_by=self.design_by, design_blocks=self.design_blocks,
            fixed_n=getattr(self.design, "fixed_n", "its design does not say whether its samples depend on n"),
            inner=int(self.nested.inner) if self.nested else 0, sample_dims=self.sample_dims,
            inputs=tuple(
                InputDescription(spec.name, spec.unit, spec.kind, spec.group, spec.description,
                                 describe(spec.distribution), is_discrete(spec.distribution), converted(spec.name))
                for spec in self.inputs.inputs
            ),
            constants=tuple(ConstantDescription(name, c.value, c.unit, c.description, converted(name))
                            for name, c in self.constants.items()),
            outputs=tuple(OutputDescription(name, chain.output_dims.get(name), chain.units.get(name, ""),
                                            chain.bounds.get(name, (None, None)))
                          for name in chain.outputs),
            status_messages=dict(chain.status_messages), output_coords=dict(chain.output_coords),
        )

    def run(
        self,
        n: int | None = None,
        seed: int | None = None,
        batch_size: int | None = None,
        scheduler: str | None = "synchronous",
        store: str | Path | None = None,
        quiet: bool = True,
        tls: Security | dict[str, str] | None = None,
    ) -> xr.Dataset:
        """Evaluate the chain on the design and return the run as an xarray Dataset.

        Args:
            n, seed, batch_size: override the workflow's own.
            scheduler: ``"synchronous"`` (this process, the default here), a Dask
                scheduler address, or None for ``DASK_SCHEDULER_ADDRESS`` or a local cluster.
            store: a ``.zarr`` store written as batches finish, resumed if it exists.
            quiet: no progress bar.
            tls: TLS settings of a ``tls://`` scheduler (a ``distributed.security.Security``
                or ``{ca_file, cert_file, key_file}``); default: the workflow file's
                ``[execution] tls``, else Dask's configuration.
        """
        from uqms.execution.runner import execute

        self.check_samples(n or self.n)
        return execute(self, n or self.n, self.seed if seed is None else seed,
                       batch_size or self.batch_size, scheduler, store, quiet, self.task_timeout,
                       tls or self.tls, self.seconds_per_sample, self.resources)


def inputs_from_config(
    config: WorkflowFile, source: str, ensembles: list[tuple[list[UncertainInput], Stage]] | None = None
) -> tuple[list[UncertainInput], list[Correlation]]:
    """The uncertain inputs (those of ``[ensembles.*]`` sections last) and correlation blocks
    declared in a workflow file."""
    inputs = [
        UncertainInput(name, e.distribution, e.kind, e.group, e.unit, e.description)
        for name, e in config.inputs.items()
    ]
    for ensemble, _ in ensemble_expansions(config, source) if ensembles is None else ensembles:
        inputs.extend(ensemble)
    correlations = []
    block_of: dict[str, int] = {}
    for i, entry in enumerate(config.correlations):
        unknown = [n for n in entry.inputs if n not in config.inputs]
        if unknown:
            raise WorkflowError(source, f"correlations[{i}].inputs", f"{unknown} are not uncertain inputs")
        again = [n for n in entry.inputs if n in block_of]
        if again:
            raise WorkflowError(source, f"correlations[{i}].inputs", f"{again} already in correlations"
                                f"[{block_of[again[0]]}]: expected each input in one correlation block at most")
        block_of.update(dict.fromkeys(entry.inputs, i))
        try:
            correlations.append(Correlation(tuple(entry.inputs), entry.matrix))
        except ValueError as error:
            raise WorkflowError(source, f"correlations[{i}].matrix", str(error)) from None
    return inputs, correlations


def ensemble_expansions(config: WorkflowFile, source: str) -> list[tuple[list[UncertainInput], Stage]]:
    """The inputs and the stage (prepended to the chain) of every ``[ensembles.NAME]`` section."""
    expansions = []
    for name, entry in config.ensembles.items():
        try:
            inputs, stage, _ = ensemble_inputs(name, entry, relative_to_workflow(source, entry.file))
        except (OSError, ValueError) as error:
            raise WorkflowError(source, f"ensembles.{name}", str(error)) from None
        expansions.append((inputs, stage))
    return expansions


def _refuse_unknown_names(config: WorkflowFile, flow: Workflow, source: str) -> None:
    """Refuse names in ``[analysis] outputs`` and ``[calibration] inputs`` the workflow does
    not have, when the file is read rather than after a run."""
    analysis, calibration = config.analysis, config.calibration
    for key, given, known in (("analysis.outputs", analysis.outputs if analysis else [], list(flow.chain.outputs)),
                              ("calibration.inputs", calibration.inputs if calibration else [], list(flow.inputs.names))):
        unknown = [name for name in given if name not in known]
        if unknown:
            raise WorkflowError(source, key, f"{unknown} not among the workflow's {key.split('.')[1]}: expected some of {known}")


def _folder(source: str) -> Path | None:
    """The folder of the workflow file ``source`` (None for a workflow not read from a file)."""
    return None if source.startswith("<") else Path(source).parent


def relative_to_workflow(source: str, path: str) -> str:
    """``path`` taken relative to the folder of the workflow file ``source``."""
    if Path(path).is_absolute() or source.startswith("<"):
        return path
    return str(Path(source).parent / path)


def _design_blocks(inputs: InputSet, by: str) -> dict[str, list[str]]:
    """``{block: [input names]}``: the inputs a Saltelli design swaps together, each on
    its own (``by="input"``) or by group label, an input without one being its own group."""
    blocks: dict[str, list[str]] = {}
    for spec in inputs.inputs:
        blocks.setdefault((spec.group or spec.name) if by == "group" else spec.name, []).append(spec.name)
    return blocks


def _resolve_file_options(options: dict, source: str) -> dict:
    """Stage options named ``*_file`` (files read: part of the run's fingerprint) or ``*_path``
    (files or folders a stage writes, such as a cache: not fingerprinted) are paths relative to
    the workflow file (also in nested options)."""
    def resolve(key, value):
        if isinstance(value, dict):
            return _resolve_file_options(value, source)
        if isinstance(value, list):
            return [resolve("", v) for v in value]
        is_path = key.endswith(("_file", "_path")) and isinstance(value, str)
        return relative_to_workflow(source, value) if is_path else value

    return {k: resolve(k, v) for k, v in options.items()}


def _file_options(options: dict) -> list[str]:
    """The paths among resolved stage options (``*_file`` keys, also nested)."""
    def walk(key, value):
        if isinstance(value, dict):
            return [path for k, v in value.items() for path in walk(k, v)]
        if isinstance(value, list):
            return [path for v in value for path in walk("", v)]
        return [value] if key.endswith("_file") and isinstance(value, str) else []

    return walk("", options)


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's content (of every file below it, for a folder; "missing" if absent)."""
    path = Path(path)
    parts = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.is_file() else []
    if not parts:
        return "missing"
    digest = hashlib.sha256()
    for part in parts:
        with part.open("rb") as file:
            digest.update(hashlib.file_digest(file, "sha256").digest())
    return digest.hexdigest()


def _output_path(output: OutputSection, source: str) -> str:
    """The store path of a workflow file, relative paths taken from the file's folder."""
    return relative_to_workflow(source, output.path) if output.path else ""
