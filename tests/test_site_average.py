"""SiteAverage: one batched call over samples x sites, weighted per-site rates, turnover shares, statuses."""

import numpy as np
import pytest

from uqms.inputs.sites import SiteDistribution
from uqms.models import Chain, FunctionStage, resolve_stage
from uqms.models.site_average import SiteAverage, turnover_shares

KT = 8.617333262e-5 * 600.0


def volcano(E, A):
    """A Sabatier-type rate (1/s): activation-limited for weak, poisoned for strong binding."""
    return A * np.exp(-np.maximum(E, -E) / KT)


class Counting:
    """A stage recording the sizes of the batches it is called on."""

    def __init__(self):
        self.inputs, self.outputs, self.units = ("E", "A"), ("rate", "theta"), {"rate": "1/s", "theta": "1"}
        self.calls = []

    def __call__(self, batch):
        self.calls.append(len(batch["E"]))
        return {"rate": volcano(batch["E"], batch["A"]), "theta": 1 / (1 + np.exp(batch["E"] / KT))}


def test_average_equals_direct_per_site_computation_in_one_call():
    wrapped = Counting()
    sites = SiteDistribution.discrete(["a", "b", "c"], [0.2, 0.5, 0.3], [-0.2, 0.0, 0.15])
    average = SiteAverage(wrapped, sites, "E", turnover="rate")
    rng = np.random.default_rng(1)
    batch = {"E": rng.normal(0, 0.3, 50), "A": rng.uniform(1, 2, 50)}
    out = average(batch)
    assert wrapped.calls == [150]  # samples x sites in one call
    direct = sum(w * volcano(batch["E"] + s, batch["A"]) for w, s in zip([0.2, 0.5, 0.3], [-0.2, 0.0, 0.15]))
    np.testing.assert_allclose(out["rate"], direct, rtol=1e-13)
    assert not np.allclose(out["rate"], volcano(batch["E"] - 0.01, batch["A"]))  # not the rate at the mean energy
    shares = out["rate_site_share"]
    assert shares.shape == (50, 3)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(shares[:, 1], 0.5 * volcano(batch["E"], batch["A"]) / direct)
    assert average.output_dims == {"rate_site_share": ("site_type",)}
    assert average.output_coords == {"site_type": ["a", "b", "c"]}
    assert average.units["rate"] == "1/s" and average.inputs == ("E", "A")


def test_top_share_counts_the_most_active_five_percent_of_sites():
    # 2 % of sites at rate 100, 98 % at rate 1: the top 5 % are the 2 % plus 3 % of the rest
    weights = np.array([0.98, 0.02])
    shares, top = turnover_shares(weights, np.array([[[1.0], [100.0]]]), 0.05)
    assert top[0, 0] == pytest.approx((0.02 * 100 + 0.03 * 1) / (0.02 * 100 + 0.98 * 1))
    np.testing.assert_allclose(shares[0, :, 0], [0.98 / 2.98, 2 / 2.98])
    _, uniform = turnover_shares(np.full(20, 0.05), np.ones((1, 20, 1)), 0.05)
    assert uniform[0, 0] == pytest.approx(0.05)  # equal sites: the top 5 % carry 5 %


def test_continuous_sites_with_uncertain_spread_match_lognormal_mean():
    arrhenius = FunctionStage(lambda E: np.exp(-E / KT), ["E"], ["rate"], name="arrhenius")
    average = SiteAverage(arrhenius, SiteDistribution.normal("sigma", 30), "E", turnover="rate")
    assert average.inputs == ("E", "sigma")
    sigma = np.array([0.02, 0.1, 0.15])
    out = average({"E": np.zeros(3), "sigma": sigma})
    np.testing.assert_allclose(out["rate"], np.exp(sigma**2 / (2 * KT**2)), rtol=1e-10)
    assert np.all(np.diff(out["rate_top5_share"]) > 0)  # wider spread, more concentrated turnover


def _fragile(E):
    if np.any(E > 0.9):
        raise FloatingPointError("no steady state")
    return np.where(E < -0.9, np.nan, np.exp(-E / KT))


def test_failed_sites_flag_their_sample_and_spare_the_others():
    stage = FunctionStage(_fragile, ["E"], ["rate"], name="fragile")
    sites = SiteDistribution.discrete(["low", "mid", "high"], [1, 1, 1], [-0.5, 0.0, 0.5])
    average = SiteAverage(stage, sites, "E")
    out = average({"E": np.array([0.0, 0.6, -0.6, 0.1])})
    messages = average.status_messages
    assert messages[out["status"][1]] == "at one or more sites: stage 'fragile' raised an exception"
    assert messages[out["status"][2]] == "at one or more sites: stage 'fragile' returned non-finite values"
    assert out["status"][0] == out["status"][3] == 0
    assert np.isnan(out["rate"][1]) and np.isnan(out["rate"][2])
    np.testing.assert_allclose(out["rate"][[0, 3]], [np.mean(np.exp(-(e + np.array([-0.5, 0, 0.5])) / KT)) for e in (0.0, 0.1)])
    chain = Chain([average])  # the status reaches a chain's run with its message
    assert chain.status_messages[chain({"E": np.array([0.6])})["status"][0]].endswith("raised an exception")


def test_registered_for_workflow_files_with_a_wrapped_chain():
    average = resolve_stage("sites.average", {
        "stage": [{"stage": "ishigami.sines"}],
        "sites": {"kind": "discrete", "labels": ["left", "right"], "weights": [1, 3], "shifts": [-0.5, 0.5]},
        "descriptor": "x1", "outputs": ["sin_x1"],
    })
    out = average({"x1": np.array([0.0, 1.0]), "x2": np.zeros(2)})
    np.testing.assert_allclose(out["sin_x1"], 0.25 * np.sin([-0.5, 0.5]) + 0.75 * np.sin([0.5, 1.5]))


def test_wiring_mistakes_are_named():
    with pytest.raises(ValueError, match="does not read 'E_N'"):
        SiteAverage(Counting(), SiteDistribution.normal(0.1), "E_N")
    with pytest.raises(ValueError, match="not among the averaged outputs"):
        SiteAverage(Counting(), SiteDistribution.normal(0.1), "E", outputs=["rate"], turnover="theta")
