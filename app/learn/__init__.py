"""The Learn tab: the course lessons, their "Try it" presets and the live search comparison."""
