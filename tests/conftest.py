"""Test-wide set-up: CUDA kernels run on Numba's simulator unless a real NVIDIA device is present.

This must happen before Numba is imported, hence here, at the top of the test tree.
"""

import os

if "NUMBA_ENABLE_CUDASIM" not in os.environ and not os.path.exists("/dev/nvidiactl"):
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
