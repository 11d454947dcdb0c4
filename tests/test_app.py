"""`python app.py` starts and serves the page; the features endpoint answers through gradio_client."""

import urllib.request

import pytest


@pytest.fixture(scope="module")
def server(app_server):
    """The suite's one `python app.py` (conftest.app_server: tiny Whisper, 127.0.0.1, a free port)."""
    return app_server


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
