"""The Landscape tab's numerical side: optimization on 2-D test functions, and the shape of a
network's loss. ``dl.landscape`` gathers the names of its modules:

- ``functions``: the 2-D test functions (``FUNCTIONS``, ``get_function``, ``f_grid``);
- ``trajectories``: optimizer paths on them (``trajectory``) and the theory on the quadratic
  (``gd_optimal``, ``momentum_optimal``, ``measured_rate``);
- ``models``: the models whose loss is drawn (a ``Network`` or any ``FlatModel``), their loss
  at a point and under FGSM (``network_loss``, ``fgsm_robustness``);
- ``lines``: the loss along the line between two points (``interpolate``, ``line_shape``);
- ``planes``: random 2-D slices and projected paths (``slice_2d``, ``project_trajectory``);
- ``situations``: the interpolation paper's settings in small form (``paper_situations``) and
  the tracing of a training run (``trace_training``);
- ``challenges``: ready-made races of optimizers (``get_challenges()``).
"""

from dlopt_core.studies.landscape.challenges import Challenge, ChallengeRun, get_challenges
from dlopt_core.studies.landscape.functions import (
    FUNCTIONS,
    Bounds,
    Point,
    TestFunction,
    f_grid,
    get_function,
    quadratic_hessian,
)
from dlopt_core.studies.landscape.lines import (
    DEFAULT_ALPHAS,
    Interpolation,
    LineShape,
    interpolate,
    line_shape,
)
from dlopt_core.studies.landscape.models import (
    FlatModel,
    Model,
    Robustness,
    fgsm_robustness,
    network_loss,
)
from dlopt_core.studies.landscape.planes import (
    Projection,
    Slice,
    filter_normalized_direction,
    project_trajectory,
    slice_2d,
)
from dlopt_core.studies.landscape.situations import (
    PaperSituation,
    SequenceSituation,
    Situation,
    TrainedPath,
    TrainingRun,
    paper_situations,
    trace_training,
)
from dlopt_core.studies.landscape.trajectories import (
    Trajectory,
    gd_optimal,
    measured_rate,
    momentum_optimal,
    trajectory,
)

__all__ = [
    "DEFAULT_ALPHAS",
    "FUNCTIONS",
    "Bounds",
    "Challenge",
    "ChallengeRun",
    "FlatModel",
    "Interpolation",
    "LineShape",
    "Model",
    "PaperSituation",
    "Point",
    "Projection",
    "Robustness",
    "SequenceSituation",
    "Situation",
    "Slice",
    "TestFunction",
    "TrainedPath",
    "TrainingRun",
    "Trajectory",
    "f_grid",
    "fgsm_robustness",
    "filter_normalized_direction",
    "gd_optimal",
    "get_challenges",
    "get_function",
    "interpolate",
    "line_shape",
    "measured_rate",
    "momentum_optimal",
    "network_loss",
    "paper_situations",
    "project_trajectory",
    "quadratic_hessian",
    "slice_2d",
    "trace_training",
    "trajectory",
]
