"""The Saltelli design: SALib's row layout, reproducible per row whatever the batching."""

import itertools

import chaospy
import numpy as np
import pytest

from uqms import FunctionStage, UncertainInput, Workflow, WorkflowError
from uqms.config import DesignSection
from uqms.sampling.designs import DESIGNS, make_design
from uqms.sampling.saltelli import Saltelli, split_blocks

DIM, N_BASE = 3, 64
N_TOTAL = N_BASE * (DIM + 2)


def test_rows_are_blocks_a_ab_b_of_each_base_sample():
    u = Saltelli().unit_cube(0, N_TOTAL, N_TOTAL, DIM, seed=5)
    a, b, ab = split_blocks(u, DIM)
    assert ab.shape == (N_BASE, DIM, DIM)
    for j in range(DIM):
        expected = a.copy()
        expected[:, j] = b[:, j]
        np.testing.assert_array_equal(ab[:, j], expected)
    assert not np.isclose(a, b).any()  # A and B are different halves of one 2d-dimensional point
    assert ((u > 0) & (u < 1)).all()


def test_grouped_rows_swap_whole_groups():
    blocks = [[0, 2], [1]]
    n_total = N_BASE * (len(blocks) + 2)
    design = Saltelli(blocks)
    u = design.unit_cube(0, n_total, n_total, DIM, seed=5)
    a, b, ab = split_blocks(u, len(blocks))
    for j, columns in enumerate(blocks):
        expected = a.copy()
        expected[:, columns] = b[:, columns]
        np.testing.assert_array_equal(ab[:, j], expected)
    # same base points as the ungrouped design: only which columns come from B differs
    a_single, b_single, _ = split_blocks(Saltelli().unit_cube(0, N_TOTAL, N_TOTAL, DIM, seed=5), DIM)
    np.testing.assert_array_equal(a, a_single)
    np.testing.assert_array_equal(b, b_single)
    parts = [design.unit_cube(start, min(start + 7, n_total), n_total, DIM, seed=5) for start in range(0, n_total, 7)]
    np.testing.assert_array_equal(np.concatenate(parts), u)


def test_swapping_groups_is_refused_for_other_designs():
    stage = FunctionStage(lambda x: x + 1, ["x"], ["y"])
    inputs = [UncertainInput("x", chaospy.Uniform(0, 1), group="g")]
    with pytest.raises(WorkflowError, match="design.by.*saltelli"):
        Workflow([stage], inputs=inputs, design="sobol", design_by="group")
    assert Workflow([stage], inputs=inputs, design="saltelli", design_by="group").design_blocks == {"g": ["x"]}


def test_rows_do_not_depend_on_the_batching():
    design = make_design("saltelli")
    whole = design.unit_cube(0, N_TOTAL, N_TOTAL, DIM, seed=9)
    cuts = [0, 7, 8, 61, 200, N_TOTAL]
    parts = [design.unit_cube(a, b, N_TOTAL, DIM, seed=9) for a, b in itertools.pairwise(cuts)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert not np.array_equal(design.unit_cube(0, N_TOTAL, N_TOTAL, DIM, seed=10), whole)


def test_base_points_are_a_balanced_sobol_sequence():
    u = Saltelli().unit_cube(0, N_TOTAL, N_TOTAL, DIM, seed=1)
    a, b, _ = split_blocks(u, DIM)
    points = np.hstack([a, b])
    # a scrambled Sobol' net of 2^6 points has exactly one point in each of 64 strata of every axis
    for column in points.T:
        assert len(np.unique(np.floor(column * N_BASE))) == N_BASE


def test_blocks_need_whole_base_samples():
    with pytest.raises(ValueError, match="multiple of 5"):
        split_blocks(np.zeros((4096, 1)), DIM)


def test_registered_and_accepted_by_workflow_files():
    assert DESIGNS["saltelli"] is Saltelli
    assert DesignSection(method="saltelli", n=N_TOTAL).method == "saltelli"
