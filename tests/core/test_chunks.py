"""The chunk-size tuner shared by the Playground's worker and dlopt-train."""

import pytest

from dlopt_core.train.chunks import GROWTH, MAX_CHUNK, chunk_limit, next_chunk


def test_a_chunk_aims_at_the_target_time():
    # 100 steps took 0.08 s: 0.04 s wants 50 steps; 0.2 s wants 250
    assert next_chunk(100, 0.08, 0.04) == 50
    assert next_chunk(100, 0.08, 0.2) == 250


def test_a_chunk_changes_by_at_most_the_growth_factor():
    assert next_chunk(100, 1e-9, 0.04) == 100 * GROWTH
    assert next_chunk(100, 0.0, 0.04) == 100 * GROWTH  # too quick to measure
    assert next_chunk(100, 100.0, 0.04) == 100 / GROWTH
    assert next_chunk(1, 100.0, 0.04) == 1


def test_a_chunk_ends_on_a_recorded_step_once_it_spans_two():
    assert next_chunk(100, 0.1, 0.13, eval_every=20) == 120  # 130 rounded down
    assert next_chunk(10, 0.1, 0.13, eval_every=20) == 13  # less than two evaluations: as is


@pytest.mark.parametrize(("every", "models"), [(1, 1), (1, 64), (10, 8), (1000, 1)])
def test_the_limit_bounds_the_recorded_values(every, models):
    limit = chunk_limit(every, models, 6)
    assert limit // every * models * 6 <= 2**20
    assert every <= limit <= MAX_CHUNK
    assert next_chunk(limit, 0.0, 1.0, every, limit) == limit
