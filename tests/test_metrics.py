"""KPI registry: each KPI against a hand-computed fixture; ratios are ratios of sums."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.metrics import BASE_MEASURES, METRICS, kpis, metric

# two hosts x two days, numbers chosen so every KPI can be computed by hand
DAYS = pl.DataFrame(
    {
        "host_id": ["A", "A", "B", "B"],
        "day": ["d1", "d2", "d1", "d2"],
        "gmv_fen": [100_000, 300_000, 50_000, 0],
        "live_gmv_fen": [80_000, 300_000, 50_000, 0],
        "refund_fen": [10_000, 0, 5_000, 0],
        "cancelled_fen": [0, 30_000, 0, 0],
        "orders": [10, 20, 5, 0],
        "units": [12, 25, 5, 0],
        "buyers": [8, 20, 5, 0],
        "refunded_orders": [1, 0, 1, 0],
        "cancelled_orders": [0, 2, 0, 0],
        "sessions": [1, 2, 1, 0],
        "effective_sessions": [1, 1, 0, 0],
        "live_minutes": [120, 180, 20, 0],
        "online_minutes": [6_000, 9_000, 400, 0],
        "views": [4_000, 6_000, 1_000, 0],
        "viewers": [2_000, 3_000, 800, 0],
        "peak_online": [90, 140, 35, 0],
        "watch_seconds": [200_000, 330_000, 40_000, 0],
        "new_followers": [40, 60, 8, 0],
        "interacting_viewers": [200, 450, 80, 0],
        "product_exposed_viewers": [1_500, 2_500, 600, 0],
        "product_clickers": [150, 250, 30, 0],
        "live_buyers": [8, 18, 5, 0],
    }
)


def test_host_a_by_hand() -> None:
    row = kpis(DAYS, by=["host_id"]).filter(pl.col("host_id") == "A").to_dicts()[0]
    assert row["gmv"] == 400_000
    assert row["net_gmv"] == 400_000 - 10_000 - 30_000
    assert row["orders"] == 30 and row["units"] == 37 and row["buyers"] == 28
    assert row["aov"] == pytest.approx(400_000 / 28)
    assert row["order_value"] == pytest.approx(400_000 / 30)
    assert row["refund_rate_amount"] == pytest.approx(10_000 / 400_000)
    assert row["refund_rate_orders"] == pytest.approx(1 / 30)
    assert row["cancellation_rate"] == pytest.approx(2 / 30)
    assert row["sessions"] == 3 and row["effective_sessions"] == 2
    assert row["live_hours"] == pytest.approx(5.0)
    assert row["views"] == 10_000 and row["viewers"] == 5_000
    assert row["peak_online"] == 140
    assert row["avg_online"] == pytest.approx(15_000 / 300)
    assert row["avg_watch_seconds"] == pytest.approx(530_000 / 5_000)
    assert row["follow_rate"] == pytest.approx(100 / 5_000)
    assert row["interaction_rate"] == pytest.approx(650 / 5_000)
    assert row["product_ctr"] == pytest.approx(400 / 4_000)
    assert row["click_to_order"] == pytest.approx(26 / 400)
    assert row["watch_to_order"] == pytest.approx(26 / 5_000)
    assert row["gpm"] == pytest.approx(380_000 / 10_000 * 1000)
    assert row["uv_value"] == pytest.approx(380_000 / 5_000)
    assert row["gmv_per_live_hour"] == pytest.approx(380_000 / 5)


def test_ratio_over_a_period_is_ratio_of_sums_not_mean_of_ratios() -> None:
    total = kpis(DAYS.filter(pl.col("host_id") == "A"), ["gpm", "refund_rate_amount"]).row(0, named=True)
    daily = kpis(DAYS.filter(pl.col("host_id") == "A"), ["gpm"], by=["day"])["gpm"].to_list()
    assert total["gpm"] == pytest.approx(380_000 / 10_000 * 1000)
    assert total["gpm"] != pytest.approx(sum(daily) / len(daily))


def test_zero_denominator_gives_null_not_zero_or_inf() -> None:
    row = kpis(DAYS.filter(pl.col("host_id") == "B").filter(pl.col("day") == "d2"), by=["host_id"]).row(0, named=True)
    assert row["gpm"] is None and row["aov"] is None and row["gmv"] == 0


def test_missing_bases_skip_their_kpis() -> None:
    out = kpis(DAYS.select("host_id", "gmv_fen", "orders"), by=["host_id"])
    assert set(out.columns) == {"host_id", "gmv", "net_gmv", "orders", "order_value"}


def test_registry_is_complete_and_labelled() -> None:
    required = {
        "gmv",
        "net_gmv",
        "orders",
        "units",
        "buyers",
        "aov",
        "refund_rate_amount",
        "refund_rate_orders",
        "views",
        "viewers",
        "gpm",
        "uv_value",
        "cancellation_rate",
        "peak_online",
        "avg_online",
        "avg_watch_seconds",
        "new_followers",
        "follow_rate",
        "interaction_rate",
        "product_ctr",
        "click_to_order",
        "watch_to_order",
        "gmv_per_live_hour",
    }
    assert required <= set(METRICS)
    for m in METRICS.values():
        assert m.label_zh and m.label_en and m.definition, m.name
        assert all(b in BASE_MEASURES for b in m.bases), m.name
        assert (m.agg == "ratio") == (m.denominator is not None), m.name
    with pytest.raises(KeyError, match="known"):
        metric("gmv_per_viewer")


day_rows = st.fixed_dictionaries(
    {
        "g": st.sampled_from(["x", "y", "z"]),
        "gmv_fen": st.integers(0, 10**7),
        "refund_share": st.floats(0, 1),
        "orders": st.integers(0, 500),
        "refunded": st.integers(0, 500),
        "views": st.integers(0, 10**5),
        "viewers": st.integers(0, 10**5),
        "live_buyers": st.integers(0, 500),
    }
)


@given(st.lists(day_rows, min_size=1, max_size=30))
def test_properties_hold_on_random_days(rows) -> None:  # type: ignore[no-untyped-def]
    frame = pl.DataFrame(
        {
            "g": [r["g"] for r in rows],
            "gmv_fen": [r["gmv_fen"] for r in rows],
            "live_gmv_fen": [r["gmv_fen"] // 2 for r in rows],
            "refund_fen": [int(r["gmv_fen"] * r["refund_share"]) for r in rows],
            "orders": [r["orders"] for r in rows],
            "refunded_orders": [min(r["refunded"], r["orders"]) for r in rows],
            "views": [max(r["views"], r["viewers"]) for r in rows],
            "viewers": [r["viewers"] for r in rows],
            "live_buyers": [min(r["live_buyers"], r["viewers"]) for r in rows],
        }
    )
    groups = kpis(frame, by=["g"])
    total = kpis(frame).row(0, named=True)
    # the groups add up to the whole
    assert groups["gmv"].sum() == total["gmv"] and groups["orders"].sum() == total["orders"]
    for row in [*groups.to_dicts(), total]:
        assert row["net_gmv"] <= row["gmv"]
        for rate in ("refund_rate_amount", "refund_rate_orders", "watch_to_order"):
            assert row[rate] is None or 0.0 <= row[rate] <= 1.0


def test_docs_list_every_kpi() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text(encoding="utf-8")
    from livecommerce.metrics import markdown_table

    assert markdown_table() in doc, "regenerate the table: python -m livecommerce.metrics"
    missing = [name for name in METRICS if f"`{name}`" not in doc]
    assert not missing, f"docs/metrics.md lacks {missing}"
