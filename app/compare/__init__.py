"""The Compare tab: optimizer races, learning-rate sweeps and seed bands (``CompareTab``)."""

from app.compare.tab import CompareTab

__all__ = ["CompareTab"]
