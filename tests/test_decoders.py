"""Decoders read a sample's output back from its program's files, or say which file and what was expected."""

import json
import sys

import pytest

from uqms.models.external.decoders import (
    STDOUT_FILE,
    MissingOutput,
    UnparsableOutput,
    make_decoder,
)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "out.json").write_text(json.dumps({"result": {"energy": -1.5, "forces": [0.1, 0.2]}, "label": "x"}))
    (tmp_path / "table.csv").write_text("step,energy\n0,-1.0\n1,-1.25\n")
    (tmp_path / STDOUT_FILE).write_text("E = -3.0\nE = -3.5\ndone\n")
    (tmp_path / "broken.json").write_text("{not json")
    return tmp_path


@pytest.mark.parametrize(("spec", "value"), [
    ({"decoder": "json", "file": "out.json", "key": "result.energy", "unit": "eV"}, -1.5),
    ({"decoder": "json", "file": "out.json", "key": "result.forces.1"}, 0.2),
    ({"decoder": "csv", "file": "table.csv", "column": "energy"}, -1.25),
    ({"decoder": "csv", "file": "table.csv", "column": "energy", "row": 0}, -1.0),
    ({"decoder": "regex", "file": "stdout", "pattern": r"E = (\S+)"}, -3.5),  # the last match
    ({"decoder": "regex", "file": "stdout", "pattern": r"(E) = (\S+)"}, None),  # first group: not a number
])
def test_each_decoder_reads_its_value(folder, spec, value):
    decoder = make_decoder("y", spec)
    if value is None:
        with pytest.raises(UnparsableOutput, match=r"stdout: match of .*expected a number, found 'E'"):
            decoder(folder)
    else:
        assert decoder(folder) == value


@pytest.mark.parametrize(("spec", "error", "message"), [
    ({"decoder": "json", "file": "missing.json", "key": "a"}, MissingOutput, "missing.json: not written by the program"),
    ({"decoder": "json", "file": "broken.json", "key": "a"}, UnparsableOutput, "broken.json: not JSON"),
    ({"decoder": "json", "file": "out.json", "key": "result.forces.7"}, UnparsableOutput, "no key 'result.forces.7'"),
    ({"decoder": "json", "file": "out.json", "key": "label"}, UnparsableOutput, "key 'label': expected a number, found 'x'"),
    ({"decoder": "csv", "file": "table.csv", "column": "force"}, UnparsableOutput, r"no column 'force' at row -1 \(2 rows\)"),
    ({"decoder": "regex", "file": "stdout", "pattern": r"F = (\S+)"}, UnparsableOutput, "stdout: no match of 'F = "),
])
def test_an_unreadable_output_names_its_file_and_what_was_expected(folder, spec, error, message):
    with pytest.raises(error, match=message):
        make_decoder("y", spec)(folder)


@pytest.mark.parametrize(("spec", "message"), [
    ({"decoder": "xml", "file": "a"}, r"outputs.y.decoder: expected one of \['csv', 'json', 'python', 'regex'\], got 'xml'"),
    ({"decoder": "json", "file": "a"}, r"missing \['key'\], unknown \[\]"),
    ({"decoder": "json", "file": "a", "key": "k", "row": 1}, r"unknown \['row'\]"),
    ({"decoder": "python", "function": "just_a_module"}, "outputs.y.function: expected 'package.module:function'"),
    ({"decoder": "json", "file": "../escape.json", "key": "k"}, "outputs.y.file: expected a file name inside the sample folder"),
    ({"decoder": "json", "file": "/etc/passwd", "key": "k"}, "inside the sample folder, got '/etc/passwd'"),
    ({"decoder": "regex", "file": "stdout", "pattern": "E = ("}, "outputs.y.pattern: not a regular expression"),
    ({"decoder": "regex", "file": "stdout", "pattern": r"E = \S+"}, "outputs.y.pattern: expected a group around the number"),
])
def test_a_bad_declaration_is_refused_before_anything_runs(spec, message):
    with pytest.raises(ValueError, match=message):
        make_decoder("y", spec)


def test_a_python_decoder_calls_its_function_with_the_sample_folder(folder, tmp_path_factory, monkeypatch):
    package = tmp_path_factory.mktemp("decoders")
    (package / "my_reader.py").write_text(
        "def energy(folder):\n    return (folder / 'value.txt').read_text()\n"
        "def wrong(folder):\n    return {'not': 'a number'}\n"
    )
    monkeypatch.syspath_prepend(str(package))
    (folder / "value.txt").write_text("  2.5\n")
    assert make_decoder("y", {"decoder": "python", "function": "my_reader:energy"})(folder) == 2.5
    (folder / "value.txt").unlink()
    with pytest.raises(UnparsableOutput, match="my_reader:energy: FileNotFoundError"):
        make_decoder("y", {"decoder": "python", "function": "my_reader:energy"})(folder)
    with pytest.raises(UnparsableOutput, match="my_reader:wrong: expected a number"):
        make_decoder("y", {"decoder": "python", "function": "my_reader:wrong"})(folder)
    sys.modules.pop("my_reader", None)
