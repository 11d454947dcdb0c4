"""Plotly figures and images for the UI, each a pure function of the analysis JSON (or of the cached
features): no model, no Gradio, so they are testable and reusable in notebooks."""

from .compare import compare_contributions_figure, compare_routing_figure
from .contributions import contributions_figure
from .keyframe import keyframe_image
from .over_time import over_time_figure
from .perturbation import compare_perturbation_figure, perturbation_figure
from .routing import routing_figure
from .subsets import subsets_figure
from .timeline import timeline_figure

__all__ = ["compare_contributions_figure", "compare_perturbation_figure", "compare_routing_figure",
           "contributions_figure", "keyframe_image", "over_time_figure", "perturbation_figure", "routing_figure",
           "subsets_figure", "timeline_figure"]
