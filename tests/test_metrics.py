"""MMSA metrics against hand-computed values (and sklearn where it is installed)."""

import numpy as np
import pytest

from msa_demo.models import metrics

PRED = [1.2, -0.3, 0.0, 2.6, -2.4, 0.4]
LABEL = [0.8, 0.0, -1.0, 3.0, -2.6, -0.2]


def test_binary_metrics_by_hand():
    assert metrics.acc2_has0(PRED, LABEL) == pytest.approx(3 / 6)
    # True: tp 2 fp 2 fn 1 -> 4/7; False: tp 1 fp 1 fn 2 -> 2/5; supports 3 and 3
    assert metrics.f1_has0(PRED, LABEL) == pytest.approx(17 / 35)
    # label 0 dropped; pred 0.0 counts as not positive
    assert metrics.acc2_non0(PRED, LABEL) == pytest.approx(4 / 5)
    assert metrics.f1_non0(PRED, LABEL) == pytest.approx(0.8)


def test_multiclass_mae_and_corr_by_hand():
    assert metrics.acc7(PRED, LABEL) == pytest.approx(4 / 6)
    assert metrics.acc5(PRED, LABEL) == pytest.approx(5 / 6)
    assert metrics.acc7([2.5, -0.5, 7.0], [2.0, 0.0, 3.0]) == 1.0  # halves round to even; clipped
    assert metrics.mae(PRED, LABEL) == pytest.approx(2.9 / 6)
    assert metrics.mae([10.0], [3.0]) == 7.0  # MAE is on unclipped predictions
    assert metrics.corr(PRED, LABEL) == pytest.approx(np.corrcoef(PRED, LABEL)[0, 1])
    assert np.isnan(metrics.corr([1.0, 1.0], [0.0, 2.0]))


def test_polarity3_by_hand_and_in_line_with_the_data_card():
    pred, label = [-0.6, -0.5, 0.2, 0.5, 0.51, 2.0], [0, 0, 1, 2, 2, 2]
    assert metrics.polarity3(pred).tolist() == [0, 1, 1, 1, 2, 2]
    assert metrics.polarity3_acc(pred, label) == pytest.approx(4 / 6)
    assert metrics.polarity3_f1(pred, label) == pytest.approx((2 * 2 / 3 + 0.5 + 3 * 0.8) / 6)
    labels = pytest.importorskip("msa_demo.corpora.labels")
    grid = np.linspace(-3, 3, 121)
    assert metrics.polarity3(grid).tolist() == labels.polarity3_index(grid).tolist()


def test_weighted_f1_matches_sklearn():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    pred, true = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    assert metrics.weighted_f1(pred, true) == pytest.approx(skm.f1_score(true, pred, average="weighted"))
    assert metrics.weighted_f1([1, 1, 1], [0, 0, 1]) == pytest.approx(
        skm.f1_score([0, 0, 1], [1, 1, 1], average="weighted", zero_division=0))


def test_regression_metrics_row_and_shape_check():
    row = metrics.regression_metrics(PRED, LABEL)
    assert set(row) == {"Has0_acc_2", "Has0_F1_score", "Non0_acc_2", "Non0_F1_score", "Mult_acc_5",
                        "Mult_acc_7", "MAE", "Corr"}
    with pytest.raises(ValueError, match="predictions for"):
        metrics.mae([1.0, 2.0], [1.0])
