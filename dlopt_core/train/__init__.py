"""Training: networks, optimizers, schedules, the engine and its Numba/CUDA kernels, experiments."""
