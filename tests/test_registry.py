"""Stages referenced by registered name or by import path."""

import pytest

from uqms.models import registered_stages, resolve_stage
from uqms.test_functions.ishigami import Sines


def test_registered_name_and_import_path_give_the_same_stage():
    assert "ishigami.sines" in registered_stages()
    assert isinstance(resolve_stage("ishigami.sines"), Sines)
    assert isinstance(resolve_stage("uqms.test_functions.ishigami:Sines"), Sines)


def test_stage_instance_by_import_path(tmp_path, monkeypatch):
    (tmp_path / "my_models.py").write_text(
        "from uqms.models import stage\n"
        "@stage(inputs=['x'], outputs=['y'])\n"
        "def double(x):\n    return 2 * x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert resolve_stage("my_models:double").outputs == ("y",)
    with pytest.raises(TypeError, match="already a stage and takes no options"):
        resolve_stage("my_models:double", {"scale": 2})


@pytest.mark.parametrize(
    "reference, error, message",
    [
        ("nope.stage", LookupError, "no stage registered as 'nope.stage'"),
        ("no_such_module_xyz:thing", LookupError, "cannot import module"),
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
