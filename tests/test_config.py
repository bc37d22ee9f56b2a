"""Bad workflow files each give one clear error naming the file, the key and the expectation."""

import pytest

from uqms.errors import WorkflowError
from uqms.workflow import Workflow

X1 = '''[inputs.x1]
distribution = "uniform"
lower = -3.141592653589793
upper = 3.141592653589793
kind = "aleatoric"'''


def _load(tmp_path, text):
    path = tmp_path / "flow.toml"
    path.write_text(text)
    return Workflow.from_file(path)


@pytest.mark.parametrize(
    "old, new, key, expected",
    [
        ('[workflow]', '[workflow', "", "not valid TOML"),
        (X1, X1.replace('"uniform"', '"gauss"'), "inputs.x1.distribution", "unknown distribution 'gauss'"),
        (X1, X1.replace('distribution = "uniform"', 'distribution = "normal"\nmean = 0\nstd = -1')
            .replace("lower = -3.141592653589793\nupper = 3.141592653589793\n", ""),
         "inputs.x1.std", "greater than 0"),
        (X1, X1.replace('kind = "aleatoric"', ""), "inputs.x1.kind", "required key is missing"),
        (X1, X1.replace('kind = "aleatoric"', 'kind = "random"'), "inputs.x1.kind", "'aleatoric' or 'epistemic'"),
        (X1, X1.replace("lower = -3.141592653589793", "lower = 4.0"), "inputs.x1", "lower (4.0) must be below upper"),
        (X1, X1.replace("upper = ", "uper = "), "inputs.x1.uper", "unknown key"),
        ('[design]', '[desing]', "desing", "unknown key"),
        ('stage = "ishigami.sines"', 'stage = "ishigami.sine"', "chain[0].stage", "no stage registered as 'ishigami.sine'"),
        ('stage = "ishigami.sines"', 'stage = "uqms.nothing:here"', "chain[0].stage", "cannot import module 'uqms.nothing'"),
        ('method = "sobol"', 'method = "grid"', "design.method", "'mc', 'lhs', 'sobol'"),
        ('n = 4096', 'n = 0', "design.n", "greater than 0"),
        ('[execution]', '[execution]\nbatch_size = "big"', "execution.batch_size", "valid integer"),
        ('path = "../runs/ishigami.zarr"', 'path = "../runs/ishigami.csv"', "output.path", "should match pattern"),
        ('name = "ishigami"', 'name = "my flow"', "workflow.name", "should match pattern"),
        ('[constants]', '[[correlations]]\ninputs = ["x1", "x9"]\nmatrix = [[1.0, 0.5], [0.5, 1.0]]\n[constants]',
         "correlations[0].inputs", "['x9'] are not uncertain inputs"),
        ('[constants]', '[[correlations]]\ninputs = ["x1", "x2"]\nmatrix = [[1.0, 1.5], [1.5, 1.0]]\n[constants]',
         "correlations[0].matrix", "positive definite"),
        ('a = { value', 'x1 = 1.0\na = { value', "constants.x1", "already defined as an uncertain input"),
        ('[inputs.x3]', '[inputs.x9]', "chain", "stage 'ishigami.combine' needs ['x3']"),
    ],
)
def test_bad_workflow_file_names_file_key_and_expectation(tmp_path, ishigami_text, old, new, key, expected):
    assert old in ishigami_text
    with pytest.raises(WorkflowError) as caught:
        _load(tmp_path, ishigami_text.replace(old, new, 1))
    error = caught.value
    assert error.source.endswith("flow.toml")
    assert error.key == key
    assert expected in error.message
    assert str(error).startswith(f"{error.source}: {key}")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(WorkflowError, match="nowhere.toml: cannot read the file"):
        Workflow.from_file(tmp_path / "nowhere.toml")


def test_bundled_workflow_is_valid(ishigami_text, tmp_path):
    flow = _load(tmp_path, ishigami_text)
    assert flow.inputs.names == ("x1", "x2", "x3")
    assert flow.chain.outputs == ("sin_x1", "sin_x2", "y")
    assert flow.design_method == "sobol" and flow.n == 4096
    assert flow.output == str(tmp_path / "../runs/ishigami.zarr")
