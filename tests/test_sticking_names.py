"""A sticking coefficient given as a batch name is range-checked per sample: a sample whose
value is no probability (outside [0, 1]) fails with a status, the others are computed as
they would be alone (a number outside [0, 1] is refused when the mechanism is read)."""

import logging

import numpy as np
import pytest

from tests.conftest import REPO
from uqms.chemistry.mechanism import load_mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.registry import resolve_stage
from uqms.models.stage import Chain

STICKING = np.array([1.0, 0.5, 1.5, -0.2, 0.25])
OUTSIDE = (STICKING < 0) | (STICKING > 1)


@pytest.fixture(scope="module")
def mechanism_file(tmp_path_factory):
    """The bundled ammonia mechanism with N2's sticking coefficient read from the batch entry ``s_N2``."""
    text = (REPO / "workflows" / "ammonia_mechanism.toml").read_text()
    n2_step = text.index('name = "N2_dissociation"')
    at = text.index("sticking = 1.0", n2_step)
    path = tmp_path_factory.mktemp("sticking") / "ammonia_mechanism.toml"
    path.write_text(text[:at] + 'sticking = "s_N2"' + text[at + len("sticking = 1.0"):])
    return str(path)


def _batch(n=len(STICKING)):
    return {"E_N": np.full(n, -0.6), "n2_ts_intercept": np.full(n, 1.56), "T": np.full(n, 673.0),
            "s_N2": STICKING[:n], "p": np.full(n, 100.0), "F_N2": np.full(n, 0.25), "F_H2": np.full(n, 0.75),
            "sites": np.full(n, 1e6)}


def test_rate_constants_of_a_sticking_coefficient_outside_0_1_are_nan(mechanism_file, caplog):
    """Collision theory is linear in the sticking coefficient: half the sticking, half the
    adsorption rate constant; no probability, NaN; the warning names the step and the input."""
    mechanism = load_mechanism(mechanism_file)
    step = mechanism.step_names.index("N2_dissociation")
    with caplog.at_level(logging.WARNING, logger="uqms"):
        k = rate_constants_at(mechanism, _batch()["T"], _batch())
    assert np.isnan(k.forward[OUTSIDE, step]).all() and np.isnan(k.reverse[OUTSIDE, step]).all()
    kept = ~OUTSIDE
    np.testing.assert_allclose(k.forward[kept, step] / k.forward[0, step], STICKING[kept], rtol=1e-14)
    others = np.delete(np.arange(len(mechanism.steps)), step)
    assert np.isfinite(k.forward[:, others]).all()
    assert ("step 'N2_dissociation': sticking coefficient 's_N2' outside [0, 1] in 2 of 5 samples (the first 1.5)"
            in caplog.text)


@pytest.mark.parametrize("stage, options, message", [
    ("microkinetics.steady_state", {"temperature": "T"}, "rate constants or pressures not finite"),
    ("microkinetics.rate_constants", {"temperature": "T"}, "returned non-finite values"),
    ("reactor.cstr", {"inlet": {"N2": "F_N2", "H2": "F_H2"}, "temperature": "T", "pressure": "p", "sites": "sites",
                      "reactant": "N2"}, "not finite and physical"),
], ids=["steady_state", "rate_constants", "cstr"])
def test_a_sample_with_a_sticking_coefficient_outside_0_1_fails_alone(mechanism_file, stage, options, message):
    """In a chain: the samples outside [0, 1] get a failing status and NaN in their outputs;
    the others are ok and equal to a run of them alone."""
    energies = resolve_stage("energetics.scaling", {"mechanism_file": mechanism_file})
    chain = Chain([energies, resolve_stage(stage, {"mechanism_file": mechanism_file, **options})])
    out = chain(_batch())
    status = out["status"]
    assert (status[~OUTSIDE] == 0).all()
    assert (status[OUTSIDE] != 0).all()
    assert message in chain.status_messages[int(status[2])]
    alone = chain({name: values[~OUTSIDE] for name, values in _batch().items()})
    assert (alone["status"] == 0).all()
    for name in chain.stages[-1].outputs:
        np.testing.assert_array_equal(out[name][~OUTSIDE], alone[name], err_msg=name)
        failed = out[name][OUTSIDE].reshape(OUTSIDE.sum(), -1)
        assert np.isnan(failed).any(axis=1).all(), name  # NaN where the rate constant went in
