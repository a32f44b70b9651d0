"""The course: lessons, their computed numbers, the quiz and the presets they open."""
