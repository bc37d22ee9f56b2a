"""The command line's answers to bad input and interruptions: one line naming the file or
option and what was expected, exit status 2 (130 for Ctrl-C), never a traceback."""

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from uqms import Workflow
from uqms.cli import app
from uqms.execution import save_run
from uqms.models.registry import ALLOW_IMPORT

ISHIGAMI = REPO / "workflows" / "ishigami.toml"
AMMONIA_MECHANISM = REPO / "workflows" / "ammonia_mechanism.toml"


def _invoke(*args, **env):
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "1000", **env})
    assert "Traceback" not in result.output
    return result


def _refused(*args, **env):
    result = _invoke(*args, **env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    return result.output


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "run.nc"
    save_run(Workflow.from_file(ISHIGAMI).run(n=64), path)
    return path


def test_version():
    import uqms

    result = _invoke("--version")
    assert result.exit_code == 0 and result.output == f"uqms {uqms.__version__}\n"


def test_allow_import_adds_to_the_packages_trusted_in_the_environment(tmp_path, monkeypatch):
    """Packages trusted by ``UQMS_ALLOW_IMPORT`` stay trusted when ``--allow-import`` adds another."""
    packages = tmp_path / "packages"
    for name, factor in (("alpha_stages", 2), ("beta_stages", 3)):
        (packages / name).mkdir(parents=True)
        (packages / name / "__init__.py").write_text(
            f"class Scale:\n    inputs, outputs = ('x',), ('{name}',)\n\n"
            f"    def __call__(self, batch):\n        return {{'{name}': {factor} * batch['x']}}\n")
    monkeypatch.syspath_prepend(str(packages))
    flow = tmp_path / "elsewhere" / "flow.toml"  # the packages are not beside it
    flow.parent.mkdir()
    flow.write_text('[workflow]\nname = "two_packages"\n\n[inputs.x]\ndistribution = "uniform"\nlower = 0.0\n'
                    'upper = 1.0\nkind = "aleatoric"\n\n[[chain]]\nstage = "alpha_stages:Scale"\n\n[[chain]]\nstage = "beta_stages:Scale"\n')
    monkeypatch.setenv(ALLOW_IMPORT, "alpha_stages")
    assert "to trust it, run with --allow-import beta_stages" in _refused("validate", flow)
    result = _invoke("--allow-import", "beta_stages", "validate", flow)
    assert result.exit_code == 0, result.output


def test_ctrl_c_during_a_run_says_where_the_finished_batches_are(tmp_path, monkeypatch):
    def interrupted(self, **options):
        raise KeyboardInterrupt

    monkeypatch.setattr(Workflow, "run", interrupted)
    store = tmp_path / "run.zarr"
    result = _invoke("run", ISHIGAMI, "--n", 64, "--out", store, "--quiet")
    assert result.exit_code == 130
    assert result.output == (f"interrupted: the batches finished so far are kept in {store}; run the same command "
                             "again to resume\n")


@pytest.mark.parametrize(("option", "expected"), [
    ("--target", "analysis.targets: ['nope'] are not analysed outputs of this run; expected some of ['y']"),
    ("--versus", "analysis.versus: ['nope'] are not per-sample variables of this run; expected some of ['x1', 'x2', 'x3']"),
])
def test_an_analysis_that_cannot_be_made_is_one_error(tmp_path, run_file, option, expected):
    assert expected in _refused("analyze", run_file, "--out", tmp_path / "analysis", option, "nope")
    assert not (tmp_path / "analysis").exists()  # refused before its folder is made



@pytest.mark.parametrize("scheduler", ["synchronous", "tcp://127.0.0.1:1", None])
def test_tls_options_for_a_scheduler_that_would_ignore_them_are_refused(tmp_path, scheduler, monkeypatch):
    """Refused before anything runs, whether the scheduler was given or is the workflow file's (synchronous)."""
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    (tmp_path / "ca.pem").write_text("")
    chosen = ["--scheduler", scheduler] if scheduler else []
    output = _refused("run", ISHIGAMI, "--n", 64, "--out", tmp_path / "run.zarr", *chosen,
                      "--tls-ca-file", tmp_path / "ca.pem", "--tls-key", tmp_path / "ca.pem")
    assert (f"--tls-ca-file, --tls-key: only a tls:// scheduler uses them, and this run's scheduler is "
            f"{scheduler or 'synchronous'!r}") in output
    assert not (tmp_path / "run.zarr").exists()
    # a tls:// scheduler takes them, and says what is missing
    assert "execution.tls.cert_file: missing" in _refused("run", ISHIGAMI, "--n", 64, "--scheduler", "tls://127.0.0.1:1",
                                                          "--tls-ca-file", tmp_path / "ca.pem", "--tls-key", tmp_path / "ca.pem")

def test_surrogate_commands_name_the_file_and_what_was_expected(tmp_path, run_file):
    output = _refused("surrogate", "show", run_file)
    assert f"{run_file}: attribute 'format' is None, expected 'uqms.surrogate/2'" in output
    output = _refused("surrogate", "fit", run_file, "--inputs", "x1,x2,x3", "--outputs", "nope", "--out",
                      tmp_path / "s.nc")
    assert f"{run_file}: no variable 'nope'; expected one of [" in output
    output = _refused("surrogate", "train", ISHIGAMI, "--inputs", "x9", "--outputs", "y", "--target", 0.1,
                      "--out", tmp_path / "s.nc")
    assert f"{ISHIGAMI}: ['x9'] are not uncertain inputs of the workflow; expected some of ['x1', 'x2', 'x3']" in output
    assert not (tmp_path / "s.nc").exists()


def test_mechanism_export_names_the_samples_it_needs(tmp_path):
    out = tmp_path / "ammonia.yaml"
    output = _refused("mechanism", "export", AMMONIA_MECHANISM, "--out", out, "--temperature", 673)
    assert f"--sample: {AMMONIA_MECHANISM} reads ['E_N', 'n2_ts_intercept']; give each as NAME=VALUE" in output
    output = _refused("mechanism", "export", AMMONIA_MECHANISM, "--out", out, "--temperature", 673, "--sample", "E_N")
    assert "--sample: expected NAME=NUMBER, got 'E_N'" in output
    output = _refused("mechanism", "export", tmp_path / "missing.toml", "--out", out, "--temperature", 673)
    assert f"{tmp_path / 'missing.toml'}: cannot read the file" in output
    assert not out.exists()
