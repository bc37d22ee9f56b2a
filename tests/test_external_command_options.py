"""The external.command stage refuses bad options when it is built, naming the option and what was
expected, before any program runs."""

import pytest

from uqms.models.external.command import CommandStage

OUTPUTS = {"y": {"decoder": "json", "file": "out.json", "key": "y"}}


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "input.j2"
    path.write_text("x = {{ x }}\n")
    return path


def test_a_well_formed_stage_is_built(template):
    stage = CommandStage("echo {{x}}", ["x"], {"y": {**OUTPUTS["y"], "unit": "eV"}},
                         templates=[{"template_file": str(template), "name": "input.txt"}])
    assert stage.command == ["echo", "{{x}}"] and stage.units == {"y": "eV"}
    assert stage.templates == {"input.txt": "x = {{ x }}\n"}


@pytest.mark.parametrize(("options", "message"), [
    ({"command": ""}, "command: expected the program and its arguments, got nothing"),
    ({"inputs": []}, "inputs, outputs: expected at least one of each"),
    ({"outputs": {}}, "inputs, outputs: expected at least one of each"),
    ({"command": ["{python}", "{program_file}"]}, "command: uses {program_file}, but the option program_file is not given"),
    ({"program_file": "no_such_program.py"}, "program_file: no file no_such_program.py"),
    ({"timeout": 0}, "timeout: expected a positive number of seconds, got 0"),
    ({"timeout": "1 h"}, "timeout: expected a positive number of seconds, got '1 h'"),
    ({"concurrency": 0}, "concurrency: expected a positive integer, got 0"),
    ({"concurrency": 1.5}, "concurrency: expected a positive integer, got 1.5"),
    ({"templates": [{"template_file": "t.j2"}]}, r"templates\[0\]: expected keys 'template_file' and 'name', got \['template_file'\]"),
    ({"templates": [{"template_file": "nowhere.j2", "name": "in.txt"}]}, r"templates\[0\].template_file: no file nowhere.j2"),
])
def test_a_bad_option_is_named(options, message):
    arguments = {"command": ["prog"], "inputs": ["x"], "outputs": OUTPUTS, **options}
    with pytest.raises(ValueError, match=message):
        CommandStage(**arguments)


def test_a_template_that_does_not_parse_or_reads_an_unknown_name_is_refused(template, tmp_path):
    broken = tmp_path / "broken.j2"
    broken.write_text("line one\nx = {{ x \n")
    with pytest.raises(ValueError, match=rf"templates\[1\].template_file: {broken}, line 2: "):
        CommandStage(["prog"], ["x"], OUTPUTS, templates=[{"template_file": str(template), "name": "a"},
                                                           {"template_file": str(broken), "name": "b"}])
    other = tmp_path / "other.j2"
    other.write_text("{{ x }} {{ pressure }}")
    with pytest.raises(ValueError, match=r"uses \['pressure'\], which are not among the stage's inputs \['x'\]"):
        CommandStage(["prog"], ["x"], OUTPUTS, templates=[{"template_file": str(other), "name": "a"}])
    with pytest.raises(ValueError, match=r"templates\[0\].name: expected a file name inside the sample folder"):
        CommandStage(["prog"], ["x"], OUTPUTS, templates=[{"template_file": str(template), "name": "../a"}])
