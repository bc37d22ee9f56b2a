"""Stages referenced by registered name (entry points) or by import path."""

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO
from uqms.execution import status_messages
from uqms.models import registered_stages, resolve_stage
from uqms.test_functions.ishigami import Sines
from uqms.workflow import Workflow


def _dist_info(folder: Path, package: str, entry_points: dict[str, str]) -> None:
    """Metadata of an installed package (``dist-info``) declaring ``uqms.stages`` entry points."""
    info = folder / f"{package}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[uqms.stages]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))


def test_registered_name_and_import_path_give_the_same_stage():
    assert "ishigami.sines" in registered_stages()
    assert isinstance(resolve_stage("ishigami.sines"), Sines)
    assert isinstance(resolve_stage("uqms.test_functions.ishigami:Sines"), Sines)


def test_every_bundled_stage_is_registered_without_importing_it():
    code = ("import sys\nfrom uqms.models import registered_stages\nnames = registered_stages()\n"
            "print(len(names), [m for m in sys.modules if m.startswith(('uqms.models.reactor', 'uqms.models.micro', 'uqms.models.external'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(maxsplit=1)
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["uqms.stages"]
    assert out == [str(len(declared)), "[]\n"]


def test_a_stage_of_another_installed_package_is_named_from_a_workflow_file_and_runs(plugin_site, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_site))
    monkeypatch.delitem(sys.modules, "uqms_demo_plugin", raising=False)
    assert "demo.saturation" in registered_stages()
    assert "uqms_demo_plugin" not in sys.modules  # listed from metadata, loaded only when named
    flow = tmp_path / "flow.toml"
    flow.write_text(
        '[workflow]\nname = "plugin"\n'
        '[inputs.K]\ndistribution = "normal"\nmean = 2.0\nstd = 1.5\nkind = "epistemic"\n'
        '[constants]\np = 0.5\n'
        '[[chain]]\nstage = "demo.saturation"\noptions = { scale = 2.0 }\n'
    )
    run = Workflow.from_file(flow).run(n=200)
    kp = np.abs(run.K.values) * 0.5 * 2.0
    ok = run.K.values >= 0
    np.testing.assert_allclose(run.coverage.values[ok], (kp / (1 + kp))[ok])
    assert 0 < (~ok).sum() < 200 and (run.status.values[ok] == 0).all()
    messages = status_messages(run)
    assert {messages[code] for code in np.unique(run.status.values[~ok])} == {
        "stage 'demo.saturation': negative equilibrium constant"}


def test_a_name_registered_by_two_packages_is_refused_naming_both(tmp_path, monkeypatch):
    _dist_info(tmp_path, "first_pkg", {"dup.stage": "first_pkg:Stage"})
    _dist_info(tmp_path, "second_pkg", {"dup.stage": "second_pkg:Stage"})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert registered_stages().count("dup.stage") == 1
    with pytest.raises(LookupError, match=r"'dup.stage' is registered by more than one package: "
                       r"package 'first_pkg' \(first_pkg:Stage\), package 'second_pkg' \(second_pkg:Stage\)|"
                       r"package 'second_pkg' \(second_pkg:Stage\), package 'first_pkg' \(first_pkg:Stage\)"):
        resolve_stage("dup.stage")


def test_a_registered_entry_point_that_does_not_load_names_its_package(tmp_path, monkeypatch):
    _dist_info(tmp_path, "broken_pkg", {"broken.stage": "no_such_module_xyz:Stage"})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(LookupError, match=r"stage 'broken.stage' of package 'broken_pkg' \(no_such_module_xyz:Stage\) "
                       "cannot be loaded"):
        resolve_stage("broken.stage")


def test_stage_instance_by_import_path(tmp_path, monkeypatch):
    (tmp_path / "my_models.py").write_text(
        "from uqms.models import stage\n"
        "@stage(inputs=['x'], outputs=['y'])\n"
        "def double(x):\n    return 2 * x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert resolve_stage("my_models:double", folder=tmp_path).outputs == ("y",)
    with pytest.raises(TypeError, match="already a stage and takes no options"):
        resolve_stage("my_models:double", {"scale": 2}, folder=tmp_path)


def test_an_import_path_finds_a_module_beside_the_workflow_file(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "beside_the_flow.py").write_text(
        "from uqms.models import stage\n"
        "@stage(inputs=['x'], outputs=['y'], units={'y': '1'})\n"
        "def triple(x):\n    return 3 * x\n"
    )
    flow = tmp_path / "flow.toml"
    flow.write_text('[workflow]\nname = "beside"\n[inputs.x]\ndistribution = "uniform"\nlower = 0.0\nupper = 1.0\n'
                    'kind = "aleatoric"\n[[chain]]\nstage = "beside_the_flow:triple"\n')
    run = Workflow.from_file(flow).run(n=8)
    np.testing.assert_allclose(run.y, 3 * run.x)
    monkeypatch.setenv("UQMS_ALLOW_IMPORT", "nowhere_xyz")  # trusted, but found nowhere
    with pytest.raises(LookupError, match=r"cannot import module 'nowhere_xyz' \(installed, or in "):
        resolve_stage("nowhere_xyz:thing", folder=tmp_path)


@pytest.mark.parametrize(
    "reference, error, message",
    [
        ("nope.stage", LookupError, "no stage registered as 'nope.stage'"),
        ("os.system", LookupError, "no stage registered as 'os.system'"),  # a dotted name is never imported
        ("no_such_module_xyz:thing", LookupError, "imports only modules beside it and packages that register"),
        ("os:system", LookupError, "not 'os'; to trust it, run with --allow-import os"),
        ("uqms.test_functions.ishigami:Nothing", LookupError, "has no attribute 'Nothing'"),
        ("uqms.test_functions.ishigami:mean", TypeError, "not a stage"),
    ],
)
def test_bad_references(reference, error, message):
    with pytest.raises(error, match=message):
        resolve_stage(reference)


def test_options_go_to_the_factory():
    with pytest.raises(TypeError):
        resolve_stage("ishigami.sines", {"unexpected": 1})


EVIL = """[workflow]
name = "evil"
[inputs.x]
distribution = "uniform"
lower = 0.0
upper = 1.0
kind = "aleatoric"
[[chain]]
stage = "shutil:rmtree"
options = { path = "VICTIM" }
"""


def test_validating_a_workflow_file_never_imports_modules_it_was_not_allowed(tmp_path, monkeypatch):
    """``shutil:rmtree`` in a workflow file: refused before ``shutil`` is imported or anything
    called; only ``--allow-import shutil`` lets the user trust it (then it is called, and is no stage)."""
    from typer.testing import CliRunner

    from uqms.cli import app
    from uqms.models.registry import ALLOW_IMPORT

    monkeypatch.setenv(ALLOW_IMPORT, "")  # nothing trusted; --allow-import sets it in this process: restored after the test
    victim = tmp_path / "victim"
    victim.mkdir()
    flow = tmp_path / "evil.toml"
    flow.write_text(EVIL.replace("VICTIM", str(victim)))
    runner = CliRunner()
    refused = runner.invoke(app, ["validate", str(flow)], env={"COLUMNS": "200"})
    assert refused.exit_code == 2 and "not 'shutil'; to trust it, run with --allow-import shutil" in refused.stdout
    assert victim.is_dir()
    trusted = runner.invoke(app, ["--allow-import", "shutil", "validate", str(flow)], env={"COLUMNS": "200"})
    assert trusted.exit_code == 2 and "which is not a stage" in trusted.stdout and not victim.exists()
