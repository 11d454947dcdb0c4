"""Explanations of one prediction: exact Shapley values over the modality subsets and the labels of
each model's routing weights. Pure functions of model outputs; no UI, no media."""

from .routing import routing_axes
from .shapley import SUBSETS, shapley_values, subset_mask, subset_name

__all__ = ["SUBSETS", "routing_axes", "shapley_values", "subset_mask", "subset_name"]
