"""The engine reproduces the reference runs recorded before its kernels were rewritten.

The cases, the recording and the comparison rule (1e-12 relative; near 0, 1e-12 of the scale of
the model's own quantity; discrete values and non-finite places exactly) are described in
``reference_curves.py``. Besides the recorded way, the grids are also run in uneven chunks and
model by model: the numbers may depend neither on the chunk size nor on which models share a run.
"""

import numpy as np
import pytest
import reference_curves as rc

REFERENCE = rc.load()
CASES = rc.cases()


def test_the_reference_file_is_small_and_covers_every_case():
    assert rc.PATH.stat().st_size < 600 * 1024
    assert sorted(REFERENCE) == sorted(CASES)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("case", sorted(CASES))
def test_case_matches_the_reference(case):
    rc.compare_record(case, CASES[case](), REFERENCE[case])


@pytest.mark.parametrize("case", ["grid_tanh_bce", "grid_relu_ce", "grid_linear_mse"])
def test_grid_in_uneven_chunks(case):
    rc.compare_record(case, CASES[case](chunks=[1, 6, 9, 8]), REFERENCE[case])


@pytest.mark.parametrize(
    "case", ["grid_tanh_bce", "grid_sigmoid_ce", "grid_leaky_relu_mse", "grid_relu_mse2"]
)
def test_grid_models_one_at_a_time(case):
    """Every model of the grid trained alone gives the same numbers as in the shared run."""
    ref = REFERENCE[case]
    specs = rc.grid_specs()
    for m in range(0, len(specs), 3):
        got = CASES[case](specs=[specs[m]])
        one = {k: (v[m : m + 1] if k != "curves" else v[:, :, m : m + 1]) for k, v in ref.items()}
        rc.compare_record(f"{case}[{m}]", got, one)


def test_the_comparison_rule():
    ref = np.array([[1.0, -2.0, 1e-9, np.nan], [np.inf, 3.0, 0.0, 5.0]])
    rc.compare_arrays("same", ref.copy(), ref)
    near = ref.copy()
    near[0, 2] += 1.5e-12  # 1e-12 of the row's scale (2.0) allows 2e-12 next to a small value
    rc.compare_arrays("near zero", near, ref)
    far = ref.copy()
    far[1, 3] *= 1 + 3e-12
    with pytest.raises(AssertionError, match="1 of 8 values off"):
        rc.compare_arrays("relative", far, ref)
    moved = ref.copy()
    moved[0, 3] = 1.0
    with pytest.raises(AssertionError, match="non-finite"):
        rc.compare_arrays("nan", moved, ref)
    with pytest.raises(AssertionError):
        rc.compare_arrays("ints", np.array([1, 2]), np.array([1, 3]))
