"""Command-line tools: ``dlopt-train`` (train), ``dlopt-quiz`` (quiz), ``dlopt-map`` (map)."""
