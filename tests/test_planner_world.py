"""Done-when checks of the planner on the simulated medium world, against its true parameters.

The planner sees what the warehouse would hold: sold units (sell-outs censored), prices, live minutes and
explain minutes only for sessions with a minute log. It is fitted on all but the last eight weeks; then

* slots: for each county, the planner's sessions over four held-out weeks (its own scores, clash-free, at
  each host's pace) against the oracle's (the same candidates and rules, scored with the true slot x
  weekday, platform, skill, follower and festival effects): the true expected GMV of the planner's picks
  must reach 90% of the oracle's;
* stock: for every (session, product) of the held-out weeks, with its actual slot, line-up, price and
  explain minutes, the P90 units to prepare must cover the true (uncensored) demand about 90% of the time.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from livecommerce import planner
from livecommerce.forecast.session import slot_of_hour
from livecommerce.simulate import SCALES, build_world
from livecommerce.simulate import _world as wm
from livecommerce.simulate._writers import _sp_frame

pytestmark = pytest.mark.slow

HELD_OUT_DAYS = 56
PLAN_DAYS = 28


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    w = build_world(11, SCALES["medium"])
    sp = _sp_frame(w)
    s = w.sessions
    n_own = int(w.hosts["n_own"])
    sessions = pl.DataFrame(
        {
            "session_id": s["session_id"],
            "started_at_utc": pl.Series(s["start_s"] * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "live_minutes": (s["end_s"] - s["start_s"]) // 60,
            "logged": s["logged"],
        }
    )
    history = sp.join(sessions, on="session_id").with_columns(
        pl.col("sold_units").alias("units"),
        (pl.col("price_fen") / 100).alias("price"),
        (pl.col("sold_units") * pl.col("price_fen")).alias("gmv_fen"),
        pl.when(pl.col("logged"))
        .then(pl.col("explain_minutes"))
        .otherwise(0)
        .cast(pl.Float64)
        .alias("explain_minutes"),
        pl.col("explain_minutes").cast(pl.Float64).alias("true_explain"),
        pl.col("day_local").str.to_date().alias("day"),
    )
    hosts = pl.DataFrame(
        {
            "host_id": w.hosts["host_id"][:n_own],
            "name": w.hosts["name"][:n_own],
            "county_id": [w.counties[c].county_id for c in w.hosts["county"][:n_own]],
            "platform_id": [wm.LIVE_PLATFORMS[p] for p in w.hosts["platform"][:n_own]],
        }
    )
    products = pl.DataFrame(
        [
            {
                k: getattr(p, k)
                for k in (
                    "product_id",
                    "title",
                    "county_id",
                    "category",
                    "unit_cost_fen",
                    "list_price_fen",
                    "shelf_life_days",
                    "season_start_month",
                    "season_end_month",
                )
            }
            for p in w.products
        ]
    )
    cutoff = w.end - dt.timedelta(days=HELD_OUT_DAYS)
    model = planner.fit_demand(history.filter(pl.col("day") < cutoff), hosts, products)
    return w, history, hosts, model, cutoff


def _true_gmv(w, model: planner.DemandModel, row: dict, followers: dict) -> float:  # type: ignore[no-untyped-def]
    """The true expected GMV (fen) of a candidate session (same line-up, prices and minutes for everyone)."""
    h = list(w.hosts["host_id"]).index(row["host_id"])
    day = row["day"]
    k = (day - w.start).days
    slot = int(slot_of_hour(np.array([row["start_local"].hour]))[0])
    sw = w.slot_weekday_matrix()[slot, day.weekday()]
    plat = wm.PLATFORM_LOG_EFFECT[wm.LIVE_PLATFORMS[w.hosts["platform"][h]]]
    follow = wm.FOLLOWER_ELASTICITY * math.log(followers[row["host_id"]] / w.hosts["followers0"][h])
    n = len(row["products"])
    explain = model.explain_share * row["minutes"] / n
    pids = [p.product_id for p in w.products]
    total = 0.0
    for p, price in zip(row["products"], row["prices_fen"], strict=True):
        j = pids.index(p)
        prod = w.products[j]
        lift = w.event_lift[k, j] if k < w.days else 0.0
        units = (
            prod.base_units
            * math.exp(sw + plat + w.hosts["skill"][h] + follow + lift)
            * (price / prod.list_price_fen) ** prod.elasticity
            * explain
            / wm.EXPOSURE_UNIT_MIN
        )
        total += units * price
    return total


def test_chosen_slots_reach_90_percent_of_the_oracle(world) -> None:  # type: ignore[no-untyped-def]
    w, history, hosts, model, cutoff = world
    last = history.filter(pl.col("day") < cutoff).sort("day").group_by("host_id").agg(pl.col("followers").last())
    followers = dict(last.iter_rows())
    mine = oracle = 0.0
    for (county,), g in hosts.group_by("county_id"):
        ids = g["host_id"].to_list()
        cands = planner.candidates(model, ids, cutoff, PLAN_DAYS)
        quotas = {h: max(1, round(model.sessions_per_week(h) * PLAN_DAYS / 7)) for h in ids}
        truth = [_true_gmv(w, model, r, followers) for r in cands.iter_rows(named=True)]
        scored = cands.with_columns(pl.Series("true_gmv", truth))
        picked = planner.schedule(scored, quotas)
        best = planner.schedule(scored.with_columns(pl.col("true_gmv").alias("score")), quotas)
        assert picked.height == best.height
        mine += picked["true_gmv"].sum()
        oracle += best["true_gmv"].sum()
        print(f"{county}: planner {picked['true_gmv'].sum() / best['true_gmv'].sum():.1%} of the oracle")
    ratio = mine / oracle
    print(f"slots: planner reaches {ratio:.1%} of the oracle's expected GMV")
    assert ratio >= 0.90


def test_p90_units_cover_demand_in_about_90_percent_of_replayed_sessions(world) -> None:  # type: ignore[no-untyped-def]
    _, history, _, model, cutoff = world
    held = history.filter(pl.col("day") >= cutoff)
    covered = []
    for _, g in held.group_by("session_id"):
        r = g.row(0, named=True)
        local = planner._local(r["started_at_utc"])
        mu, var = model.units(
            r["host_id"],
            local,
            float(r["live_minutes"]),
            g["product_id"].to_list(),
            g["price_fen"].to_list(),
            g["true_explain"].to_list(),
        )
        for k, demand in enumerate(g["demand_units"].to_list()):
            p90 = math.ceil(model.distribution(float(mu[k]), float(var[k])).quantile(0.9) - 1e-9)
            covered.append(demand <= p90)
    share = float(np.mean(covered))
    print(f"P90 covers demand in {share:.1%} of {len(covered)} replayed session products")
    assert 0.85 <= share <= 0.95
