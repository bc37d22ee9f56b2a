"""Bad workflow files each give one clear error naming the file, the key and the expectation."""

import numpy as np
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
        ('name = "ishigami"', 'name = "my flow"', "workflow.name", "'my flow' is not a name"),
        ('[constants]', '[[correlations]]\ninputs = ["x1", "x9"]\nmatrix = [[1.0, 0.5], [0.5, 1.0]]\n[constants]',
         "correlations[0].inputs", "['x9'] are not uncertain inputs"),
        ('[constants]', '[[correlations]]\ninputs = ["x1", "x2"]\nmatrix = [[1.0, 1.5], [1.5, 1.0]]\n[constants]',
         "correlations[0].matrix", "positive definite"),
        ('a = { value', 'x1 = 1.0\na = { value', "constants.x1", "already defined as an uncertain input"),
        ('[inputs.x3]', '[inputs.x9]', "chain", "stage 'ishigami.combine' needs ['x3']"),
        (X1, X1.replace("upper = 3.141592653589793", "upper = nan"), "inputs.x1.upper", "finite number"),
        ('a = { value = 7.0', 'a = { value = inf', "constants.a.value", "finite number"),
        ('[inputs.x1]', '[inputs."x-1"]', "inputs.x-1", "'x-1' is not a name"),
        ('a = { value', '2a = { value', "constants.2a", "'2a' is not a name"),
        ('n = 4096', 'n = 1000000000000000', "design.n", "less than or equal to"),
        ('n = 4096', 'n = 1180591620717411303424', "design.n", "less than or equal to"),
        ('scheduler = "synchronous"', 'scheduler = "bogus://x"', "execution.scheduler", "unknown scheduler 'bogus://x'"),
        ('[execution]', '[execution]\ntask_timeout = -1', "execution.task_timeout", "greater than 0"),
        ('[inputs.x3]\ndistribution = "uniform"\nlower = -3.141592653589793\nupper = 3.141592653589793',
         '[inputs.x3]\ndistribution = "truncnormal"\nmean = 0.0\nstd = 1.0\nlower = 40.0\nupper = 41.0',
         "inputs.x3", "more than 7 std from the mean"),
        ('[constants]', ('[[correlations]]\ninputs = ["x1", "x2"]\nmatrix = [[1.0, 0.5], [0.5, 1.0]]\n'
                         '[[correlations]]\ninputs = ["x3", "x2"]\nmatrix = [[1.0, 0.5], [0.5, 1.0]]\n[constants]'),
         "correlations[1].inputs", "['x2'] already in correlations[0]"),
        ('[constants]', '[calibration]\nsteps = 2\n[constants]', "calibration.steps", "greater than or equal to 100"),
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


def test_a_file_not_in_utf8_is_named_with_its_line(tmp_path, ishigami_text):
    path = tmp_path / "flow.toml"
    path.write_bytes(ishigami_text.replace("first argument", "premier \xe9l\xe9ment").encode("latin-1"))
    with pytest.raises(WorkflowError, match=r"flow.toml: not UTF-8 text \(byte 0xe9 on line 17\): save the file as UTF-8"):
        Workflow.from_file(path)


def test_a_truncated_normal_near_its_mean_samples_within_its_bounds():
    from uqms.inputs.distributions import TruncatedNormal

    values = TruncatedNormal(lower=6.5, upper=7.5, mean=0.0, std=1.0).build().sample(1000, seed=1)
    assert np.all((values >= 6.5) & (values <= 7.5)) and np.ptp(values) > 0.1


@pytest.mark.parametrize("n", [7, 5])
def test_a_saltelli_design_with_too_few_base_samples_is_refused_before_running(tmp_path, ishigami_text, n):
    flow = _load(tmp_path, ishigami_text.replace('method = "sobol"\nn = 4096', f'method = "saltelli"\nn = {n}'))
    with pytest.raises(WorkflowError, match=rf"flow.toml: design.n: .* N x 5 samples with N >= 2 base samples, not {n}"):
        flow.run()


def test_missing_file_is_named(tmp_path):
    with pytest.raises(WorkflowError, match="nowhere.toml: cannot read the file"):
        Workflow.from_file(tmp_path / "nowhere.toml")


def test_bundled_workflow_is_valid(ishigami_text, tmp_path):
    flow = _load(tmp_path, ishigami_text)
    assert flow.inputs.names == ("x1", "x2", "x3")
    assert flow.chain.outputs == ("sin_x1", "sin_x2", "y")
    assert flow.design_method == "sobol" and flow.n == 4096
    assert flow.output == str(tmp_path / "../runs/ishigami.zarr")
