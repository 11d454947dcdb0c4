"""`python app.py` starts and serves the page; the placeholder endpoint answers through gradio_client."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_whisper, tmp_path_factory):
    port = _free_port()
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
               MSA_WHISPER_MODEL=str(tiny_whisper), GRADIO_ANALYTICS_ENABLED="False",
               GRADIO_TEMP_DIR=str(tmp_path_factory.mktemp("gradio-tmp")))
    log = tmp_path_factory.mktemp("app") / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"app.py did not serve {url} within 90 s:\n{log.read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_page_is_served(server):
    with urllib.request.urlopen(server, timeout=10) as response:
        page = response.read().decode()
    assert "msa-demo" in page or "gradio" in page.lower()


def test_features_endpoint_with_text_only(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    summary, notices = client.predict(None, None, "what a lovely film", api_name="/features")
    assert summary["text"]["shape"] == [6, 384] and summary["transcript_source"] == "user"


def test_features_endpoint_reports_bad_upload(server, generated):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    summary, notices = client.predict(None, handle_file(str(generated["text_as_mp4"])), "",
                                      api_name="/features")
    assert "Cannot use this input" in notices and not summary
