"""Entry point: `python app.py` (also what Hugging Face Spaces runs).

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (read by Gradio itself). Models load in the
background right away, so the first visitor does not wait for them.
"""

import threading

from msa_demo.pipeline import FeaturePipeline
from msa_demo.ui import build_demo

pipeline = FeaturePipeline()
demo = build_demo(pipeline)
demo.queue(default_concurrency_limit=2)

if __name__ == "__main__":
    threading.Thread(target=pipeline.warm_up, daemon=True, name="warm-up").start()
    demo.launch()
