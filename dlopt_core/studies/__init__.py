"""Studies built on the engine: optimizer comparisons, 2-D landscapes, the trainability map."""
