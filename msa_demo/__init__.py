"""msa-demo: multimodal sentiment analysis you can watch, probe and debug.

The data path reads one way: media -> transcript -> features -> model -> explanation -> UI.
"""

__version__ = "0.1.0"
