"""Space-filling designs on the unit hypercube, reproducible per sample index.

Every design returns rows ``start:stop`` of an ``n_total x dim`` point set that depends
only on the seed, so sample i is the same whatever the batch size or worker count.
Inputs are obtained from these points through the inverse Rosenblatt transform of the
joint distribution (:meth:`uqms.inputs.InputSet.from_unit_cube`).

Most designs also leave sample i unchanged when ``n_total`` changes (the Philox stream,
the scrambled Sobol' and Halton sequences, whose scrambling is drawn from the seed alone
and whose point i is reached by a jump, and Saltelli's rows, which follow the Sobol'
sequence base sample by base sample), so a finished run can be extended with more
samples. A design whose points depend on ``n_total`` says why in ``fixed_n``.
"""

from __future__ import annotations

import warnings

import numpy as np

from uqms.sampling.saltelli import Saltelli

_WORDS_PER_STEP = 4  # Philox4x64 yields four 64-bit words per counter step


def _philox_uniforms(seed: int, stream: int, start: int, stop: int, dim: int) -> np.ndarray:
    """Uniforms for samples ``start:stop``: sample i takes counter steps [i*s, (i+1)*s).

    numpy's ``default_rng([seed, i])`` would need a Python loop over samples; a
    counter-based generator jumps straight to sample ``start`` instead.
    """
    steps = -(-dim // _WORDS_PER_STEP)
    bits = np.random.Philox(key=(int(seed) << 64) | int(stream))
    bits.advance(start * steps)
    words = np.random.Generator(bits).random((stop - start) * steps * _WORDS_PER_STEP)
    return words.reshape(stop - start, steps * _WORDS_PER_STEP)[:, :dim]


class MonteCarlo:
    """Independent uniform points (pseudo-random, Philox counter-based stream)."""

    name = "mc"
    fixed_n = None  # sample i depends on (seed, i) only: a run can be extended

    def unit_cube(self, start: int, stop: int, n_total: int, dim: int, seed: int) -> np.ndarray:
        return _philox_uniforms(seed, 0, start, stop, dim)


class LatinHypercube:
    """Latin hypercube of ``n_total`` points: one point per stratum of every axis.

    chaospy's ``latin_hypercube`` rule draws from numpy's global state, and a drawn
    permutation of all ``n_total`` strata would cost O(n_total) per batch; the stratum of
    sample i on each axis is instead :func:`keyed_permutation` of i, keyed by (seed, axis).
    """

    name = "lhs"
    fixed_n = ("a Latin hypercube's strata depend on n (each of the n samples takes one of n strata per axis), "
               "so its first samples change with n")

    def unit_cube(self, start: int, stop: int, n_total: int, dim: int, seed: int) -> np.ndarray:
        index = np.arange(start, stop, dtype=np.uint64)
        strata = np.column_stack(
            [keyed_permutation(index, n_total, np.random.default_rng([seed, 1, axis])) for axis in range(dim)]
        ).reshape(stop - start, dim)
        return (strata + _philox_uniforms(seed, 1, start, stop, dim)) / n_total


_FEISTEL_ROUNDS = 6


def keyed_permutation(index: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Images of ``index`` (uint64, each < ``n``) under a pseudo-random permutation of
    ``range(n)`` chosen by ``rng``: O(len(index)) work and memory, whatever ``n``.

    A balanced Feistel network on the smallest even number of bits covering ``n`` is a
    bijection of that power-of-two range; images at or above ``n`` are mapped again
    until they fall below it (cycle walking), which keeps it a bijection of ``range(n)``.
    Nothing in numpy or scipy gives element ``i`` of a random permutation without
    building all of it.
    """
    half = max(1, -(-max(int(n) - 1, 1).bit_length() // 2))
    mask = np.uint64((1 << half) - 1)
    shift = np.uint64(half)
    keys = rng.integers(0, 2**63, size=_FEISTEL_ROUNDS, dtype=np.uint64)
    image = index.astype(np.uint64, copy=True)
    pending = np.arange(len(image))
    while pending.size:
        x = image[pending]
        left, right = x >> shift, x & mask
        for key in keys:
            left, right = right, left ^ (_mix(right ^ key) & mask)
        image[pending] = (left << shift) | right
        pending = pending[image[pending] >= n]
    return image.astype(np.int64)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective scramble of 64-bit words (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class _QuasiMonteCarlo:
    """Scrambled low-discrepancy points (randomised QMC), seeded.

    chaospy's ``sobol`` and ``halton`` rules build each point in a Python loop
    (about 10 us per point, 100 s for 10^7 samples) and are not scrambled; scipy's
    ``qmc`` engines are vectorised, Owen-scrambled from a seed and can jump to any
    index (:meth:`skip`), which is what a batched, resumable run needs.
    """

    fixed_n = None  # the scrambling is drawn from the seed alone, point i reached by a jump
    engine: str  # the name of the scipy.stats.qmc engine, imported when sampling (it costs ~0.5 s)

    def unit_cube(self, start: int, stop: int, n_total: int, dim: int, seed: int) -> np.ndarray:
        from scipy.stats import qmc

        engine = getattr(qmc, self.engine)(d=dim, scramble=True, rng=np.random.default_rng([seed, 2]))
        if start:
            self.skip(engine, start)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The balance properties", category=UserWarning)
            return engine.random(stop - start)

    @staticmethod
    def skip(engine, start: int) -> None:
        """Move ``engine`` to point ``start``."""
        engine.fast_forward(start)


class Sobol(_QuasiMonteCarlo):
    """Owen-scrambled Sobol' sequence (balanced when the sample count is a power of 2)."""

    name = "sobol"
    engine = "Sobol"


class Halton(_QuasiMonteCarlo):
    """Scrambled Halton sequence."""

    name = "halton"
    engine = "Halton"

    @staticmethod
    def skip(engine, start: int) -> None:
        """Move ``engine`` to point ``start`` in O(1): scipy's ``Halton.fast_forward`` draws
        and discards ``start`` points (4 s at 10^7), but a Halton point depends only on its
        index and the digit permutations drawn at construction, so setting the engine's
        position (``num_generated``, where its next point starts) is the same jump."""
        engine.num_generated = start


DESIGNS = {cls.name: cls for cls in (MonteCarlo, LatinHypercube, Sobol, Halton, Saltelli)}


def make_design(method: str, blocks: list[list[int]] | None = None):
    """The design registered under ``method`` (``mc``, ``lhs``, ``sobol``, ``halton``, ``saltelli``);
    ``blocks``: the columns a Saltelli design swaps together (default: each on its own)."""
    try:
        design = DESIGNS[method]
    except KeyError:
        raise ValueError(f"unknown design {method!r}; expected one of {sorted(DESIGNS)}") from None
    return design(blocks) if blocks is not None else design()
