"""The ammonia chain whose last link is a Cantera CSTR script run as a separate process per sample
(workflows/ammonia_cantera_program.toml): the template's Cantera rate constants equal those of
uqms's own Cantera writer, and the program's outlet equals uqms's reactor.cstr at the same
conditions on every sample, run in this process and on a local cluster."""

import shutil
from pathlib import Path

import jinja2
import numpy as np
import pytest

from tests.conftest import REPO
from uqms.chemistry.cantera_yaml import cantera_interface, cantera_yaml_content
from uqms.chemistry.mechanism import load_mechanism
from uqms.models.energetics.stage import MechanismEnergies
from uqms.models.microkinetics.stages import RateConstantsStage
from uqms.models.reactor.stages import CSTRStage
from uqms.workflow import Workflow

ct = pytest.importorskip("cantera")
WORKFLOWS = REPO / "workflows"
MECHANISM = WORKFLOWS / "ammonia_mechanism.toml"
N = 8  # samples: the program costs ~0.3 s each, mostly Cantera's import


def program_workflow(folder: Path) -> Path:
    """The bundled workflow, its mechanism and programs copied to ``folder``, its cache there."""
    shutil.copytree(WORKFLOWS / "programs", folder / "programs")
    shutil.copy(MECHANISM, folder / MECHANISM.name)
    text = (WORKFLOWS / "ammonia_cantera_program.toml").read_text()
    cache = 'cache_path = "../runs/ammonia_cantera_program.sqlite"'
    assert cache in text
    path = folder / "ammonia_cantera_program.toml"
    path.write_text(text.replace(cache, 'cache_path = "cache.sqlite"'))
    return path


def test_the_template_gives_cantera_the_rate_constants_of_uqms_own_writer():
    """The template converts per-site rate constants to Cantera's units by hand; uqms's writer
    (uqms.chemistry.cantera_yaml, another code path) must give Cantera the same reactions."""
    mechanism = load_mechanism(MECHANISM)
    n = 3
    batch = {"E_N": np.array([-1.1, -0.5, 0.1]), "n2_ts_intercept": np.array([1.45, 1.56, 1.7]), "T": np.full(n, 673.0)}
    batch |= MechanismEnergies(str(MECHANISM))(batch)
    batch |= RateConstantsStage(str(MECHANISM))(batch)
    template = jinja2.Template((WORKFLOWS / "programs" / "ammonia_mechanism.yaml.j2").read_text())
    for i in range(n):
        text = template.render(k_forward=batch["k_forward"][i].tolist(), k_reverse=batch["k_reverse"][i].tolist(),
                               T=673.0, p=100.0, F_N2=0.25, F_H2=0.75)
        gas = ct.Solution(yaml=text, name="gas")
        ours = ct.Interface(yaml=text, name="surface", adjacent=[gas])
        content = cantera_yaml_content(mechanism, 673.0, batch["k_forward"][i], batch["k_reverse"][i],
                                       sample={k: batch[k][i] for k in ("E_N", "n2_ts_intercept")})
        theirs = cantera_interface(content)
        np.testing.assert_allclose(ours.forward_rate_constants, theirs.forward_rate_constants, rtol=1e-10)
        assert ours.n_reactions == theirs.n_reactions == 10


def uqms_cstr(run) -> dict[str, np.ndarray]:
    """uqms's own reactor.cstr at the workflow's conditions on the run's input samples."""
    constants = {name: np.full(run.sizes["sample"], float(run[name])) for name in ("T", "p", "F_N2", "F_H2", "sites")}
    batch = {"E_N": run["E_N"].values, "n2_ts_intercept": run["n2_ts_intercept"].values} | constants
    batch |= MechanismEnergies(str(MECHANISM))(batch)
    out = CSTRStage(str(MECHANISM), inlet={"N2": "F_N2", "H2": "F_H2"}, temperature="T", pressure="p",
                    sites="sites")(batch)
    assert np.all(out["status"] == 0)
    nh3 = load_mechanism(MECHANISM).gas.index("NH3")
    return {"x_NH3": out["mole_fraction"][:, nh3], "conversion": out["conversion"],
            "tof": out["outlet_flow"][:, nh3] / constants["sites"]}


def check_against_uqms(run) -> None:
    assert np.all(run["status"].values == 0), run["status"].values
    reference = uqms_cstr(run)
    for name, expected in reference.items():
        # Cantera integrates the reactor in time to 60 residence times at rtol 1e-8; uqms solves
        # the steady-state balances. Measured: <= 1.2e-5 relative on the workflow's first 64 samples.
        np.testing.assert_allclose(run[name].values, expected, rtol=1e-4, err_msg=name)
    assert np.all(run["conversion"].values > 0)


def test_the_cantera_program_equals_uqms_cstr_on_every_sample(tmp_path):
    flow = Workflow.from_file(program_workflow(tmp_path))
    run = flow.run(n=N, scheduler="synchronous")
    check_against_uqms(run)


def test_the_cantera_program_on_a_local_cluster(tmp_path, local_cluster):
    flow = Workflow.from_file(program_workflow(tmp_path))
    run = flow.run(n=N, scheduler=local_cluster.scheduler_address)
    check_against_uqms(run)
