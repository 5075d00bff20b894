"""Each rung of the forecasting ladder on a series whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from livecommerce.forecast import ETS, GLM, TSB, CrostonSBA, ModelFitError, MovingAverage, SeasonalNaive
from livecommerce.forecast.intermittency import adi_cv2, demand_class
from livecommerce.forecast.metrics import coverage, mase, naive_scale, pinball, rmsse, smape, wape


def test_seasonal_naive_repeats_the_last_season() -> None:
    y = np.arange(21.0)
    out = SeasonalNaive().fit(y, season_length=7).predict(10)
    assert out.tolist() == [14, 15, 16, 17, 18, 19, 20, 14, 15, 16]


def test_seasonal_naive_falls_back_to_naive_when_shorter_than_a_season() -> None:
    out = SeasonalNaive().fit(np.array([1.0, 2.0, 3.0]), season_length=7).predict(4)
    assert out.tolist() == [3, 3, 3, 3]


def test_moving_average_of_a_constant_and_of_a_window() -> None:
    assert MovingAverage().fit(np.full(30, 5.0), season_length=7).predict(3).tolist() == [5, 5, 5]
    assert MovingAverage(window=3).fit(np.arange(1.0, 7.0)).predict(2).tolist() == [5, 5]
    # default window: one season of 7
    assert MovingAverage().fit(np.arange(14.0), season_length=7).predict(1)[0] == pytest.approx(10.0)


def test_ets_beats_naive_on_a_clean_trend_and_season() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(140)
    y = 20 + 0.1 * t + 4 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, len(t))
    train, test = y[:126], y[126:]
    naive_err = np.mean(np.abs(test - train[-1]))
    ets_err = np.mean(np.abs(test - ETS().fit(train, season_length=7).predict(14)))
    damped_err = np.mean(np.abs(test - ETS(trend="damped").fit(train, season_length=7).predict(14)))
    assert ets_err < 0.5 * naive_err
    assert damped_err < 0.5 * naive_err
    assert ETS(trend="damped").alias == "ets_damped"


def test_croston_sba_gives_the_textbook_bias_corrected_value() -> None:
    # demands 3, 2, 4 at periods 3, 7, 9 -> intervals 3, 4, 2; SES(0.1) from the first value:
    # size 3 -> 2.9 -> 3.01, interval 3 -> 3.1 -> 2.99; SBA = (1 - 0.1/2) * 3.01 / 2.99
    y = np.array([0, 0, 3, 0, 0, 0, 2, 0, 4], dtype=float)
    out = CrostonSBA(alpha=0.1).fit(y).predict(3)
    assert out == pytest.approx([0.95 * 3.01 / 2.99] * 3)


def test_tsb_decays_when_demand_stops_and_croston_does_not() -> None:
    rng = np.random.default_rng(2)
    active = rng.poisson(3, 60) * (rng.random(60) < 0.5)
    stopped = np.concatenate([active, np.zeros(20)])
    before = TSB(alpha_d=0.1, alpha_p=0.1).fit(active.astype(float)).predict(1)[0]
    after = TSB(alpha_d=0.1, alpha_p=0.1).fit(stopped).predict(1)[0]
    assert after == pytest.approx(before * 0.9**20)  # the probability shrinks by (1 - alpha_p) each zero
    assert CrostonSBA().fit(stopped).predict(1)[0] == pytest.approx(
        CrostonSBA().fit(active.astype(float)).predict(1)[0]
    )


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([5, 6, 5, 6, 5, 6, 5, 6], "smooth"),
        ([1, 10, 1, 10, 1, 10, 1, 10], "erratic"),
        ([0, 0, 5, 0, 0, 5, 0, 0, 5, 0, 0, 5], "intermittent"),
        ([0, 0, 1, 0, 0, 10, 0, 0, 1, 0, 0, 10], "lumpy"),
        ([0, 0, 0, 0], "zero"),
    ],
)
def test_syntetos_boylan_classes(y: list[int], expected: str) -> None:
    assert demand_class(np.array(y, dtype=float)) == expected


def test_adi_and_cv2_values() -> None:
    adi, cv2 = adi_cv2(np.array([0, 0, 1, 0, 0, 10, 0, 0, 1, 0, 0, 10], dtype=float))
    assert adi == pytest.approx(3.0)  # 12 periods / 4 demands
    sizes = np.array([1, 10, 1, 10.0])
    assert cv2 == pytest.approx((sizes.std(ddof=1) / sizes.mean()) ** 2)


def _price_series(n: int, seed: int, elasticity: float = -1.5, promo_effect: float = 0.4):
    rng = np.random.default_rng(seed)
    price = np.exp(rng.uniform(np.log(20), np.log(40), n))
    promo = (rng.random(n) < 0.2).astype(float)
    y = rng.poisson(np.exp(8.0 + elasticity * np.log(price) + promo_effect * promo)).astype(float)
    return y, price, promo


def test_glm_recovers_a_known_price_elasticity_and_promo_effect() -> None:
    y, price, promo = _price_series(600, seed=3)
    fit = GLM().fit(y, {"price": price, "promo": promo}, season_length=7)
    assert fit.coefficients["log_price"] == pytest.approx(-1.5, abs=0.15)
    assert fit.coefficients["promo"] == pytest.approx(0.4, abs=0.1)
    cheap = fit.predict(7, {"price": np.full(7, 20.0), "promo": np.zeros(7)})
    dear = fit.predict(7, {"price": np.full(7, 40.0), "promo": np.zeros(7)})
    assert np.all(cheap > dear)
    assert cheap.mean() / dear.mean() == pytest.approx(2**1.5, rel=0.3)


def test_glm_refuses_future_without_the_regressors_it_was_fitted_on() -> None:
    y, price, promo = _price_series(100, seed=4)
    fit = GLM().fit(y, {"price": price, "promo": promo}, season_length=7)
    with pytest.raises(ModelFitError, match="promo"):
        fit.predict(3, {"price": np.full(3, 30.0)})


def test_point_metrics_by_hand() -> None:
    y, f = np.array([6.0, 8.0]), np.array([7.0, 7.0])
    train = np.array([2, 4, 3, 5, 4, 6, 5, 7.0])
    assert naive_scale(train) == pytest.approx(11 / 7)
    assert mase(y, f, naive_scale(train)) == pytest.approx(7 / 11)
    assert rmsse(y, f, naive_scale(train, power=2)) == pytest.approx(np.sqrt(7 / 19))
    assert wape(y, f) == pytest.approx(2 / 14)
    assert smape(y, f) == pytest.approx((2 / 13 + 2 / 15) / 2)
    assert np.isnan(smape(np.array([0.0, 1.0]), f))
    assert pinball(np.array([10.0]), np.array([8.0]), 0.9) == pytest.approx(1.8)
    assert pinball(np.array([10.0]), np.array([12.0]), 0.9) == pytest.approx(0.2)
    assert coverage(np.array([1.0, 5.0, 9.0]), np.full(3, 2.0), np.full(3, 9.0)) == pytest.approx(2 / 3)
    assert naive_scale(np.full(5, 3.0)) == pytest.approx(3.0)  # constant: mean level
    assert naive_scale(np.zeros(5)) == 1.0  # all zeros: plain error
