"""The ``uqms`` command line."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from uqms.config import MAX_SAMPLES, MIN_STEPS
from uqms.errors import UqmsError

if TYPE_CHECKING:
    from uqms.chemistry.mechanism import Mechanism

# Each command imports what it needs when it runs: `uqms --help` and `uqms validate` stay
# well under a second (benchmarks/startup.py), which importing numpy, chaospy, xarray and
# Dask up front would not allow.
app = typer.Typer(help="Uncertainty quantification over multiscale simulation chains.", no_args_is_help=True)
console = Console()


def _print_version(value: bool) -> None:
    if value:
        import uqms

        console.print(f"uqms {uqms.__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="print the version and exit"),
    allow_import: list[str] = typer.Option(
        [], "--allow-import", metavar="PACKAGE",
        help="let workflow files import stages from this top-level package (repeatable; '*' for any); by default "
             "only modules beside the workflow file and packages that register uqms stages",
    ),
) -> None:
    """Uncertainty quantification over multiscale simulation chains."""
    if allow_import:  # in the environment, so Dask worker processes started later see it too
        import os

        from uqms.models.registry import ALLOW_IMPORT

        os.environ[ALLOW_IMPORT] = ",".join(filter(None, [os.environ.get(ALLOW_IMPORT, ""), *allow_import]))


def _fail(error: Exception | str) -> None:
    console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
    raise typer.Exit(code=2)


@app.command()
def validate(workflow: Path = typer.Argument(..., help="workflow file (TOML)")) -> None:
    """Check a workflow file without running it."""
    from uqms.workflow import Workflow

    try:
        flow = Workflow.from_file(workflow)
        flow.check_samples(flow.n)
    except UqmsError as error:
        _fail(error)
    console.print(
        f"{workflow}: ok - {len(flow.inputs)} inputs, {len(flow.constants)} constants, "
        f"{len(flow.chain.stages)} stages, outputs {list(flow.chain.outputs)}"
    )


@app.command()
def run(
    workflow: Path = typer.Argument(..., help="workflow file (TOML)"),
    n: int | None = typer.Option(None, "--n", min=1, max=MAX_SAMPLES, help="number of samples (default: the file's design.n)"),
    seed: int | None = typer.Option(None, "--seed", min=0, help="seed (default: the file's workflow.seed)"),
    out: Path | None = typer.Option(
        None, "--out", help="run store: .zarr (written as batches finish, resumable) or .nc (default: output.path)"
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", envvar="DASK_SCHEDULER_ADDRESS",
        help="'synchronous', 'local' (a local cluster, the default) or a Dask scheduler address tcp://HOST:PORT",
    ),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="samples per task (default: timed)"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
    posterior: Path | None = typer.Option(
        None, "--posterior", help="calibration (.nc from uqms calibrate): its posterior draws replace the calibrated inputs"
    ),
    tls_ca_file: Path | None = typer.Option(None, "--tls-ca-file", help="tls:// scheduler: the CA certificate (PEM)"),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="tls:// scheduler: this client's certificate (PEM)"),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="tls:// scheduler: this client's private key (PEM)"),
) -> None:
    """Run a workflow and store the result; running again on a .zarr store resumes it."""
    from uqms.execution import save_run
    from uqms.execution.store import is_netcdf
    from uqms.workflow import Workflow

    _quiet_dask()
    target = out
    if scheduler is not None:
        from uqms.execution.scheduler import check_scheduler

        try:
            check_scheduler(scheduler)
        except ValueError as error:
            _fail(f"--scheduler: {error}")
    try:
        if posterior is None:
            flow = Workflow.from_file(workflow)
        else:
            from uqms.calibration.command import load_workflow

            flow = load_workflow(workflow, posterior)
        target = out or (Path(flow.output) if flow.output else Path(f"{flow.name}.zarr"))
        options = {"n": n, "seed": seed, "batch_size": batch_size, "scheduler": scheduler or flow.scheduler, "quiet": quiet}
        given = {"ca_file": tls_ca_file, "cert_file": tls_cert, "key_file": tls_key}
        if any(given.values()):
            _refuse_unused_tls([option for option, value in zip(TLS_OPTIONS, given.values(), strict=True) if value],
                               options["scheduler"])
            options["tls"] = {key: str(value) if value else "" for key, value in given.items()}
        with _uqms_info_shown():
            if is_netcdf(target):
                result = flow.run(**options)
                save_run(result, target)
            else:
                result = flow.run(store=target, **options)
    except UqmsError as error:
        _fail(error)
    except KeyboardInterrupt:
        console.print(f"interrupted: the batches finished so far are kept in {target}; "
                      "run the same command again to resume", highlight=False)
        raise typer.Exit(code=130) from None
    except OSError as error:  # the store's disk full, unwritable or gone
        _fail(f"{target}: cannot write the run ({error.strerror or error}); the batches finished so far are "
              "kept: make room and run the same command again to resume")
    failed = int((result.status != 0).sum())
    console.print(f"{result.sizes['sample']} samples, {failed} failed -> {target}")
    if flow.asks_for_analysis:  # the analysis modules (matplotlib for the figures: ~0.5 s) only then
        from uqms.analysis.command import analyze_if_requested

        _report_analysis(lambda: analyze_if_requested(result, target))


TLS_OPTIONS = ("--tls-ca-file", "--tls-cert", "--tls-key")


def _refuse_unused_tls(given: list[str], scheduler: str | None) -> None:
    """Refuse TLS options for a scheduler other than a ``tls://`` address, which would ignore them:
    typed on the command line, they say the user means a secured connection (the workflow file's
    ``[execution] tls``, a default for whichever scheduler a run uses, is not refused)."""
    from uqms.execution.scheduler import LOCAL, scheduler_address

    address = scheduler_address(scheduler) or LOCAL
    if not address.startswith("tls://"):
        raise UqmsError(f"{', '.join(given)}: only a tls:// scheduler uses {'it' if len(given) == 1 else 'them'}, and "
                        f"this run's scheduler is {address!r} "
                        "(--scheduler, DASK_SCHEDULER_ADDRESS or [execution] scheduler): give --scheduler "
                        "tls://HOST:PORT, or leave the --tls-* options out")


@app.command()
def calibrate(
    workflow: Path = typer.Argument(..., help="workflow file (TOML)"),
    data: Path | None = typer.Argument(None, help="measurement table, .csv or .nc (default: calibration.data)"),
    walkers: int | None = typer.Option(None, "--walkers", min=2, help="emcee walkers (default: calibration.walkers)"),
    steps: int | None = typer.Option(None, "--steps", min=MIN_STEPS, help="steps in total (default: calibration.steps)"),
    out: Path | None = typer.Option(None, "--out", help="InferenceData .nc (default: calibration.output)"),
    seed: int | None = typer.Option(None, "--seed", min=0, help="seed (default: the file's workflow.seed)"),
    scheduler: str = typer.Option("synchronous", "--scheduler", help="'synchronous', 'local' or a Dask scheduler address"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Calibrate inputs to measured data with emcee; running again resumes the chain (<out>.h5)."""
    from uqms.calibration.command import calibrate_file

    _quiet_dask()
    try:
        result = calibrate_file(workflow, data, walkers, steps, out, seed, scheduler, quiet)
    except (UqmsError, OSError) as error:
        _fail(error)
    table = Table("parameter", *result.brief.columns, title=f"posterior ({result.idata.posterior.attrs['steps']} steps, "
                  f"burn-in {result.idata.posterior.attrs['burn']}, thin {result.idata.posterior.attrs['thin']})")
    for name, row in result.brief.iterrows():
        table.add_row(str(name), *(f"{v:.4g}" for v in row))
    console.print(table)
    if not result.idata.posterior.attrs["converged"]:
        console.print("[yellow]warning:[/] the chain is shorter than 50 autocorrelation times: run more steps")
    console.print(f"calibration: {len(result.written)} files -> {result.path}")


