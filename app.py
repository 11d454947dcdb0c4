"""Entry point: `python app.py` (also what Hugging Face Spaces runs).

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (read by Gradio itself). Extractors and models load
in the background right away, so the first visitor does not wait for them; without Whisper or face
weights (offline) the app still starts and says what is off.
"""

import signal

from msa_demo.runtime import limit_malloc_arenas

limit_malloc_arenas()  # before any thread starts: memory returns near baseline after bursts

from msa_demo.ui import AppContext, build_demo  # noqa: E402

context = AppContext.create()
demo = build_demo(context)

if __name__ == "__main__":
    context.warm_up_in_background()
    # stop on SIGTERM as on Ctrl-C: Gradio then shuts down cleanly and deletes this app's uploads
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    demo.launch(**demo.msa_launch)  # stylesheet and upload limit (MSA_MAX_UPLOAD_MB, default 200)
