"""The shipped face CNN and the face crop: hash check, the crop on a real clip (found, centred,
eyes level, deterministic), embedding shape, determinism, and the FER2013 test accuracy its card
states, re-measured on the card's fixed sample through the live path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import FACE_MODEL, MOSI_CLIPS, SHARED, needs_face_model, needs_shared
from msa_demo.features import face_crop
from msa_demo.features.face_cnn import CHECKPOINT, FaceCNNError, FaceExpressionModel, sha256_of

FER_ZIP = SHARED / "data" / "fer2013" / "fer2013.zip"
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model() -> FaceExpressionModel:
    return FaceExpressionModel()


@pytest.fixture(scope="module")
def featurizer():
    from msa_demo.features.visual import FaceFeaturizer

    return FaceFeaturizer(str(FACE_MODEL), expression=None)


def test_shipped_checkpoint_matches_its_card_and_is_small(model):
    card = json.loads(CHECKPOINT.with_suffix(".json").read_text())
    assert sha256_of(CHECKPOINT) == card["sha256"]
    assert CHECKPOINT.stat().st_size < 2_000_000
    assert sum(p.numel() for p in model.net.parameters()) < 500_000
    assert model.valence_head in ("valence3", "ordinal")
    for split in ("test_crop", "validation"):  # the card carries its numbers
        assert split in card


def test_an_altered_checkpoint_is_refused(tmp_path):
    weights = tmp_path / "face_cnn.safetensors"
    shutil.copyfile(CHECKPOINT, weights)
    shutil.copyfile(CHECKPOINT.with_suffix(".json"), tmp_path / "face_cnn.json")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(FaceCNNError, match="sha256"):
        FaceExpressionModel(weights)


def test_embedding_shapes_probabilities_and_determinism(model):
    crops = np.random.default_rng(0).integers(0, 256, (5, 48, 48)).astype(np.uint8)
    a, b = model(crops), model(crops.copy())
    assert a.embedding.shape == (5, model.embed_dim) and model.embed_dim == 64
    assert a.emotion.shape == (5, 7) and a.valence3.shape == (5, 3) and a.valence.shape == (5,)
    np.testing.assert_allclose(a.emotion.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(a.valence3.sum(1), 1, atol=1e-5)
    assert np.all(np.abs(a.valence) <= 1.5 + 1e-6)
    np.testing.assert_array_equal(a.embedding, b.embedding)
    alone = model(crops[:1])  # a crop's output does not depend on the batch it is in
    np.testing.assert_allclose(alone.embedding[0], a.embedding[0], atol=1e-5)
    assert model(np.zeros((0, 48, 48), np.uint8)).embedding.shape == (0, 64)


def test_brightness_and_contrast_do_not_reach_the_network(model):
    crop = np.random.default_rng(1).integers(40, 200, (1, 48, 48)).astype(np.float32)
    dim = np.clip(crop * 0.5 + 10, 0, 255).astype(np.uint8)
    a, b = model(dim).embedding[0], model(crop.astype(np.uint8)).embedding[0]
    assert a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.99  # only 8-bit rounding differs


@pytest.fixture(scope="module")
def mosi_frames():
    if not MOSI_CLIPS.is_dir():
        pytest.skip(f"{MOSI_CLIPS} is absent")
    from msa_demo.media import load_media

    clip = load_media(MOSI_CLIPS / "0h-zjBukYpk_24.mp4", max_seconds=1.5)
    return clip.frames, clip.frame_times


@needs_shared
@needs_face_model
def test_crop_on_a_mosi_clip_is_found_centred_level_and_deterministic(featurizer, mosi_frames):
    from msa_demo.features.face_embed import crops_of_video

    frames, times = mosi_frames
    seen = []
    track, crops, found = crops_of_video(featurizer, frames, times)
    assert found.all() and np.array_equal(found, track.mask)
    featurizer.extract_video(frames[:1], times[:1], on_face=lambda i, f, lms: seen.append(lms))
    h, w = frames[0].shape[:2]
    points = face_crop.crop_points(seen[0], w, h)
    assert abs(points[0, 1] - points[1, 1]) < 1e-6  # eyes level
    # found again in the crop itself, where FER2013's faces are: MediaPipe on the crop (bordered and
    # upscaled, as for any small still) puts the eyes and mouth corners within 2.5 px of the template
    refound = []
    featurizer.extract_image(crops[0], on_face=lambda i, f, lms: refound.append(lms))
    assert refound, "no face found in the crop"
    side = 48 + 2 * 24
    np.testing.assert_allclose(face_crop.key_points(refound[0], side, side) - 24, face_crop.FER_TEMPLATE,
                               atol=2.5)
    again = crops_of_video(featurizer, frames, times)[1]
    np.testing.assert_array_equal(crops, again)
    assert crops.shape == (len(frames), 48, 48) and crops.dtype == np.uint8
    assert crops.std(axis=(1, 2)).min() > 10  # a face, not a flat border


@needs_shared
@needs_face_model
@pytest.mark.skipif(not FER_ZIP.is_file(), reason=f"{FER_ZIP} is absent")
def test_fer_test_sample_accuracy_is_what_the_card_says(model, featurizer):
    """The shipped CNN on the card's fixed FER2013 test sample, through the live path (MediaPipe
    IMAGE mode -> crop, raw pixels without a face). The tolerance allows a couple of stills to flip
    on another CPU's floating point; a different or broken model misses by far more."""
    import zipfile

    from msa_demo.corpora.labels import emotion_valence, polarity3_index
    from msa_demo.features.face_cnn import EMOTIONS
    from msa_demo.features.face_embed import embed_still
    from msa_demo.media import load_image

    sample = model.card["test_sample"]
    hits_em, hits_v3 = [], []
    with zipfile.ZipFile(FER_ZIP) as zf:
        for name in sample["files"]:
            label = name.split("/")[1]
            out = embed_still(featurizer, model, load_image(zf.read(name)).frames[0]).expression
            hits_em.append(EMOTIONS[int(out.emotion[0].argmax())] == label)
            hits_v3.append(int(out.valence3[0].argmax()) == polarity3_index([emotion_valence(label)])[0])
    assert len(hits_em) == sample["n"]
    assert 100 * np.mean(hits_v3) == pytest.approx(sample["valence3"], abs=2.0)
    assert 100 * np.mean(hits_em) == pytest.approx(sample["emotion7"], abs=2.0)


@needs_shared
@needs_face_model
def test_the_occlusion_sweeps_face_boxes_skip_the_face_cnn(mosi_frames):
    """The perturbation sweep reads face boxes from the landmarks only: the CNN is not run for them
    (it still is for the features)."""
    from msa_demo.features.visual import EMBEDDING, FaceFeaturizer, shipped_expression_model
    from msa_demo.perturb.video import face_boxes

    calls = []
    shipped = shipped_expression_model()

    def counting(crops):
        calls.append(len(crops))
        return shipped(crops)

    featurizer = FaceFeaturizer(expression=counting)
    frames, times = mosi_frames
    boxes = face_boxes(featurizer, frames, times)
    assert calls == [] and all(b is not None for b in boxes)
    track = featurizer.extract_video(frames, times)
    assert calls == [len(frames)] and np.abs(track.values[:, EMBEDDING]).sum() > 0
