"""`python app.py` on 127.0.0.1 (a free port, stopped at the end) answers `/analyze` through
gradio_client with the explanation JSON; user errors come back as messages."""

from __future__ import annotations

import pytest

from conftest import needs_shared, MOSI_CLIPS

KEYS = {"score", "polarity", "baseline", "contributions", "unimodal", "routing", "subsets", "transcript",
        "notices"}


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server, verbose=False)


def _shapley_sum_holds(result: dict) -> None:
    assert KEYS <= set(result)
    assert set(result["contributions"]) == {"text", "audio", "visual"}
    assert len(result["subsets"]) == 7
    total = result["baseline"] + sum(result["contributions"].values())
    assert total == pytest.approx(result["score"], abs=1e-9)


@needs_shared
def test_analyze_a_clip_with_whisper(client):
    from gradio_client import handle_file

    result = client.predict(handle_file(str(MOSI_CLIPS / "0h-zjBukYpk_1.mp4")), "", "midg", api_name="/analyze")
    _shapley_sum_holds(result)
    assert result["model"] == "midg" and result["transcript"] == "Now the title of the movie basically says it all."
    assert result["language"] == "en" and all(result["available"].values())
    assert len(result["over_time"]) >= 1 and result["over_time"][0]["start"] == 0.0
    assert [w["word"] for w in result["word_attributions"]] == result["transcript"].split()
    assert all(w["start"] is not None and w["value"] is not None for w in result["word_attributions"])
    assert not [n for n in result["notices"] if "ASR" in n or "Whisper" in n]


def test_analyze_text_only(client):
    result = client.predict(None, "what a lovely film", "late_fusion", api_name="/analyze")
    _shapley_sum_holds(result)
    assert result["contributions"]["audio"] == 0.0 and result["contributions"]["visual"] == 0.0
    assert result["transcript"] == "what a lovely film"
    assert result["over_time"] == []  # typed text alone has no duration
    words = result["word_attributions"]
    assert [w["word"] for w in words] == ["what", "a", "lovely", "film"]
    assert all(w["start"] is None and w["end"] is None and isinstance(w["value"], float) for w in words)
    assert result["notices"] == []  # nothing off: typed text, a trained model


@pytest.mark.parametrize("model", ["midg", "late_fusion", "early_fusion", "derl", "misr", "mmmie"])
def test_the_served_models_are_the_shipped_checkpoints(client, model):
    """A server that fell back to random weights (a missing or unusable checkpoint) must fail here:
    its answers still have the right shape, so only `trained` and the notices tell."""
    praise = client.predict(None, "i loved it, it was wonderful", model, api_name="/analyze")
    complaint = client.predict(None, "i hated it, it was awful", model, api_name="/analyze")
    for result in (praise, complaint):
        assert result["trained"] is True and not any("untrained" in n for n in result["notices"]), result["notices"]
    assert praise["score"] > 0 > complaint["score"]


def test_analyze_reports_user_errors(client, generated):
    from gradio_client import handle_file

    with pytest.raises(Exception, match="Cannot use this input"):
        client.predict(handle_file(str(generated["text_as_mp4"])), "", "midg", api_name="/analyze")
    with pytest.raises(Exception, match="unknown model"):
        client.predict(None, "hello", "gpt", api_name="/analyze")


def test_perturb_endpoint_on_typed_text(client):
    """`/perturb` answers with the sweep JSON; an unknown kind comes back as a message."""
    result = client.predict(None, "i loved this film, it was wonderful", "late_fusion", "asr_errors", "0, 0.5",
                            api_name="/perturb")
    assert result["kind"] == "asr_errors" and [p["severity"] for p in result["points"]] == [0.0, 0.5]
    for p in result["points"]:
        assert p["baseline"] + sum(p["contributions"].values()) == pytest.approx(p["score"], abs=1e-9)
    assert result["points"][0]["score"] == pytest.approx(result["clean"]["score"], abs=1e-9)
    with pytest.raises(Exception, match="unknown perturbation"):
        client.predict(None, "hello", "midg", "hail", "", api_name="/perturb")