@app.command()
def analyze(
    store: Path = typer.Argument(..., help="run store (.zarr or .nc)"),
    out: Path | None = typer.Option(None, "--out", help="folder for tables and figures (default: <store>_analysis)"),
    target: list[str] | None = typer.Option(None, "--target", help="target output (repeatable; default: [analysis] targets)"),
    versus: list[str] | None = typer.Option(None, "--versus", help="descriptor to draw targets against (repeatable, "
                                               "two give a map; default: [analysis] versus)"),
) -> None:
    """Write predictive distributions, Sobol indices, p-boxes, descriptor figures and their tables for a run."""
    from uqms.analysis.command import analyze_store

    _report_analysis(lambda: analyze_store(store, out, targets=target, versus=versus))


@app.command()
def report(
    store: Path = typer.Argument(..., help="run store (.zarr or .nc)"),
    out: Path | None = typer.Option(None, "--out", help="HTML file (default: <store>_report.html)"),
    target: list[str] | None = typer.Option(None, "--target", help="target output (repeatable; default: [analysis] targets)"),
    versus: list[str] | None = typer.Option(None, "--versus", help="descriptor to draw targets against (repeatable)"),
) -> None:
    """Write a self-contained HTML report of a run: key results first, then the details."""
    import shlex
    import sys

    from uqms.report.command import report_store

    try:
        path = report_store(store, out, command=shlex.join(["uqms", *sys.argv[1:]]), targets=target, versus=versus)
    except (UqmsError, ValueError, FileNotFoundError, OSError) as error:
        _fail(error)
    console.print(f"report -> {path}")


