"""A stage running an external program once per sample, in a fresh folder, with a timeout.

The sample's inputs are rendered into the program's input files from jinja2 templates, the
program runs in its own folder (on the Dask worker evaluating the batch), and each output is
read back by a declared decoder (:mod:`uqms.models.external.decoders`). A sample whose program
fails (non-zero exit, timeout, missing or unparsable output, cannot start) gets a status; the
reason and the last lines of its stderr are kept in the result cache, when one is given
(:meth:`~uqms.models.external.cache.ResultCache.failures`), and the first is logged.

Security: this stage runs the program a workflow file names, with the rights of the user who
runs uqms. Reading and validating a workflow file (``uqms validate``) builds the stage, which
reads the templates and checks options but never starts the program; ``uqms run`` does.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from uqms.models.external.cache import Outcome, ResultCache
from uqms.models.external.decoders import (
    STDERR_FILE,
    STDOUT_FILE,
    MissingOutput,
    UnparsableOutput,
    make_decoder,
    sample_file_name,
)
from uqms.models.external.per_sample import (
    batch_samples,
    evaluate_samples,
    outcomes_to_batch,
    scheduling,
)
from uqms.models.outputs import DeclaredOutputs, DeclaresOutputs, Output

FAILED, TIMED_OUT, MISSING, UNPARSABLE, NOT_STARTED = 1, 2, 3, 4, 5
STATUS_MESSAGES = {
    FAILED: "the program exited with a non-zero code",
    TIMED_OUT: "the program ran past its timeout and was killed",
    MISSING: "the program did not write an output file",
    UNPARSABLE: "an output of the program could not be read",
    NOT_STARTED: "the program could not be started",
}
STDERR_LINES = 20  # last lines of the program's stderr kept with a failed sample
log = logging.getLogger("uqms")


def template_environment() -> SandboxedEnvironment:
    """jinja2 environment for input templates: sandboxed (a template cannot reach Python
    internals), undefined names are errors, files keep their final newline."""
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


def read_templates(templates: Sequence[Mapping[str, str]], inputs: Sequence[str]) -> dict[str, str]:
    """``{file name in the sample folder: template text}`` of ``[{template_file, name}, ...]``,
    each parsed and checked to use only ``inputs``.

    Raises:
        ValueError: a missing key or file, a name outside the sample folder, a template that does
            not parse or uses a name that is not an input.
    """
    texts: dict[str, str] = {}
    for i, entry in enumerate(templates):
        where = f"templates[{i}]"
        if set(entry) != {"template_file", "name"}:
            raise ValueError(f"{where}: expected keys 'template_file' and 'name', got {sorted(entry)}")
        path = Path(entry["template_file"])
        if not path.is_file():
            raise ValueError(f"{where}.template_file: no file {path}")
        text = path.read_text()
        try:
            used = meta.find_undeclared_variables(template_environment().parse(text))
        except jinja2.TemplateSyntaxError as error:
            raise ValueError(f"{where}.template_file: {path}, line {error.lineno}: {error.message}") from None
        unknown = sorted(used - set(inputs))
        if unknown:
            raise ValueError(f"{where}.template_file: {path} uses {unknown}, which are not among the stage's inputs "
                             f"{list(inputs)}")
        texts[sample_file_name(entry["name"], f"{where}.name")] = text
    return texts


class CommandStage(DeclaresOutputs):
    """Outputs of an external program run once per sample.

    Args:
        command: the program and its arguments (a list, or a string split like a shell does);
            ``{python}`` stands for this Python interpreter, ``{program_file}`` for ``program_file``.
        inputs: names of the inputs the templates (and the cache key) use.
        outputs: ``{name: {decoder = ..., unit = ..., ...}}`` (see
            :mod:`~uqms.models.external.decoders`; ``unit`` defaults to ``"1"``; a vector output
            of fixed length adds ``length`` and ``dim``, its axis in the run).
        templates: ``[{template_file, name}]``: each template rendered with the sample's inputs
            and written as ``name`` in the sample folder.
        program_file: the program (a script or executable) the command runs; its content is
            part of the cache key and of the run's fingerprint.
        timeout: s a sample's program may run before it is killed (with its child processes).
        concurrency: samples of a batch run at once on a worker (threads waiting on processes).
        cache_path: SQLite file of per-sample results (see :mod:`~uqms.models.external.cache`);
            None: nothing is cached.
        work_path: folder under which each sample gets its own fresh folder (default: the
            system's temporary folder).
        keep_folders: keep each sample's folder after its outputs are read.
        resources: Dask resources a task needs, e.g. ``{"cores": 4}`` for a program using four
            (workers must be started with them; see :func:`uqms.execution.execute`).
        seconds_per_sample: the program's time per sample, s, when known: batches are sized
            from it (slow samples: one per task) instead of a timing of the first samples.
        name: the stage's label in messages and in the cache.
    """

    status_messages = STATUS_MESSAGES

    def __init__(
        self,
        command: str | Sequence[str],
        inputs: Sequence[str],
        outputs: Mapping[str, Mapping[str, Any]],
        templates: Sequence[Mapping[str, str]] = (),
        program_file: str | None = None,
        timeout: float = 3600.0,
        concurrency: int = 1,
        cache_path: str | None = None,
        work_path: str | None = None,
        keep_folders: bool = False,
        resources: Mapping[str, float] | None = None,
        seconds_per_sample: float | None = None,
        name: str = "external.command",
    ):
        self.command = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
        if not self.command:
            raise ValueError("command: expected the program and its arguments, got nothing")
        self.inputs = tuple(inputs)
        if not self.inputs or not outputs:
            raise ValueError("inputs, outputs: expected at least one of each")
        self.decoders = {name_: make_decoder(name_, spec) for name_, spec in outputs.items()}
        self.shapes = {name_: (spec["length"],) if "length" in spec else () for name_, spec in outputs.items()}
        coords: dict[str, list[int]] = {}
        for name_, spec in outputs.items():
            if "dim" in spec and len(coords.setdefault(spec["dim"], list(range(spec["length"])))) != spec["length"]:
                raise ValueError(f"outputs.{name_}.dim: {spec['dim']!r} is the axis of another output of length "
                                 f"{len(coords[spec['dim']])}, not {spec['length']}")
        self.declared = DeclaredOutputs([Output(name_, (spec["dim"],) if "dim" in spec else (), str(spec.get("unit", "1")))
                                         for name_, spec in outputs.items()], coords=coords)
        self.templates = read_templates(templates, self.inputs)
        if "{program_file}" in " ".join(self.command) and program_file is None:
            raise ValueError("command: uses {program_file}, but the option program_file is not given")
        if program_file is not None and not Path(program_file).is_file():
            raise ValueError(f"program_file: no file {program_file}")
        self.program_file = program_file
        if not (isinstance(timeout, int | float) and timeout > 0):
            raise ValueError(f"timeout: expected a positive number of seconds, got {timeout!r}")
        if not (isinstance(concurrency, int) and concurrency >= 1):
            raise ValueError(f"concurrency: expected a positive integer, got {concurrency!r}")
        self.timeout, self.concurrency = float(timeout), concurrency
        self.cache_path, self.work_path, self.keep_folders, self.name = cache_path, work_path, keep_folders, name
        self.resources, self.seconds_per_sample = scheduling(resources, seconds_per_sample)
        program = Path(program_file).read_bytes() if program_file else b""
        self.settings = {  # what decides a sample's outcome, besides its inputs: the cache key
            "command": self.command, "program": hashlib.sha256(program).hexdigest(), "templates": self.templates,
            "outputs": {k: dict(v) for k, v in outputs.items()}, "timeout": self.timeout,
        }

    def __call__(self, batch: Mapping) -> dict:
        cache = ResultCache(self.cache_path) if self.cache_path else None
        samples = batch_samples(batch, self.inputs)
        environment = template_environment()
        compiled = {file_name: environment.from_string(text) for file_name, text in self.templates.items()}
        outcomes = evaluate_samples(self.name, self.settings, samples, partial(self.run_sample, templates=compiled),
                                    cache, self.concurrency)
        failed = [o for o in outcomes if o.status != 0]
        if failed:
            log.warning("stage %r: %d of %d samples failed; the first: %s", self.name, len(failed), len(outcomes),
                        failed[0].text.strip().splitlines()[0] if failed[0].text.strip() else "")
        return outcomes_to_batch(outcomes, self.shapes)

    def argv(self) -> list[str]:
        """The command with ``{python}`` and ``{program_file}`` put in."""
        program = str(Path(self.program_file).resolve()) if self.program_file else ""
        return [part.replace("{python}", sys.executable).replace("{program_file}", program) for part in self.command]

    def run_sample(self, sample: dict[str, float], templates: Mapping[str, jinja2.Template]) -> Outcome:
        """Render ``templates`` (``{file name: compiled template}``), run the program in a fresh
        folder and decode its outputs."""
        root = Path(self.work_path) if self.work_path else None
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="uqms-sample-", dir=root))
        try:
            for file_name, template in templates.items():
                (folder / file_name).parent.mkdir(parents=True, exist_ok=True)
                (folder / file_name).write_text(template.render(sample))
            return self._run_in(folder)
        finally:
            if not self.keep_folders:
                shutil.rmtree(folder, ignore_errors=True)

    def _run_in(self, folder: Path) -> Outcome:
        with open(folder / STDOUT_FILE, "wb") as out, open(folder / STDERR_FILE, "wb") as err:
            try:
                process = subprocess.Popen(self.argv(), cwd=folder, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                           start_new_session=True)  # its own process group, killed whole
            except OSError as error:
                return Outcome(NOT_STARTED, text=f"{self.command[0]}: {error}")
            try:
                code = process.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):  # the group may have just ended
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return Outcome(TIMED_OUT, text=f"killed after {self.timeout:g} s\n{_tail(folder / STDERR_FILE)}")
        if code != 0:
            return Outcome(FAILED, text=f"exit code {code}\n{_tail(folder / STDERR_FILE)}")
        values: dict[str, float | list[float]] = {}
        for output, decode in self.decoders.items():
            try:
                values[output] = decode(folder)
            except MissingOutput as error:
                return Outcome(MISSING, text=f"output {output!r}: {error}\n{_tail(folder / STDERR_FILE)}")
            except UnparsableOutput as error:
                return Outcome(UNPARSABLE, text=f"output {output!r}: {error}\n{_tail(folder / STDERR_FILE)}")
        return Outcome(0, values)


def _tail(path: Path, lines: int = STDERR_LINES) -> str:
    """The last ``lines`` lines of a text file."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
