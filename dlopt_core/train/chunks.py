"""How many steps to run per call of ``Engine.run``: one tuner for every long run.

A long run is cut into chunks so that its owner can report progress, take commands and keep
memory flat between them; chunking never changes the numbers (see ``engine``). The right size
is the one whose compute takes about a target time: long enough that the per-call overhead stays
small, short enough for the owner to answer. The Playground's worker aims at a frame's share of
a second, ``dlopt-train`` at a few progress updates per second and the comparisons of
``studies.compare`` at a fifth of a second with about ten reports a run, each measuring the chunk
it just ran (``next_chunk``). ``chunk_limit`` bounds a chunk by the recorded values it makes.
"""

from __future__ import annotations

MAX_CHUNK = 1_000_000  # steps in one chunk, whatever the timing says
MAX_CHUNK_VALUES = 2**20  # recorded values (rows x models x metrics) of one chunk: 8 MB
GROWTH = 4.0  # a chunk is at most this many times longer or shorter than the one before


def chunk_limit(eval_every: int, n_models: int, n_fields: int) -> int:
    """The most steps a chunk may have so that it records at most ``MAX_CHUNK_VALUES`` values:
    one row of ``n_fields`` metrics per model every ``eval_every`` steps."""
    rows = max(1, MAX_CHUNK_VALUES // (max(1, n_models) * max(1, n_fields)))
    return min(MAX_CHUNK, rows * max(1, eval_every))


def next_chunk(
    n: int, seconds: float, target_s: float, eval_every: int = 1, limit: int = MAX_CHUNK
) -> int:
    """Steps for the next chunk, after ``n`` steps took ``seconds`` of compute.

    Aimed at ``target_s`` seconds, but at most ``GROWTH`` times more or fewer steps than ``n``
    (a chunk that took no measurable time grows by that factor), at most ``limit``, and, once it
    spans two evaluations, a multiple of ``eval_every``: chunks end on recorded steps, so that
    whoever shows the latest values after a chunk shows fresh ones.
    """
    if seconds <= 0.0:
        want = n * GROWTH
    else:
        want = n * min(GROWTH, max(1.0 / GROWTH, target_s / seconds))
    steps = int(min(limit, max(1, want)))
    if steps >= 2 * eval_every:
        steps = steps // eval_every * eval_every
    return steps
