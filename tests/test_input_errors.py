"""Uncertain inputs, correlation blocks and ensemble files refuse bad declarations, naming what
was expected (and, for files, the file, never its content)."""

import chaospy
import numpy as np
import pytest

from uqms.inputs import Correlation, InputSet, UncertainInput
from uqms.inputs.ensembles import Ensemble, PrincipalComponentStage, load_ensemble


def _inputs(*names):
    return [UncertainInput(name, chaospy.Normal(0, 1)) for name in names]


@pytest.mark.parametrize(("names", "matrix", "message"), [
    (("a", "b"), np.eye(3), r"correlation matrix must be 2x2 for \['a', 'b'\], got \(3, 3\)"),
    (("a", "a"), np.eye(2), "correlation names must be distinct"),
    (("a", "b"), np.array([[1.0, 0.5], [0.2, 1.0]]), "correlation matrix must be symmetric with a unit diagonal"),
    (("a", "b"), np.array([[2.0, 0.0], [0.0, 2.0]]), "symmetric with a unit diagonal"),
])
def test_a_bad_correlation_block_is_refused(names, matrix, message):
    with pytest.raises(ValueError, match=message):
        Correlation(names, matrix)


def test_inputs_in_two_blocks_or_multivariate_distributions_are_refused():
    block = np.array([[1.0, 0.3], [0.3, 1.0]])
    with pytest.raises(ValueError, match=r"inputs \['b'\] appear in two correlation blocks"):
        InputSet(_inputs("a", "b", "c"), [Correlation(("a", "b"), block), Correlation(("b", "c"), block)])
    with pytest.raises(ValueError, match="input 'ab': distribution must be univariate"):
        UncertainInput("ab", chaospy.J(chaospy.Normal(), chaospy.Normal()))
    empty = InputSet([])
    assert empty.joint is None and empty.from_unit_cube(np.zeros((3, 0))) == {}


def test_ensemble_files_and_arrays_that_cannot_be_ensembles_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"<array>: quantity names must be distinct, got \['E', 'E'\]"):
        Ensemble(np.zeros((3, 2)), ["E", "E"])
    ensemble = Ensemble(np.random.default_rng(0).normal(size=(10, 2)), ["E_N", "E_H"])
    for variance in (0.0, 1.5):
        with pytest.raises(ValueError, match=r"kept variance must lie in \(0, 1\]"):
            ensemble.principal_components(variance)
    with pytest.raises(ValueError, match="3 score names for 2 components"):
        PrincipalComponentStage(ensemble.principal_components(1.0), ["s1", "s2", "s3"], ensemble.quantities)
    other = tmp_path / "members.txt"
    other.write_text("1 2 3\n")
    with pytest.raises(ValueError, match="members.txt: ensemble files are .npy, .csv, .nc or an ASE database .db"):
        load_ensemble(other)
    database = tmp_path / "members.db"
    database.write_bytes(b"")
    with pytest.raises(ValueError, match="members.db: name the rows"):
        load_ensemble(database)
    table = tmp_path / "members.csv"
    table.write_text("E_N,E_H\n0.1,0.2\n0.3,0.4\n")
    with pytest.raises(ValueError, match=r"members.csv: reaction-energy quantities \(tables\) need an ASE database"):
        load_ensemble(table, {"dE": {"E_N": 1.0}})
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"empty.csv: not a readable CSV table \(EmptyDataError\); expected a header row"):
        load_ensemble(empty)
