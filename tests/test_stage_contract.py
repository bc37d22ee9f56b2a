"""The contract every registered stage keeps, checked on a call on a small batch.

Each of uqms's registered stages is built as a bundled workflow builds it and called on
that workflow's first samples: it must return exactly its declared outputs, every array
with the samples first and the declared dims and coordinates after, a unit for each
output, only declared status codes, values inside declared bounds, the same values for
a sample whatever else is in the batch, and leave its batch untouched.
"""

import tomllib
from importlib.metadata import distribution
from pathlib import Path

import numpy as np
import pytest

from uqms.models import Stage, registered_stages
from uqms.models.registry import GROUP, stage_entry_points
from uqms.models.stage import stage_name
from uqms.workflow import Workflow

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted([*REPO.glob("workflows/*.toml"), *REPO.glob("case_studies/*/*.toml")])
N = 8
# stages no bundled workflow uses: (workflow file, stage there replaced by this one)
STAND_INS = {"reactor.cstr": ("workflows/prox.toml", "reactor.pfr")}  # one without options only the PFR takes


def uqms_stages() -> list[str]:
    return sorted(p.name for p in distribution("uqms").entry_points if p.group == GROUP)


def check_contract(stage: Stage, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Call ``stage`` on ``batch`` (its inputs, ``n`` samples) and check the result against its declarations."""
    label = stage_name(stage)
    assert isinstance(stage, Stage), label
    for names in (stage.inputs, stage.outputs):
        assert isinstance(names, tuple) and all(isinstance(n, str) for n in names) and len(set(names)) == len(names)
    assert "status" not in stage.outputs
    units = getattr(stage, "units", {})
    assert set(units) == set(stage.outputs), f"{label}: units {sorted(units)} for outputs {list(stage.outputs)}"
    assert all(isinstance(u, str) and u for u in units.values())
    dims, coords = getattr(stage, "output_dims", {}), getattr(stage, "output_coords", {})
    bounds, messages = getattr(stage, "bounds", {}), getattr(stage, "status_messages", {})
    assert set(dims) <= set(stage.outputs) and set(bounds) <= set(stage.outputs)
    unlabelled = {d for names in dims.values() for d in names} - set(coords)
    assert not unlabelled, f"{label}: dims {sorted(unlabelled)} without output_coords"
    assert all(isinstance(c, int) and c > 0 and isinstance(m, str) for c, m in messages.items())

    given = {k: np.array(batch[k], copy=True) for k in stage.inputs}
    n = len(next(iter(given.values())))
    assert n >= 2, f"{label}: too few samples reached the stage to check it"
    out = stage(given)
    for k in stage.inputs:
        np.testing.assert_array_equal(given[k], batch[k], err_msg=f"{label} changed its input {k!r}")
    assert set(out) - {"status"} == set(stage.outputs), f"{label} returned {sorted(out)}"
    status = np.asarray(out.get("status", np.zeros(n, dtype=int)))
    assert status.shape == (n,) and np.issubdtype(status.dtype, np.integer)
    assert set(np.unique(status)) <= {0, *messages}, f"{label}: undeclared status {np.unique(status)}"
    ok = status == 0
    for name in stage.outputs:
        value = np.asarray(out[name])
        shape = (n, *(len(coords[d]) if d in coords else value.shape[1 + i] for i, d in enumerate(dims.get(name, ()))))
        assert value.shape == shape, f"{label}: {name!r} has shape {value.shape}, declared {shape}"
        if name in bounds:
            low, high = (-np.inf if b is None else b for b in bounds[name])
            inside = value[ok][np.isfinite(value[ok])]
            assert np.all((inside >= low) & (inside <= high)), f"{label}: {name!r} outside {bounds[name]}"

    half = {k: v[: n // 2] for k, v in given.items()}
    part = stage(half)
    for name in (*stage.outputs, "status"):
        if name in out:
            np.testing.assert_allclose(np.asarray(part[name], dtype=float), np.asarray(out[name], dtype=float)[: n // 2],
                                       rtol=1e-6, atol=1e-12, err_msg=f"{label}: {name!r} depends on other samples")
    return out


def _workflow_using(name: str) -> tuple[Path, str]:
    """A bundled workflow file (and its text) whose chain names the stage ``name``, not nested."""
    path, replaced = STAND_INS.get(name, (None, name))
    for candidate in [REPO / path] if path else WORKFLOWS:
        data = tomllib.loads(candidate.read_text())
        if replaced in [e["stage"] for e in data.get("chain", [])] and not data.get("design", {}).get("inner"):
            return candidate, candidate.read_text().replace(f'stage = "{replaced}"', f'stage = "{name}"')
    raise AssertionError(f"no bundled workflow uses the stage {name!r}: add one to STAND_INS")


def test_every_bundled_stage_is_registered():
    assert uqms_stages() == [n for n in registered_stages() if n in uqms_stages()] and len(uqms_stages()) == 12
    assert all(len(stage_entry_points()[n]) == 1 for n in uqms_stages())


@pytest.mark.parametrize("name", uqms_stages())
def test_registered_stage_keeps_its_contract(name, tmp_path):
    path, text = _workflow_using(name)
    copy = path.with_name(f".contract_{path.name}")
    copy.write_text(text)  # beside the original, so relative files resolve
    try:
        flow = Workflow.from_file(copy)
    finally:
        copy.unlink()
    stage_class = stage_entry_points()[name][0].load()
    values = {**flow.sample_inputs(0, N), **{k: np.full(N, c.value) for k, c in flow.constants.items()}}
    ok = np.ones(N, dtype=bool)
    checked = 0
    for member in flow.chain.stages:
        rows = {k: v[ok] for k, v in values.items()}
        out = check_contract(member, rows) if isinstance(member, stage_class) else member(rows)
        checked += isinstance(member, stage_class)
        keep = np.asarray(out.get("status", np.zeros(ok.sum(), dtype=int))) == 0
        values = {k: v[ok][keep] for k, v in values.items()} | {k: np.asarray(v)[keep] for k, v in out.items()}
        ok = np.ones(len(next(iter(values.values()))), dtype=bool)
    assert checked == 1


def test_a_stage_of_another_package_keeps_the_contract(plugin_site, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_site))
    stage = stage_entry_points()["demo.saturation"][0].load()()
    check_contract(stage, {"K": np.array([2.0, -1.0, 0.5, 3.0]), "p": np.full(4, 0.5)})
