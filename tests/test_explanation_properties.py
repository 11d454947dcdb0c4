"""What the explanation promises, on three synthetic modalities (no ../shared, no feature extractor):
the exact Shapley values of known games, modalities that actually move the score, efficiency, and
"unimodal" numbers that are the single-modality scores for the models without unimodal heads.
The out-of-distribution guard is off here (`guard=None`): random features are far from any training
data, and the guard's blended game is tested in test_ood.py.

Each of these guards against a bug that once passed every other test: Banzhaf weights in place of
Shapley's (an additive game cannot tell them apart), a `present` flag the models ignore (every
contribution 0, every subset score equal), and the unimodal fallback reading the wrong subset.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from msa_demo.analysis import analyze_features
from msa_demo.explain import shapley_values
from msa_demo.features.spec import FEATURE_DIMS, MODALITIES
from msa_demo.features.types import ModalityFeatures
from msa_demo.models import list_models

pytestmark = pytest.mark.usefixtures("one_thread")


# --- Shapley values of games whose answer is known ------------------------------------------------
def _game(v):
    return [float(v(frozenset(j for j in range(3) if s >> j & 1))) for s in range(8)]


def test_majority_game_splits_equally():
    """v(S) = 1 when two of three agree: 1/3 each (Banzhaf would say 1/2 each)."""
    assert shapley_values(_game(lambda s: len(s) >= 2)) == pytest.approx([1 / 3] * 3)


def test_unanimity_game_pays_only_the_needed_players():
    """v(S) = 1 iff text and audio are both in: 1/2, 1/2 and 0 for the null player (Banzhaf: 1/4)."""
    assert shapley_values(_game(lambda s: {0, 1} <= s)) == pytest.approx([0.5, 0.5, 0.0])


def test_glove_game():
    """One left glove (text) and two right ones: a pair is worth 1. Shapley: 2/3, 1/6, 1/6."""
    assert shapley_values(_game(lambda s: 0 in s and bool(s & {1, 2}))) == pytest.approx([2 / 3, 1 / 6, 1 / 6])


def test_random_games_are_efficient_and_match_the_permutation_definition():
    rng = random.Random(5)
    for _ in range(20):
        values = [rng.uniform(-3, 3) for _ in range(8)]
        by_order = np.zeros(3)
        for order in itertools.permutations(range(3)):  # the definition: mean marginal over orders
            s = 0
            for j in order:
                by_order[j] += values[s | 1 << j] - values[s]
                s |= 1 << j
        phi = shapley_values(values)
        assert phi == pytest.approx(by_order / 6, abs=1e-12)
        assert values[0] + sum(phi) == pytest.approx(values[7], abs=1e-12)


# --- the analysis of a real model on three synthetic modalities ------------------------------------
@pytest.fixture(scope="module")
def three_modalities() -> dict[str, ModalityFeatures]:
    rng = np.random.default_rng(11)
    lengths = {"text": 9, "audio": 150, "visual": 30}
    return {m: ModalityFeatures(rng.normal(0, 1, (lengths[m], FEATURE_DIMS[m])).astype(np.float32),
                                np.ones(lengths[m], bool), np.zeros((lengths[m], 2)))
            for m in MODALITIES}


@pytest.mark.parametrize("name", list_models())
def test_every_modality_moves_the_score_and_the_sum_holds(zoo, three_modalities, name):
    result = analyze_features(three_modalities, zoo.get(name), guard=None)
    assert all(result["available"].values())
    for m, phi in result["contributions"].items():
        assert abs(phi) > 1e-5, (m, result["contributions"])
    subset_scores = list(result["subsets"].values())
    assert len({round(s, 9) for s in subset_scores}) == 7, result["subsets"]  # each subset scores differently
    assert result["subsets"]["text+audio+visual"] == result["score"]
    assert result["baseline"] + sum(result["contributions"].values()) == pytest.approx(result["score"], abs=1e-9)
    assert result["baseline"] != pytest.approx(result["score"], abs=1e-6)


@pytest.mark.parametrize("name", list_models())
def test_unimodal_numbers_are_heads_or_the_single_modality_scores(zoo, three_modalities, name):
    result = analyze_features(three_modalities, zoo.get(name), guard=None)
    if result["unimodal_source"] == "single-modality subsets":
        assert result["unimodal"] == {m: result["subsets"][m] for m in MODALITIES}
    else:
        assert result["unimodal_source"] == "heads"
        assert all(isinstance(result["unimodal"][m], float) for m in MODALITIES)


def test_some_models_have_no_unimodal_heads(zoo, three_modalities):
    """So the fallback above is exercised, not skipped."""
    sources = {name: analyze_features(three_modalities, zoo.get(name), guard=None)["unimodal_source"] for name in list_models()}
    assert "single-modality subsets" in sources.values() and "heads" in sources.values(), sources


def test_switching_a_modality_off_changes_exactly_its_part(zoo, three_modalities):
    model = zoo.get("early_fusion")
    full = analyze_features(three_modalities, model, guard=None)
    no_face = analyze_features(three_modalities, model, present=["text", "audio"], guard=None)
    assert no_face["contributions"]["visual"] == 0.0 and not no_face["available"]["visual"]
    assert no_face["score"] == pytest.approx(full["subsets"]["text+audio"], abs=1e-6)