@contextlib.contextmanager
def _uqms_info_shown():
    """Show uqms's INFO log lines (where a run ran, a store extended) on the console while
    running; its warnings still go to stderr as without a handler."""
    import logging
    import sys

    class Handler(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                print(record.getMessage(), file=sys.stderr)
            else:
                console.print(record.getMessage(), highlight=False, markup=False)

    logger, handler = logging.getLogger("uqms"), Handler(logging.INFO)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _quiet_dask() -> None:
    """Keep Dask's own logs (tracebacks of lost connections, restarted workers) off the
    terminal: uqms says in one line what failed and which samples it flagged. Tornado,
    Dask's event loop, logs the traceback of a gather cut by a lost scheduler itself."""
    import logging

    import distributed  # noqa: F401  (its import sets levels of its own child loggers: set them after)

    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in ("distributed", "tornado"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _report_analysis(analysis) -> None:
    """Run an analysis callable and print where its files went."""
    try:
        written = analysis()
    except (UqmsError, ValueError, FileNotFoundError, OSError) as error:
        _fail(error)
    if written:
        console.print(f"analysis: {len(written)} files -> {written[0].parent}")


@app.command()
def show(store: Path = typer.Argument(..., help="run store (.zarr or .nc)")) -> None:
    """Summarise a run: inputs, outputs, statuses and output statistics."""
    import numpy as np

    import uqms.analysis.run_accessor  # noqa: F401  (registers run.uqms)
    from uqms.analysis.samples import entry_labels, flat
    from uqms.execution import open_run
    from uqms.execution.store import verify_run

    try:
        verify_run(store)
        result = open_run(store)  # lazily: one output at a time is read below
    except (FileNotFoundError, ValueError, OSError, UqmsError) as error:
        _fail(error)
    meta = result.uqms
    design = meta.design
    if design == "saltelli":
        by, blocks = meta.saltelli_blocks
        if by == "group":
            design += " swapping input groups " + "; ".join(f"{g} ({', '.join(m)})" for g, m in blocks.items())
    console.print(
        f"[bold]{result.attrs.get('workflow', '?')}[/]: {result.sizes['sample']} samples, "
        f"design {design}, seed {result.attrs.get('seed')}", highlight=False,
    )
    inputs = Table("input", "kind", "group", "unit", "distribution", title="inputs")
    for name in meta.inputs:
        attrs = result[name].attrs
        inputs.add_row(name, attrs["kind"], attrs["group"], attrs["units"], attrs["distribution"])
    console.print(inputs)
    ok = meta.status == 0
    counts = Table("status", "samples", "meaning", title="statuses")
    for code, message in meta.status_messages.items():
        count = int((meta.status == code).sum())
        if count or code == 0:
            counts.add_row(str(code), str(count), message)
    console.print(counts)
    from rich import box
    from rich.markup import escape

    rows = []
    core = tuple(result["status"].dims)
    for name in meta.outputs:
        var = result[name]
        values = flat(var, core)[ok]
        for column, entry in enumerate(entry_labels(var, core)):
            x = values[:, column]
            q = np.quantile(x, [0.05, 0.5, 0.95]) if x.size else [np.nan] * 3
            label = name if entry == name else f"{name} [{entry}]"  # a space: a long label wraps there, never cut
            rows.append((label, var.attrs.get("units", ""),
                         *(_short(v) for v in (x.mean() if x.size else np.nan, x.std(ddof=1) if x.size > 1 else np.nan, *q))))
    stats = Table(title=f"outputs over {int(ok.sum())} ok samples", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    stats.add_column("output", min_width=max(len(word) for row in rows for word in row[0].split()))  # wraps at spaces only
    for column in ("unit", "mean", "std", "5%", "50%", "95%"):
        stats.add_column(column, justify="left" if column == "unit" else "right", no_wrap=True)
    for row in rows:
        stats.add_row(*map(escape, row))
    console.print(stats)


@app.command()
def verify(store: Path = typer.Argument(..., help="run store (.zarr)")) -> None:
    """Check every batch of a run store against the checksum written with it.

    Exit status 2 for a damaged (or unreadable) store; 0 for an intact one, also when its
    run is incomplete (interrupted: not damage), which is said with the batches and samples
    still missing.
    """
    from uqms.execution.store import verify_run

    try:
        check = verify_run(store)
    except (UqmsError, FileNotFoundError, OSError) as error:
        _fail(error)
    if not check.batches:
        console.print(f"{store}: no batch checksums to verify (a NetCDF file or a store saved whole)", highlight=False)
        return
    console.print(f"{store}: ok - {check.written} batches match their checksums", highlight=False)
    if not check.complete:
        console.print(f"{store}: incomplete - {check.batches - check.written} of {check.batches} batches "
                      f"({check.missing_samples} samples) not written yet; run the same `uqms run` command again "
                      "to resume it", highlight=False)


def _short(value: float) -> str:
    """3 significant digits, exponent without padding (``-9.29e-5``): short enough that output
    names fit in 80 columns."""
    import re

    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{value:.3g}")


surrogate_app = typer.Typer(help="Fit surrogates of a run's outputs and inspect them.", no_args_is_help=True)
app.add_typer(surrogate_app, name="surrogate")


def _names(values: list[str]) -> list[str]:
    """Names given repeated or comma-separated (``--inputs a,b --inputs c``)."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _transforms(log10: list[str], raw: list[str]) -> dict[str, str]:
    """``{output: "log10" | "none"}`` from ``--log10`` and ``--raw``."""
    return {**dict.fromkeys(_names(log10), "log10"), **dict.fromkeys(_names(raw), "none")}


def _print_surrogate(model, path: Path) -> None:
    """The cross-validated error of each output entry, per method, and the method used."""
    from uqms.surrogates.model import METHODS

    table = Table("output", "unit", "fitted in", "used", *(f"{m} LOO RMSE" for m in METHODS), *(f"{m} relative" for m in METHODS),
                  title=f"{path}: {len(model.inputs)} inputs ({', '.join(model.inputs)}), "
                        f"{model.provenance.get('n_train', '?')} training samples")
    units = {spec.name: spec.units for spec in model.outputs}
    transforms = {spec.name: "log10 (RMSE in decades)" if spec.transform == "log10" else "values"
                  for spec in model.outputs}
    for column, (output, entry) in enumerate(model.entry_labels()):
        label = output if entry == "" else f"{output} [{entry}]"
        table.add_row(escape(label), units[output], transforms[output], METHODS[model.chosen[column]],
                      *(_short(v) for v in model.cv_rmse[:, column]), *(_short(v) for v in model.cv_relative[:, column]))
    console.print(table)


@surrogate_app.command("fit")
def surrogate_fit(
    store: Path = typer.Argument(..., help="training run (.zarr or .nc)"),
    inputs: list[str] = typer.Option(..., "--inputs", help="inputs of the surrogate: run inputs or scalar outputs (comma-separated or repeated)"),
    outputs: list[str] = typer.Option(..., "--outputs", help="outputs to predict (comma-separated or repeated)"),
    out: Path = typer.Option(..., "--out", help="surrogate file (.nc)"),
    method: list[str] = typer.Option(["pce", "gp"], "--method", help="pce and/or gp: fitted, the lower LOO error used"),
    max_order: int | None = typer.Option(None, "--max-order", min=1, help="highest PCE order tried"),
    max_gp_samples: int = typer.Option(1000, "--max-gp-samples", min=4, help="training rows the GP uses"),
    log10: list[str] = typer.Option([], "--log10", help="outputs fitted in log10 (default: positive ones spanning > 2 decades)"),
    raw: list[str] = typer.Option([], "--raw", help="outputs fitted as they are, never in log10"),
) -> None:
    """Fit a surrogate of OUTPUTS as functions of INPUTS on a run; print its cross-validated error."""
    import uqms.analysis.run_accessor  # noqa: F401  (registers run.uqms)
    from uqms.execution import open_run
    from uqms.surrogates import fit_surrogate

    try:
        run = open_run(store)
        model = fit_surrogate(run, _names(inputs), _names(outputs), _names(method), max_order, max_gp_samples,
                              source=str(store), transform=_transforms(log10, raw))
        model.save(out)
    except (UqmsError, ValueError, FileNotFoundError, OSError) as error:
        _fail(error)
    _print_surrogate(model, out)


@surrogate_app.command("train")
def surrogate_train(
    workflow_file: Path = typer.Argument(..., help="workflow file (TOML) whose chain is run"),
    inputs: list[str] = typer.Option(..., "--inputs", help="uncertain inputs of the surrogate (comma-separated or repeated)"),
    outputs: list[str] = typer.Option(..., "--outputs", help="outputs to predict (comma-separated or repeated)"),
    target: float = typer.Option(..., "--target", min=0.0, help="largest relative LOO error (mean square / variance) to stop at"),
    out: Path = typer.Option(..., "--out", help="surrogate file (.nc)"),
    initial: int = typer.Option(20, "--initial", min=4, help="samples of the initial design"),
    step: int = typer.Option(10, "--step", min=1, help="samples added per round"),
    max_samples: int = typer.Option(200, "--max-samples", min=4, help="most samples run"),
    pool: int = typer.Option(2000, "--pool", min=1, help="candidates drawn from the inputs' distribution"),
    method: list[str] = typer.Option(["pce", "gp"], "--method", help="pce and/or gp (the criterion's needed): the lower LOO error used"),
    log10: list[str] = typer.Option([], "--log10", help="outputs fitted in log10 (default: positive ones spanning > 2 decades)"),
    raw: list[str] = typer.Option([], "--raw", help="outputs fitted as they are, never in log10"),
    run_out: Path | None = typer.Option(None, "--run-out", help="also save the training run (.nc or .zarr)"),
    criterion: str = typer.Option("gp", "--criterion", help="where to add samples: gp (its standard deviation "
                                  "weighted by LOO residuals) or pce (its LOO residuals over Voronoi cells)"),
    scheduler: str | None = typer.Option(None, "--scheduler", help="where the chain runs: synchronous, local or a "
                                         "Dask scheduler address (default: the workflow's [execution] scheduler)"),
) -> None:
    """Train a surrogate by running WORKFLOW's chain where the surrogate is least certain, until its
    cross-validated error is below TARGET or MAX_SAMPLES have run; print the history and the errors."""
    from uqms.execution import save_run
    from uqms.surrogates import train_adaptively
    from uqms.workflow import Workflow

    try:
        flow = Workflow.from_file(workflow_file)
        trained = train_adaptively(flow, _names(inputs), _names(outputs), target, initial, step, max_samples, pool,
                                   _names(method), transform=_transforms(log10, raw), criterion=criterion,
                                   scheduler=scheduler or flow.scheduler)
        trained.surrogate.save(out)
        if run_out is not None:
            save_run(trained.run, run_out)
    except (UqmsError, ValueError, FileNotFoundError, OSError) as error:
        _fail(error)
    history = Table("samples", "largest relative LOO error", title="adaptive training")
    for n, error in trained.history:
        history.add_row(str(n), _short(error))
    console.print(history)
    console.print("target reached" if trained.reached else f"target {_short(target)} not reached: budget spent",
                  highlight=False)
    _print_surrogate(trained.surrogate, out)


@surrogate_app.command("show")
def surrogate_show(model_file: Path = typer.Argument(..., help="surrogate file (.nc)")) -> None:
    """Print a surrogate's inputs, training range, provenance and cross-validated errors."""
    from uqms.surrogates import Surrogate

    try:
        model = Surrogate.load(model_file)
    except (ValueError, FileNotFoundError, OSError) as error:
        _fail(error)
    ranges = Table("input", "unit", "lower", "upper", title="training range")
    for name, unit, low, high in zip(model.inputs, model.input_units, model.lower, model.upper, strict=True):
        ranges.add_row(name, unit, _short(low), _short(high))
    console.print(ranges)
    console.print(f"trained on {model.provenance.get('training_run')} (workflow "
                  f"{model.provenance.get('training_workflow')!r}, fingerprint "
                  f"{str(model.provenance.get('training_fingerprint'))[:16]})", highlight=False)
    _print_surrogate(model, model_file)


mechanism_app = typer.Typer(help="Convert mechanisms to and from Cantera YAML; import CatMAP models.", no_args_is_help=True)
app.add_typer(mechanism_app, name="mechanism")


def _assignments(values: list[str], option: str, convert=float, form: str = "NAME=NUMBER") -> dict:
    """``{name: convert(value)}`` from ``NAME=VALUE`` given repeated or comma-separated."""
    found = {}
    for item in _names(values):
        name, equals, value = (part.strip() for part in item.partition("="))
        try:
            if not (name and equals and value):
                raise ValueError(item)
            found[name] = convert(value)
        except ValueError:
            _fail(f"{option}: expected {form}, got {item!r}")
    return found


def _import_mechanism(read: Callable[[], Mechanism], source: str, out: Path) -> None:
    """Read a mechanism (``read``: from a foreign format), write it to ``out`` as a uqms mechanism
    file and say so; a file that cannot be read, converted or written ends the command."""
    from uqms.chemistry.mechanism import write_mechanism_toml

    try:
        mechanism = read()
        write_mechanism_toml(mechanism, out)
    except (UqmsError, ImportError, OSError, UnicodeDecodeError) as error:  # ImportError: Cantera missing
        _fail(error)
    console.print(f"{source} -> {out}: {mechanism!r}", highlight=False)


@mechanism_app.command("import")
def mechanism_import(
    source: Path = typer.Argument(..., help="Cantera YAML file with a surface phase"),
    out: Path = typer.Option(..., "--out", help="uqms mechanism file to write (TOML)"),
    phase: str | None = typer.Option(None, "--phase", help="the surface phase, or an edge phase joining surfaces "
                                                           "(default: the file's only edge, else its only surface)"),
    temperature: float | None = typer.Option(
        None, "--temperature", min=0.0, help="K: where reversible reactions' reverse is taken from Cantera's "
                                             "thermochemistry (default: the phase's state)"),
    products: list[str] = typer.Option([], "--products", help="gas species whose TOF is reported (default: all)"),
    edge_length: float | None = typer.Option(None, "--edge-length", min=0.0,
                                             help="m of edge per m^2 of surface, for an edge phase's reactions"),
) -> None:
    """Read a Cantera surface mechanism into a uqms mechanism file."""
    from uqms.chemistry.cantera_yaml import load_cantera_mechanism

    _import_mechanism(lambda: load_cantera_mechanism(source, phase, temperature, _names(products) or None,
                                                     edge_length), str(source), out)


@mechanism_app.command("import-catmap")
def mechanism_import_catmap(
    energies: Path = typer.Argument(..., help="CatMAP energy table (energies.txt)"),
    reactions: Path = typer.Option(..., "--reactions", help="CatMAP model file (.mkm: its rxn_expressions, read "
                                                            "without running it) or a text file of one expression "
                                                            "per line"),
    surface: str = typer.Option(..., "--surface", help="the surface_name whose rows are read"),
    out: Path = typer.Option(..., "--out", help="uqms mechanism file to write (TOML)"),
    pressure: list[str] = typer.Option([], "--pressure", help="GAS=BAR (default: 0)"),
    products: list[str] = typer.Option([], "--products", help="gas species whose TOF is reported "
                                                              "(default: the gases only ever produced)"),
    site: list[str] = typer.Option([], "--site", help="SYMBOL=SITE_NAME: the table's site_name of a site symbol "
                                                      "of the expressions (default: the surface's only one)"),
) -> None:
    """Read a CatMAP model (energy table and reaction expressions) into a uqms mechanism file."""
    from uqms.chemistry.catmap import read_catmap

    pressures = _assignments(pressure, "--pressure")
    site_names = _assignments(site, "--site", str, "SYMBOL=SITE_NAME") or None
    _import_mechanism(lambda: read_catmap(energies, reactions, surface, site_names=site_names, pressures=pressures,
                                          products=_names(products) or None), f"{energies} + {reactions}", out)


@mechanism_app.command("export")
def mechanism_export(
    mechanism_file: Path = typer.Argument(..., help="uqms mechanism file (TOML)"),
    out: Path = typer.Option(..., "--out", help="Cantera YAML file to write"),
    temperature: float = typer.Option(..., "--temperature", min=0.0, help="K: the state written, and where rate "
                                                                            "constants from energies are evaluated"),
    sample: list[str] = typer.Option([], "--sample", help="NAME=VALUE of each batch name the mechanism reads"),
    pressure: list[str] = typer.Option([], "--pressure", help="GAS=BAR (default: the file's pressures)"),
) -> None:
    """Write one sample of a uqms mechanism as a Cantera YAML surface mechanism."""
    import numpy as np

    from uqms.chemistry.cantera_yaml import cantera_yaml_content, write_cantera_yaml
    from uqms.chemistry.mechanism import load_mechanism
    from uqms.models.microkinetics.from_energies import rate_constants_at

    values, pressures = _assignments(sample, "--sample"), _assignments(pressure, "--pressure")
    try:
        mechanism = load_mechanism(mechanism_file)
        missing = [n for n in mechanism.energy_parameter_names() + mechanism.rate_parameter_names() if n not in values]
        if missing:
            _fail(f"--sample: {mechanism_file} reads {missing}; give each as NAME=VALUE")
        k = rate_constants_at(mechanism, np.array([temperature]), {n: np.array([v]) for n, v in values.items()})
        content = cantera_yaml_content(mechanism, temperature, k.forward[0], k.reverse[0], values, pressures)
        write_cantera_yaml(content, out)
    except (UqmsError, ImportError, OSError) as error:
        _fail(error)
    console.print(f"{mechanism_file} -> {out}: {len(content['reactions'])} Cantera reactions at {temperature:g} K",
                  highlight=False)


if __name__ == "__main__":
    app()
