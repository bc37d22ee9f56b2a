"""A content-addressed cache of per-sample results of external programs, in a SQLite file.

A sample's key is the SHA-256 of (stage name, the options that decide its values, the content
of its input templates and program, the sample's input values), so a resumed or repeated run,
or a run of another design that meets the same input values, reads a finished sample instead
of computing it again. Failed samples are stored too, with their status and the last lines of
the program's stderr (the run store has no place for per-sample text): :meth:`ResultCache.failures`
lists them. Rows are written as each sample finishes, from any number of processes (SQLite's
WAL mode; keep the file on a local disk, not a network file system).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

LOCK_SECONDS = 60.0  # a writer waits this long for another process's write to end


@dataclass(frozen=True)
class Outcome:
    """What one sample produced.

    Attributes:
        status: 0 for a computed sample, else the stage's status code.
        values: output name -> value (a float, or a list for an output with dims).
        text: the reason of a failure (last stderr lines, the decoder's message); "" when ok.
    """

    status: int
    values: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def plain_inputs(inputs: Mapping[str, Any]) -> dict[str, float | list]:
    """One sample's inputs as JSON-able numbers: a float each, or nested lists of floats for an
    input with dims (e.g. a rate constant per step)."""
    return {k: np.asarray(v, dtype=float).tolist() for k, v in inputs.items()}


def sample_key(stage: str, settings: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a stage's name, its value-deciding ``settings`` (JSON-able, file
    contents included) and one sample's ``inputs`` (floats or lists of floats, compared exactly)."""
    content = json.dumps([stage, settings, plain_inputs(inputs)], sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


class ResultCache:
    """Per-sample outcomes stored in a SQLite file (created if absent).

    Args:
        path: the ``.sqlite`` file.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS outcomes (key TEXT PRIMARY KEY, stage TEXT, inputs TEXT, "
                       "status INTEGER, outputs TEXT, text TEXT)")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection committed (or rolled back) and closed on leaving."""
        db = sqlite3.connect(self.path, timeout=LOCK_SECONDS)
        db.execute("PRAGMA synchronous=NORMAL")  # with WAL: a commit survives a killed process, not a power cut
        try:
            with db:
                yield db
        finally:
            db.close()

    def get(self, keys: list[str]) -> dict[str, Outcome]:
        """The stored outcomes among ``keys``."""
        found: dict[str, Outcome] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):  # SQLite caps the parameters of one statement
                part = keys[start:start + 500]
                rows = db.execute(f"SELECT key, status, outputs, text FROM outcomes WHERE key IN ({','.join('?' * len(part))})",
                                  part)
                found.update({key: Outcome(status, json.loads(outputs), text) for key, status, outputs, text in rows})
        return found

    def put(self, key: str, stage: str, inputs: Mapping[str, float], outcome: Outcome) -> None:
        """Store one sample's outcome (replacing any row of the same key)."""
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?, ?)",
                       (key, stage, json.dumps(plain_inputs(inputs)), int(outcome.status),
                        json.dumps(outcome.values), outcome.text))

    def failures(self, stage: str | None = None) -> pd.DataFrame:
        """Stored failed samples: columns ``stage``, ``status``, ``text`` and one per input."""
        query, arguments = "SELECT stage, inputs, status, text FROM outcomes WHERE status != 0", []
        if stage is not None:
            query, arguments = query + " AND stage = ?", [stage]
        with self._connect() as db:
            rows = db.execute(query, arguments).fetchall()
        return pd.DataFrame([{"stage": s, "status": c, "text": t, **json.loads(i)} for s, i, c, t in rows],
                            columns=None if rows else ["stage", "status", "text"])
