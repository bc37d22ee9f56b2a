"""Reading one output value of a sample back from the files its program wrote.

A decoder is declared in the workflow file as a table, e.g.
``{ decoder = "json", file = "out.json", key = "result.energy" }``:

- ``json``: the value at ``key`` (dotted; integers index lists) of a JSON file;
- ``csv``: column ``column`` (a header name) of a CSV file, row ``row`` (default -1, the last);
- ``regex``: the first group of the last match of ``pattern`` in a file (``file = "stdout"``: what
  the program printed, kept in the sample folder as ``STDOUT_FILE``);
- ``python``: ``function = "package.module:function"`` called with the sample's folder (a
  ``pathlib.Path``), returning a number.

Every decoder returns a float; a file that is absent raises :class:`MissingOutput`, a value that
cannot be read raises :class:`UnparsableOutput`, each naming the file and what was expected.

An output that is a vector of fixed length (a spectrum, the energies of an ensemble) declares
``length`` and ``dim`` (the name of its axis in the run): then ``json`` reads a list of ``length``
numbers at ``key``, ``csv`` the column over all rows (``length`` of them), ``regex`` the last
``length`` matches, and ``python`` a sequence of ``length`` numbers; any other count is unparsable.
"""

from __future__ import annotations

import csv
import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

STDOUT = "stdout"
STDOUT_FILE, STDERR_FILE = ".uqms-stdout", ".uqms-stderr"  # the program's streams, in its sample folder


class DecodeError(Exception):
    """An output of a sample that cannot be read."""


class MissingOutput(DecodeError):
    """The file an output is read from was not written."""


class UnparsableOutput(DecodeError):
    """The file exists but does not hold the value where the decoder looks."""


Decoder = Callable[[Path], float | list[float]]  # sample folder -> value (a list for a vector output)


def make_decoder(output: str, spec: Mapping[str, Any]) -> Decoder:
    """The decoder of output ``output`` declared by ``spec`` (checked here; nothing is read).

    Raises:
        ValueError: an unknown decoder, a missing or unknown key, a file outside the sample folder,
            a pattern that does not compile or has no group.
    """
    spec = dict(spec)
    where = f"outputs.{output}"
    kind = spec.pop("decoder", None)
    spec.pop("unit", None)
    length = vector_length(output, spec.pop("length", None), spec.pop("dim", None))
    required = {"json": {"file", "key"}, "csv": {"file", "column"}, "regex": {"file", "pattern"}, "python": {"function"}}
    allowed = {"json": set(), "csv": set() if length else {"row"}, "regex": set(), "python": set()}
    if kind not in required:
        raise ValueError(f"{where}.decoder: expected one of {sorted(required)}, got {kind!r}")
    missing = required[kind] - set(spec)
    unknown = set(spec) - required[kind] - allowed[kind]
    if missing or unknown:
        raise ValueError(f"{where}: a {kind!r} decoder takes {sorted(required[kind])} (and {sorted(allowed[kind])}); "
                         f"missing {sorted(missing)}, unknown {sorted(unknown)}")
    if kind == "python":
        reference = str(spec["function"])
        if not reference.partition(":")[2]:
            raise ValueError(f"{where}.function: expected 'package.module:function', got {reference!r}")
        return PythonDecoder(reference, length)
    name = sample_file_name(spec["file"], f"{where}.file")
    if kind == "json":
        return JsonDecoder(name, str(spec["key"]), length)
    if kind == "csv":
        return CsvDecoder(name, str(spec["column"]), int(spec.get("row", -1)), length)
    pattern = str(spec["pattern"])
    try:
        groups = re.compile(pattern).groups
    except re.error as error:
        raise ValueError(f"{where}.pattern: not a regular expression ({error})") from None
    if groups < 1:
        raise ValueError(f"{where}.pattern: expected a group around the number, e.g. 'E = (\\S+)'")
    return RegexDecoder(name, pattern, length)


def vector_length(output: str, length: Any, dim: Any) -> int | None:
    """The declared length of a vector output (None for a scalar), checked with its ``dim``.

    Raises:
        ValueError: one of ``length`` and ``dim`` without the other, a length below 1, a dim that is not a name.
    """
    if length is None and dim is None:
        return None
    if length is None or dim is None:
        raise ValueError(f"outputs.{output}: a vector output declares both 'length' and 'dim' (the name of its "
                         f"axis), got length={length!r}, dim={dim!r}")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"outputs.{output}.length: expected a positive integer, got {length!r}")
    if not (isinstance(dim, str) and dim.isidentifier()) or dim in ("sample", "inner"):
        raise ValueError(f"outputs.{output}.dim: expected a name other than 'sample' and 'inner', got {dim!r}")
    return length


