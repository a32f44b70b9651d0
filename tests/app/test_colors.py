"""One class-colour convention in every tab, and configuration colours that never look like one."""

import numpy as np

from app.colors import CLASS_COLORS, CONFIG_COLORS, class_legend_html
from app.compare.jobs import boundary_images, boundary_rgb
from app.playground.output_view import boundary_rgba, point_brushes
from dlopt_core.studies.compare import BoundaryGrid
from dlopt_core.train.experiment import Experiment


def _distance(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)))


def test_compare_pictures_and_the_playground_colour_classes_alike():
    labels = np.array([0.0, 1.0, 0.0])
    brushes = point_brushes(labels, "binary", None)
    playground = [b.color().getRgb()[:3] for b in brushes]
    exp = Experiment.from_dict({"data": {"kind": "moons", "n_samples": 60}})
    grid = BoundaryGrid.for_experiment(exp, n=8)
    theta = exp.make_network(exp.dataset()).init(0, "xavier")[None]
    images = boundary_images(grid, theta)
    for label, rgb in ((0, playground[0]), (1, playground[1])):
        assert tuple(images.point_colors[grid.labels == label][0]) == rgb
    # a sure class-0 region is tinted with class 0's colour in both tabs
    sure0 = np.zeros((2, 2))
    compare_rgb = boundary_rgb(sure0, "binary")[0, 0].astype(float)
    playground_rgb = boundary_rgba(sure0, "binary", 2, False, None)[0, 0, :3].astype(float)
    assert _distance(compare_rgb - 255, CLASS_COLORS[0] - 255) < _distance(
        compare_rgb - 255, CLASS_COLORS[1] - 255
    )
    assert _distance(playground_rgb, compare_rgb) < 40
    assert images.n_classes == 2 and "\u25a0" in class_legend_html(2)


def test_configuration_colours_are_not_class_colours():
    for c in CONFIG_COLORS:
        rgb = (c.red(), c.green(), c.blue())
        assert min(_distance(rgb, CLASS_COLORS[k]) for k in (0, 1)) > 90
    pairs = [(a, b) for i, a in enumerate(CONFIG_COLORS) for b in CONFIG_COLORS[i + 1 :]]
    assert min(_distance(a.getRgb()[:3], b.getRgb()[:3]) for a, b in pairs) > 60
