"""Designs: how the uncertain inputs are sampled."""

from uqms.sampling.designs import (
    DESIGNS,
    Halton,
    LatinHypercube,
    MonteCarlo,
    Sobol,
    make_design,
)

__all__ = ["DESIGNS", "Halton", "LatinHypercube", "MonteCarlo", "Sobol", "make_design"]
