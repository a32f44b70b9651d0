"""Compiled kernels. ``PARALLEL_LOCK`` serialises calls of parallel (``prange``) kernels.

Numba's ``workqueue`` threading layer, the fallback where neither TBB nor OpenMP is present, must
not run parallel kernels from two threads at once; the app trains in one thread while another
computes a loss surface. Holding this lock around every parallel kernel call makes that safe on
every layer, at no cost where only one runs.
"""

import threading

PARALLEL_LOCK = threading.Lock()


def training_kernels_ready() -> bool:
    """Whether this process has the many-model training kernel ready to call.

    False until its first call compiles it (tens of seconds on a fresh install) or loads it from
    Numba's on-disk cache (a fraction of a second); a GUI uses it to say why a first run waits.
    """
    from .cpu import train_chunk

    return bool(train_chunk.signatures)
