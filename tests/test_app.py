"""`python app.py` starts and serves the page; the features endpoint answers through gradio_client."""

import urllib.request

import pytest


@pytest.fixture(scope="module")
def server(app_server):
    """The suite's one `python app.py` (conftest.app_server: tiny Whisper, 127.0.0.1, a free port)."""
    return app_server


def test_page_is_served(server):
    """The page is this app's, not any Gradio page: its title, its five tabs, the Analyse button."""
    import json

    from msa_demo.ui import texts

    with urllib.request.urlopen(server, timeout=10) as response:  # the page is built in the browser
        assert response.status == 200 and "msa-demo" in response.read().decode()  # from this config:
    with urllib.request.urlopen(server + "config", timeout=10) as response:
        config = json.load(response)
    assert config["title"] == texts.TITLE
    props = [c.get("props", {}) for c in config["components"]]
    tabs = [p.get("label") for c, p in zip(config["components"], props) if c.get("type") == "tabitem"]
    assert tabs == ["Live", "Stream", "Compare", "Error analysis", "Models"], tabs
    assert any(p.get("elem_id") == "analyse" and p.get("value") == "Analyse" for p in props)


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
