"""The Morton order of a batch: its table-driven key and quick stable sort against their
definitions (the bit-by-bit interleave, numpy's timsort), ties and degenerate batches included."""

import numpy as np
import pytest

from uqms.models.microkinetics import batch_order as ordering
from uqms.models.microkinetics.batch_order import batch_order


def interleaved(levels: np.ndarray, bits: int) -> np.ndarray:
    """The Morton key by its definition: from the most significant bit down, one bit of every dimension in turn."""
    key = np.zeros(len(levels), dtype=np.uint64)
    for bit in range(bits - 1, -1, -1):
        for level in levels.T:
            key = (key << np.uint64(1)) | ((level >> np.uint64(bit)) & np.uint64(1))
    return key


@pytest.mark.parametrize("dimensions, bits", [(4, 16), (3, 16), (2, 16), (1, 16), (2, 32), (3, 21), (8, 8), (16, 4), (1, 64)])
def test_morton_key_equals_the_bit_by_bit_interleave(dimensions, bits):
    rng = np.random.default_rng(bits * 100 + dimensions)
    levels = rng.integers(0, 2 ** min(bits, 63), size=(3000, dimensions), dtype=np.uint64)
    levels[:, 0] |= np.uint64(2 ** (bits - 1))  # the top bit set: nothing may be shifted out
    levels[1000:1500] = levels[:500]  # equal rows: equal keys
    levels[-1] = 2 ** bits - 1 if bits < 64 else np.iinfo(np.uint64).max
    key = ordering._morton_key(levels, bits)
    np.testing.assert_array_equal(key, interleaved(levels, bits))
    np.testing.assert_array_equal(key[1000:1500], key[:500])


@pytest.mark.parametrize("distinct", [1, 2, 7, 500, 10**6, 2**63])
def test_quick_stable_sort_equals_numpys_stable_sort(distinct):
    """Keys with every share of ties, huge ones included, give timsort's order."""
    rng = np.random.default_rng(distinct % 1000)
    key = rng.integers(0, distinct, size=5000, dtype=np.uint64) * np.uint64(2**64 // distinct - 1 if distinct > 1 else 1)
    np.testing.assert_array_equal(ordering._stable_argsort(key), np.argsort(key, kind="stable"))


def _features():
    rng = np.random.default_rng(11)
    points = rng.normal(size=(12288, 10)) @ rng.normal(size=(10, 10))
    points[:2000] = points[2000:4000]  # duplicated samples: ties in the key
    points[5, 3] = -np.inf  # a rate constant of zero (its log)
    rounded = np.round(3 * rng.uniform(size=(4000, 6)))  # few distinct points: many ties
    return {"spread": points, "rounded": rounded, "two samples": points[:2], "one sample": points[:1],
            "none": points[:0], "identical": np.ones((50, 4)), "one column": points[:, :1],
            "two columns": points[:, :2]}


@pytest.mark.parametrize("name", list(_features()))
def test_batch_order_equals_the_order_by_its_definition(monkeypatch, name):
    """The same order as with the bit-by-bit key and numpy's stable sort, whatever the batch."""
    features = _features()[name]
    fast = batch_order(features)
    monkeypatch.setattr(ordering, "_morton_key", interleaved)
    monkeypatch.setattr(ordering, "_stable_argsort", lambda key: np.argsort(key, kind="stable"))
    np.testing.assert_array_equal(fast, batch_order(features))
    np.testing.assert_array_equal(np.sort(fast), np.arange(len(features)))
    if name in ("two samples", "one sample", "none", "identical"):  # nothing to order by
        np.testing.assert_array_equal(fast, np.arange(len(features)))


def test_a_key_wider_than_64_bits_is_refused():
    with pytest.raises(ValueError, match="5 dimensions of 16 bits"):
        batch_order(np.ones((10, 6)), dimensions=5)
