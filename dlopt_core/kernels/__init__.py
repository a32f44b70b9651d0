"""Compiled kernels. ``PARALLEL_LOCK`` serialises calls of parallel (``prange``) kernels.

Numba's ``workqueue`` threading layer, the fallback where neither TBB nor OpenMP is present, must
not run parallel kernels from two threads at once; the app trains in one thread while another
computes a loss surface. Holding this lock around every parallel kernel call makes that safe on
every layer, at no cost where only one runs.
"""

import threading

PARALLEL_LOCK = threading.Lock()
