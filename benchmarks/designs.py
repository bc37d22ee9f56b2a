"""Design points of one batch deep inside a large design: uqms against scipy.stats.qmc, side by side.

A batched, resumable run asks its design for rows ``start:stop`` of an ``n``-point design,
one batch at a time, anywhere in the design. For each design this times one batch of
10^5 points at the end of a 10^7-point design in 4 dimensions, against the peer that
must build the design up to that batch (scipy's ``LatinHypercube`` draws all n points,
``Halton.fast_forward`` draws and discards the points it skips, ``Sobol`` jumps), and
prints the ratio. It also checks that the
uqms batch equals the same rows of the whole design built at once (at 10^6 points).

Run: python benchmarks/designs.py
"""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc
from timing import best_time  # benchmarks/timing.py, beside this script

from uqms.sampling.designs import make_design

N, BATCH, DIM, SEED = 10**7, 10**5, 4, 7


def last_batch(method: str):
    return lambda: make_design(method).unit_cube(N - BATCH, N, N, DIM, SEED)


def peers() -> dict[str, object]:
    def jump(engine):
        return lambda: engine(d=DIM, scramble=True, rng=np.random.default_rng(SEED)).fast_forward(N - BATCH).random(BATCH)

    return {
        "lhs": lambda: qmc.LatinHypercube(d=DIM, rng=np.random.default_rng(SEED)).random(N)[N - BATCH:],
        "sobol": jump(qmc.Sobol),
        "halton": jump(qmc.Halton),
    }


def main() -> None:
    print(f"one batch of {BATCH:,} points at the end of a {N:,}-point design, {DIM} dimensions")
    for method in ("mc", "lhs", "sobol", "halton"):
        uqms_time = best_time(last_batch(method))
        line = f"  {method:7s} uqms {uqms_time * 1e3:8.1f} ms"
        peer = peers().get(method)
        if peer is not None:
            peer_time = best_time(peer, repeats=1)
            line += f"   scipy.stats.qmc {peer_time * 1e3:8.1f} ms   ratio {peer_time / uqms_time:7.1f}x"
        print(line)
    n = 10**6
    for method in ("mc", "lhs", "sobol", "halton"):
        design = make_design(method)
        whole = design.unit_cube(0, n, n, DIM, SEED)
        batched = np.vstack([design.unit_cube(a, a + 65_536, n, DIM, SEED)[: n - a] for a in range(0, n, 65_536)])
        print(f"  {method:7s} batches of 65 536 equal the whole design at {n:,} points: {np.array_equal(whole, batched)}")


if __name__ == "__main__":
    main()
