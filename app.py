"""Entry point: `python app.py` (also what Hugging Face Spaces runs).

Honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (read by Gradio itself). Extractors and models load
in the background right away, so the first visitor does not wait for them; without Whisper or face
weights (offline) the app still starts and says what is off.
"""

import contextlib
import os
import signal
import time
from pathlib import Path

from msa_demo.runtime import apply_server_settings

apply_server_settings()  # before any thread starts or torch loads: msa_demo/runtime.py says why

from msa_demo.ui import AppContext, build_demo  # noqa: E402

context = AppContext.create()
demo = build_demo(context)


def remove_uploads(blocks) -> None:
    """Delete the files Gradio recorded as this app's (uploads, recordings, returned media; not the
    examples and defaults it keeps), and their folders once empty: what Gradio's own shutdown does
    (delete_cache), done again here because that runs in the server thread, which may not get there."""
    cache = Path(blocks.GRADIO_CACHE).resolve()  # $GRADIO_TEMP_DIR, maybe shared with other apps
    keep = set().union(*(getattr(block, "keep_in_cache", set()) for block in blocks.blocks.values()))
    for files in blocks.temp_file_sets:
        for path in list(files):  # a copy: the server thread may still be changing the set
            if path in keep:
                continue
            with contextlib.suppress(OSError):
                os.remove(path)
            folder = Path(path).resolve().parent  # cache/<sha256 of the content>/<name>
            if folder.parent == cache:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if empty


def serve(blocks) -> None:
    """Serve until Ctrl-C or SIGTERM, then stop so that no upload survives.

    Gradio's own wait (launch without prevent_thread_lock) only asks uvicorn to stop and joins its
    thread for 5 s. Uvicorn first waits for open connections, and the session heartbeat streams (one
    per open page; gradio_client's until its next beat, every 15 s) are only ended by `close()`; so
    with a page open the process exited before the server's shutdown deleted the uploads.
    """
    try:
        blocks.launch(**blocks.msa_launch, prevent_thread_lock=True)  # stylesheet and upload limit
        while blocks.is_running and not blocks.server.should_exit:  # (GRADIO_DEBUG=1 waits in launch)
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Keyboard interruption in main thread... closing server.")
    finally:
        blocks.close()  # ends the heartbeat streams, then waits (5 s at most) for the server's shutdown
        remove_uploads(blocks)


if __name__ == "__main__":
    context.warm_up_in_background()
    # stop on SIGTERM as on Ctrl-C (a clean shutdown that deletes this app's uploads; see serve)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    serve(demo)  # upload limit: MSA_MAX_UPLOAD_MB, default 200
