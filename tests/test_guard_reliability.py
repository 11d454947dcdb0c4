"""The guard's measured weight curve (training/guard_reliability.py, models/ood.py): skill falls with
distance as the data say, the weight follows the curve beyond the 99th percentile, keeps decaying past
its last knot, and survives a save/load."""

import numpy as np
import pytest

from msa_demo.models.ood import ModalityGuard, OODGuard, guard_path
from training.guard_reliability import CONDITIONS, appended, polarity, skill_curve


def test_skill_falls_with_distance_as_measured():
    rng = np.random.default_rng(0)
    n = 6000
    distance = rng.uniform(0, 100, n)
    truth = rng.integers(0, 3, n)
    # right with probability 0.9 near the data, at chance (1/3) beyond distance 60
    p_right = np.interp(distance, [0, 20, 60, 100], [0.9, 0.9, 1 / 3, 1 / 3])
    correct = (rng.random(n) < p_right).astype(float)
    clean = distance < 10
    curve = skill_curve(distance, correct, truth, clean, np.array([10.0, 30, 40, 50, 80]))
    assert curve[0] == pytest.approx(1.0, abs=0.05)
    assert curve[2] == pytest.approx((np.interp(40, [20, 60], [0.9, 1 / 3]) - 1 / 3) / (0.9 - 1 / 3), abs=0.1)
    assert curve[-1] < 0.06 and all(np.diff(curve) <= 1e-9)


def test_weight_follows_the_curve_and_decays_past_it(tmp_path):
    rng = np.random.default_rng(1)
    guard = ModalityGuard.fit(rng.standard_normal((500, 8))).calibrate(rng.standard_normal((300, 8)))
    q99 = guard.q99
    guard.info["reliability"] = {"distance": [q99, 2 * q99, 4 * q99], "weight": [0.9, 0.5, 0.2]}
    assert guard.weight(0.5 * q99) == 1.0
    assert guard.weight(3 * q99) == pytest.approx(0.35)
    assert guard.weight(16 * q99) == pytest.approx(0.2 * np.sqrt(4 / 16))
    path = OODGuard({"audio": guard}, "spec-x").save(guard_path(tmp_path, "spec-x"))
    loaded = OODGuard.load(path, "spec-x").guards["audio"]
    assert loaded.weight(3 * q99) == pytest.approx(0.35)
    del guard.info["reliability"]
    assert guard.weight(4 * q99) == pytest.approx(0.5)  # no curve: the old sqrt(q99 / d²)


def test_polarity_uses_mmsa_bins():
    assert polarity(np.array([-1.5, -0.5, 0.0, 0.5, 0.51, 3.0])).tolist() == [0, 1, 1, 1, 2, 2]


def test_a_condition_added_later_is_appended_to_the_stored_inputs():
    def shifts(lengths, condition):
        offsets = np.cumsum([0, *lengths])
        return {"values": np.arange(offsets[-1] * 2, dtype=np.float32).reshape(-1, 2) + 100 * condition,
                "mask": np.ones(offsets[-1], bool), "offsets": offsets,
                "label": np.full(len(lengths), float(condition)),
                "condition": np.full(len(lengths), condition),
                "item": np.arange(len(lengths))}

    old, new = shifts([3, 2], 0), shifts([4], 13)
    joined = appended(old, new)
    assert joined["offsets"].tolist() == [0, 3, 5, 9]
    np.testing.assert_array_equal(joined["values"][5:9], new["values"])
    np.testing.assert_array_equal(joined["values"][:5], old["values"])
    assert joined["condition"].tolist() == [0, 0, 13] and joined["item"].tolist() == [0, 1, 0]
    # the voice's newest condition is last, so the stored inputs' indices stay what they were
    assert CONDITIONS["audio"][-1][1] == "scramble" and CONDITIONS["audio"][0][0] == "clean"
