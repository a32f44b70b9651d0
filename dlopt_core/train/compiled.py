"""What the app may ask about the compiled training kernels, so that nothing outside ``train/``
reads them: whether a first run will wait for a compile, whether training runs beside the GUI
thread, and how many update steps a model's optimizer has counted.
"""

from __future__ import annotations

from typing import Any

from dlopt_core.train import kernels
from dlopt_core.train.kernels import rules

#: every training kernel is compiled with ``nogil``: a thread training runs beside the GUI thread
TRAINING_RELEASES_GIL: bool = bool(getattr(kernels, "TRAINING_RELEASES_GIL", False))


def training_kernels_ready(n_models: int = 1, codes: tuple[int, ...] = (4,)) -> bool:
    """Whether this process has the training kernel of ``n_models`` models with optimizer codes
    ``codes`` ready to call (False until a first call compiles it or loads it from Numba's
    cache); a GUI uses it to say why a first run waits."""
    return kernels.training_kernels_ready(n_models, codes)


def optimizer_steps(engine: Any, m: int = 0) -> int:
    """The update steps model ``m``'s optimizer has counted (the ``t`` of Adam's bias
    correction), from the engine's per-model scalars."""
    return int(engine.scalars[m, rules.S_STEP])
