"""Compiled kernels. ``PARALLEL_LOCK`` serialises calls of parallel (``prange``) kernels.

Numba's ``workqueue`` threading layer, the fallback where neither TBB nor OpenMP is present, must
not run parallel kernels from two threads at once; the app trains in one thread while another
computes a loss surface. Holding this lock around every parallel kernel call makes that safe on
every layer, at no cost where only one runs.
"""

import threading
import types

PARALLEL_LOCK = threading.Lock()
# every training kernel is compiled with nogil: a thread training runs beside the GUI thread
TRAINING_RELEASES_GIL = True


def training_kernels_ready(n_models: int = 1, codes=(4,)) -> bool:
    """Whether this process has the training kernel of a run ready to call: ``n_models`` models
    with optimizer codes ``codes`` (``Optimizer.code``; the default: one Adam model).

    False until its first call compiles it (seconds on a fresh install) or loads it from
    Numba's on-disk cache (a fraction of a second); a GUI uses it to say why a first run waits.
    """
    from .train import code_of, family_of, kernel_ready

    return kernel_ready(family_of(n_models), code_of(codes))


def specialise(template, name: str, **constants):
    """A copy of the function ``template`` named ``name``, with some of its globals replaced.

    Kernels are written once as templates that branch on module constants (the product method,
    the kernel family, the optimizer's rule); each copy is compiled with its constants, and Numba
    prunes the branches they make dead before compiling, so a copy compiles only what it needs.
    The distinct name gives each copy its own entry in Numba's on-disk cache.
    """
    names = dict(template.__globals__)
    names.update(constants)
    fn = types.FunctionType(template.__code__, names, name, template.__defaults__)
    fn.__qualname__ = name
    fn.__doc__ = template.__doc__
    return fn
