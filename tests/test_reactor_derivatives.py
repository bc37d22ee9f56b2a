"""Derivatives of the steady surface along the reactor (implicit function theorem) against closed
forms and finite differences, one reaction's rate against the resolved net rates; the
integrator's warm starts use them."""

import numpy as np
import pytest

from tests.test_reactor_ammonia import ammonia
from tests.test_reactor_site_resolved import OPTIONS, TWO_SITES, batch
from tests.test_reactor_stiff import BETA, DG, FREE, K_FAST, K_SLOW, P, conditions
from uqms.models.microkinetics import steady_state
from uqms.models.reactor import conditions as reactor_conditions
from uqms.models.reactor.pfr import integrate_pfr
from uqms.models.reactor.site_resolved import SiteResolvedPFRStage


def solved(c, rows, extents):
    rates, ok, theta = c.rates(rows, extents)
    assert ok.all()
    return rates, theta


def test_rate_jacobian_of_two_first_order_reactions_is_the_closed_form():
    # A <=> B (fast, reversible) and A -> C (slow) at fixed free sites: dx/dw = M x + b (tests/test_reactor_stiff.py)
    c = conditions()
    rows = np.arange(len(DG))
    made = [int(np.argmax(nu)) for nu in c.reactions.stoichiometry]  # gas each reaction makes
    assert sorted(made) == [1, 2]
    extents = np.tile([0.3, 0.1], (len(DG), 1))[:, np.argsort(made)]
    _, theta = solved(c, rows, extents)
    _, jacobian = c.surface_derivatives(rows, extents, theta)
    for i, dg in enumerate(DG):
        kf = K_FAST * np.exp(-max(dg, 0.0) * BETA) * FREE * P
        kr = kf * np.exp(dg * BETA)
        ks = K_SLOW * FREE * P
        closed = np.array([[-kf - kr, -kf], [-ks, -ks]])  # rows: B made, C made; columns: d/d(B made, C made)
        order = np.argsort(made)
        np.testing.assert_allclose(jacobian[i][np.ix_(order, order)], closed, rtol=1e-8, atol=1e-12 * kf)


@pytest.mark.parametrize("fraction", [0.0, 1e-3, 0.3, 0.99])
def test_ammonia_rate_jacobian_and_coverage_slopes_match_central_differences(fraction):
    c = ammonia(1e4)
    rows = np.arange(len(c.inlet))
    extents = fraction * c.equilibrium
    rates, theta = solved(c, rows, extents)
    slopes, jacobian = c.surface_derivatives(rows, extents, theta)
    step = 1e-6 * c.equilibrium[:, 0] * max(fraction, 1e-3)
    up, theta_up = solved(c, rows, extents + step[:, None])
    down, theta_down = solved(c, rows, np.maximum(extents - step[:, None], 0.0))
    width = (extents + step[:, None]) - np.maximum(extents - step[:, None], 0.0)
    differences = (up - down)[:, 0] / width[:, 0]
    coverage_slopes = (theta_up - theta_down) / width
    relevant = np.abs(differences) * c.equilibrium[:, 0] > 1e-6 * np.abs(rates[:, 0])  # rates that change measurably
    assert relevant.sum() >= 6
    one_sided = fraction == 0.0  # the difference is first order at the inlet
    np.testing.assert_allclose(jacobian[relevant, 0, 0], differences[relevant], rtol=1e-3 if one_sided else 1e-5)
    visible = theta > 1e-12  # coverages resolved beyond the solver's tolerance
    np.testing.assert_allclose((theta * slopes[:, :, 0])[visible], coverage_slopes[visible],
                               rtol=1e-2 if one_sided else 1e-4, atol=1e-6 / c.equilibrium[0, 0])


@pytest.mark.parametrize("fraction", [0.0, 0.5, 1 - 1e-7])
def test_one_reactions_rate_is_the_production_of_the_resolved_net_rates(fraction):
    c = ammonia(1e4)
    rows = np.arange(len(c.inlet))
    state = steady_state.solve_steady_state(c.mechanism, c.rate_constants, c.partial_pressures(rows, fraction * c.equilibrium))
    assert (state.status == 0).all()
    np.testing.assert_allclose(c.steady_rates(state), c.reactions.rates(state.production), rtol=1e-13)


def test_site_resolved_jacobian_is_the_weighted_mean_of_the_site_types():
    e_n = np.array([-1.0, -0.6, -0.2])
    stage = SiteResolvedPFRStage(TWO_SITES, "E_N", **OPTIONS)
    c = stage.conditions(batch(e_n))
    rows = np.arange(len(e_n))
    extents = 0.2 * c.equilibrium
    _, theta = solved(c, rows, extents)
    slopes, jacobian = c.surface_derivatives(rows, extents, theta)
    assert slopes.shape == (len(e_n), theta.shape[1], 1)
    step = 1e-6 * c.equilibrium[:, 0]
    up, _ = solved(c, rows, extents + step[:, None])
    down, _ = solved(c, rows, extents - step[:, None])
    np.testing.assert_allclose(jacobian[:, 0, 0], (up - down)[:, 0] / (2 * step), rtol=1e-4)


def test_the_integrator_predicts_every_surface_within_a_few_newton_steps(monkeypatch):
    """The coverages at each stage are predicted from the tangent at the accepted point (and the
    last solved stage), so the surface solves of the bed take few Newton steps and none needs
    pseudo-transient continuation after the inlet."""
    counts = {"solves": 0, "newton": 0, "transient": 0}
    solve = steady_state.solve_steady_state

    def counted(*args, **kwargs):
        state = solve(*args, **kwargs)
        if kwargs.get("guess", args[3] if len(args) > 3 else None) is not None:  # the inlet's solve has no guess
            counts["solves"] += len(state.status)
            counts["newton"] += int(state.iterations.sum())
            counts["transient"] += int(state.transient.sum())
        return state

    monkeypatch.setattr(reactor_conditions, "solve_steady_state", counted)
    outlet = integrate_pfr(ammonia(1e6), rtol=1e-7)
    assert (outlet.status == 0).all()
    assert counts["transient"] <= 0.01 * counts["solves"]
    assert counts["newton"] <= 2.5 * counts["solves"]