def sample_file_name(name: str, where: str) -> str:
    """``name`` if it is a plain relative path inside a sample folder (no ``..``, not absolute)."""
    path = PurePath(str(name))
    if not str(name) or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{where}: expected a file name inside the sample folder, got {name!r}")
    return str(name)


def _text(folder: Path, name: str) -> str:
    path = folder / (STDOUT_FILE if name == STDOUT else name)
    if not path.is_file():
        raise MissingOutput(f"{name}: not written by the program")
    return path.read_text(errors="replace")


def _number(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UnparsableOutput(f"{what}: expected a number, found {str(value)[:80]!r}") from None


def _numbers(values: Any, length: int, what: str) -> list[float]:
    """``values`` as a list of exactly ``length`` floats."""
    if isinstance(values, str) or not hasattr(values, "__len__"):
        raise UnparsableOutput(f"{what}: expected {length} numbers, found {str(values)[:80]!r}")
    if len(values) != length:
        raise UnparsableOutput(f"{what}: expected {length} numbers, found {len(values)}")
    return [_number(value, what) for value in values]


@dataclass(frozen=True)
class JsonDecoder:
    """The number (a list of ``length`` numbers) at ``key`` (dotted; integers index lists) of JSON file ``name``."""

    name: str
    key: str
    length: int | None = None

    def __call__(self, folder: Path) -> float | list[float]:
        try:
            value = json.loads(_text(folder, self.name))
        except json.JSONDecodeError as error:
            raise UnparsableOutput(f"{self.name}: not JSON ({error})") from None
        for part in self.key.split("."):
            try:
                value = value[int(part)] if isinstance(value, list) else value[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise UnparsableOutput(f"{self.name}: no key {self.key!r}") from None
        what = f"{self.name}: key {self.key!r}"
        return _number(value, what) if self.length is None else _numbers(value, self.length, what)


@dataclass(frozen=True)
class CsvDecoder:
    """The number in column ``column`` (header name), row ``row`` of CSV file ``name``
    (with ``length``: the column's ``length`` rows)."""

    name: str
    column: str
    row: int = -1
    length: int | None = None

    def __call__(self, folder: Path) -> float | list[float]:
        rows = list(csv.DictReader(_text(folder, self.name).splitlines()))
        if self.length is not None:
            if rows and self.column not in rows[0]:
                raise UnparsableOutput(f"{self.name}: no column {self.column!r}")
            return _numbers([row[self.column] for row in rows], self.length, f"{self.name}: column {self.column!r}")
        try:
            value = rows[self.row][self.column]
        except (IndexError, KeyError):
            raise UnparsableOutput(f"{self.name}: no column {self.column!r} at row {self.row} ({len(rows)} rows)") from None
        return _number(value, f"{self.name}: column {self.column!r} row {self.row}")


@dataclass(frozen=True)
class RegexDecoder:
    """The first group of the last match (the last ``length`` matches) of ``pattern`` in file
    ``name`` (or the program's stdout)."""

    name: str
    pattern: str
    length: int | None = None

    def __call__(self, folder: Path) -> float | list[float]:
        matches = [m[0] if isinstance(m, tuple) else m
                   for m in re.findall(self.pattern, _text(folder, self.name), re.MULTILINE)]
        what = f"{self.name}: match of {self.pattern!r}"
        if self.length is not None:
            if len(matches) < self.length:
                raise UnparsableOutput(f"{what}: expected {self.length} matches, found {len(matches)}")
            return _numbers(matches[-self.length:], self.length, what)
        if not matches:
            raise UnparsableOutput(f"{self.name}: no match of {self.pattern!r}")
        return _number(matches[-1], what)


@dataclass(frozen=True)
class PythonDecoder:
    """``function(folder)`` of the import path ``reference`` (``package.module:function``)."""

    reference: str
    length: int | None = None

    def __call__(self, folder: Path) -> float | list[float]:
        module, _, attribute = self.reference.partition(":")
        function = getattr(importlib.import_module(module), attribute)
        try:
            value = function(folder)
        except (OSError, ValueError, KeyError, IndexError) as error:
            raise UnparsableOutput(f"{self.reference}: {type(error).__name__}: {error}") from None
        return _number(value, self.reference) if self.length is None else _numbers(value, self.length, self.reference)
