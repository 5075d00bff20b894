"""The session planner on a tiny seeded world of frames: slots, clashes, season, stock, prices, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import asdict, replace

import numpy as np
import polars as pl
import pytest

from livecommerce import planner
from livecommerce.planner import PlanError

#: the true log effects of the tiny world: prime evenings best, weekends up
SLOT_START = {"morning": 9 * 60, "afternoon": 14 * 60 + 30, "prime": 19 * 60 + 30, "late": 22 * 60 + 30}
SLOT_EFFECT = {"morning": -0.5, "afternoon": -0.6, "prime": 0.0, "late": -0.25}
WEEKEND = 0.15
HOSTS = pl.DataFrame(
    {
        "host_id": ["A1", "A2", "A3", "B1", "A9"],  # A9: new to 县A, no sessions
        "name": ["甲一", "甲二", "甲三", "乙一", "新主播"],
        "county_id": ["ca", "ca", "ca", "cb", "ca"],
        "platform_id": ["taobao", "douyin", "kuaishou", "taobao", "douyin"],
    }
)
PRODUCTS = pl.DataFrame(
    {
        "product_id": ["a-apple", "a-tea", "a-jam", "b-millet"],
        "title": ["县A苹果, 5斤", "县A红茶", "县A果酱", "县B小米"],
        "county_id": ["ca", "ca", "ca", "cb"],
        "category": ["fruit", "tea", "grain", "grain"],
        "unit_cost_fen": [2600, 5200, 1500, 2100],
        "list_price_fen": [4990, 12800, 2990, 3990],
        "shelf_life_days": [30, 540, 365, 365],
        "season_start_month": [8, 1, 1, 1],
        "season_end_month": [11, 12, 12, 12],
    }
)
BASE = {"a-apple": 30.0, "a-tea": 8.0, "a-jam": 12.0, "b-millet": 20.0}
ELASTICITY = {"a-apple": -2.0, "a-tea": -1.6, "a-jam": -1.8, "b-millet": -1.5}
SKILL = {"A1": 0.2, "A2": 0.0, "A3": -0.2, "B1": 0.0}
START = dt.date(2024, 6, 3)  # a Monday
DAYS = 140


def _world(seed: int = 7) -> pl.DataFrame:
    """Sessions of the tiny world as ``queries.session_sales`` rows (explain minutes known for a third)."""
    rng = np.random.default_rng(seed)
    rows = []
    n = 0
    slots = list(SLOT_START)
    for h, skill in SKILL.items():
        county = HOSTS.filter(pl.col("host_id") == h)["county_id"][0]
        for d in range(DAYS):
            if rng.random() > 0.45:
                continue
            day = START + dt.timedelta(days=d)
            slot = slots[rng.integers(0, 4)]
            local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=SLOT_START[slot])
            minutes = 150 if slot == "prime" else 120
            n += 1
            sid = f"S{n:05d}"
            products = [
                p
                for p in PRODUCTS.filter(pl.col("county_id") == county).iter_rows(named=True)
                if planner._in_season(day.month, p["season_start_month"], p["season_end_month"])
            ]
            explain = 0.7 * minutes / len(products)
            for p in products:
                price = p["list_price_fen"] * rng.choice([0.85, 1.0, 1.0, 1.15])
                mu = (
                    BASE[p["product_id"]]
                    * math.exp(skill + SLOT_EFFECT[slot] + (WEEKEND if day.weekday() >= 5 else 0.0))
                    * (price / p["list_price_fen"]) ** ELASTICITY[p["product_id"]]
                    * explain
                    / 20
                )
                units = int(rng.poisson(mu * math.exp(rng.normal(-0.01, 0.15))))
                rows.append(
                    {
                        "platform_id": "taobao",
                        "session_id": sid,
                        "host_id": h,
                        "started_at_utc": (local - dt.timedelta(hours=8)).replace(tzinfo=dt.UTC),
                        "live_minutes": minutes,
                        "product_id": p["product_id"],
                        "units": units,
                        "gmv_fen": int(units * round(price)),
                        "price": round(price) / 100,
                        "explain_minutes": explain if n % 3 == 0 else 0.0,
                    }
                )
    return pl.DataFrame(rows)


@pytest.fixture(scope="module")
def model() -> planner.DemandModel:
    return planner.fit_demand(_world(), HOSTS, PRODUCTS)


NEXT = START + dt.timedelta(days=DAYS)  # 2024-10-21, a Monday; apples still in season


def test_model_finds_the_true_slot_order_and_elasticities(model) -> None:  # type: ignore[no-untyped-def]
    effect = {s: np.mean([model.slot_effect("A2", i, d) for d in range(5)]) for i, s in enumerate(SLOT_START)}
    assert max(effect, key=effect.get) == "prime"
    assert effect["morning"] - effect["prime"] == pytest.approx(SLOT_EFFECT["morning"], abs=0.15)
    assert model.slot_effect("A2", 2, 5) - model.slot_effect("A2", 2, 2) == pytest.approx(WEEKEND, abs=0.12)
    for p, e in ELASTICITY.items():
        assert model.elasticities[p].elasticity == pytest.approx(e, abs=0.35), p
    # no host really has its own slots: the empirical-Bayes deviations stay small
    assert all(abs(v) < 0.1 for v in model.deviations.get("host", {}).values())


def test_county_plan_picks_prime_and_never_overlaps(model) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan_sessions(model, ["A1", "A2", "A3"], NEXT, 14, sessions_per_week=3)
    sessions = plan.sessions
    assert len(sessions) == 3 * 6  # three hosts, three a week for two weeks
    for a in sessions:
        for b in sessions:
            if a.plan_id != b.plan_id:
                assert a.end_utc <= b.start_utc or b.end_utc <= a.start_utc, (a.plan_id, b.plan_id)
    assert sum(s.slot == "prime" for s in sessions) >= 14  # prime every evening it is free (14 evenings)
    pushed = [s for s in sessions if s.slot != "prime"]
    assert pushed and all(any("同县" in r.zh and "same county" in r.en for r in s.reasons) for s in pushed)
    assert len({(s.host_id, s.start_local.date()) for s in sessions}) == len(sessions)  # one a day per host
    weekend = sum(s.start_local.weekday() >= 5 for s in sessions if s.slot == "prime")
    assert weekend == 4  # both weekends' prime evenings are used


def test_a_new_host_gets_county_slots_and_says_so(model) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan_sessions(model, ["A9"], NEXT, 7, sessions_per_week=2)
    assert len(plan.sessions) == 2
    for s in plan.sessions:
        assert s.based_on == "county" and s.slot == "prime"
        assert any("基于县域数据" in r.zh for r in s.reasons)
        assert any("based on county data" in r.en for r in s.reasons)
        assert s.expected_gmv_fen > 0 and s.gmv_low_fen < s.expected_gmv_fen < s.gmv_high_fen
    # its demand is the county's average host, and wider than an established host's
    own = planner.plan_sessions(model, ["A2"], NEXT, 7, sessions_per_week=2).sessions[0]
    new = plan.sessions[0]
    assert new.start_local == own.start_local
    rel = lambda s: (s.gmv_high_fen - s.gmv_low_fen) / s.expected_gmv_fen  # noqa: E731
    assert rel(new) > rel(own)


def test_line_up_respects_supply_season_and_roles(model) -> None:  # type: ignore[no-untyped-def]
    autumn = planner.plan_sessions(model, ["A1"], NEXT, 7, sessions_per_week=1).sessions[0]
    roles = {i.product_id: i.role for i in autumn.items}
    assert set(roles) == {"a-apple", "a-tea", "a-jam"}
    assert roles["a-apple"] == "traffic"  # the most units
    assert sorted(roles.values()) == ["profit", "profit", "traffic"]
    winter = planner.plan_sessions(model, ["A1"], dt.date(2024, 12, 2), 7, sessions_per_week=1).sessions[0]
    assert "a-apple" not in {i.product_id for i in winter.items}  # apples: August to November only
    for i in autumn.items:
        assert i.units_p50 <= i.units_p90 and i.units_p50 <= math.ceil(i.expected_units) + 1
        assert any(r.zh and r.en for r in i.reasons)


def test_stock_on_hand_caps_and_is_used_up(model) -> None:  # type: ignore[no-untyped-def]
    free = planner.plan_sessions(model, ["A1"], NEXT, 14, sessions_per_week=3)
    first = next(i for i in free.sessions[0].items if i.product_id == "a-apple")
    stock = {"a-apple": first.units_p50 + 2, "a-jam": 0}
    plan = planner.plan_sessions(model, ["A1"], NEXT, 14, sessions_per_week=3, stock=stock)
    apples = [i for s in plan.sessions for i in s.items if i.product_id == "a-apple"]
    assert all(i.product_id != "a-jam" for s in plan.sessions for i in s.items)
    assert apples[0].units_to_prepare <= stock["a-apple"] and apples[0].stock_on_hand == stock["a-apple"]
    assert any("现有库存" in r.zh for r in apples[0].reasons)
    assert len(apples) < len(plan.sessions)  # the apples ran out before the last sessions
    assert any("库存已被前几场用完" in r.zh for s in plan.sessions for r in s.reasons)


def test_price_tests_put_their_test_price_on_a_session(model) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan_sessions(model, ["A1"], NEXT, 14, sessions_per_week=3)
    tested = [i for s in plan.sessions for i in s.items if i.price_test]
    for i in tested:
        assert i.price_fen != i.list_price_fen or any("价格测试" in r.zh for r in i.reasons)
    prices = {i.product_id: {x.price_fen for s in plan.sessions for x in s.items if x.product_id == i.product_id}
              for s in plan.sessions for i in s.items}  # fmt: skip
    for p, seen in prices.items():
        has_test = any(i.price_test for s in plan.sessions for i in s.items if i.product_id == p)
        assert (len(seen) > 1) == has_test, p


def test_schedule_respects_busy_time_and_quotas() -> None:
    day = dt.date(2024, 11, 1)
    t = lambda h: dt.datetime.combine(day, dt.time(h))  # noqa: E731
    cands = pl.DataFrame(
        {
            "host_id": ["x", "x", "y", "y"],
            "county_id": ["c", "c", "c", "c"],
            "day": [day] * 4,
            "start_local": [t(19), t(22), t(19), t(14)],
            "end_local": [t(21), t(23), t(21), t(16)],
            "score": [10.0, 5.0, 9.0, 4.0],
        }
    )
    picked = planner.schedule(cands, {"x": 1, "y": 1}, busy=[("c", t(18), t(20))])
    got = {(h, a.hour) for h, a in picked.select("host_id", "start_local").iter_rows()}
    assert got == {("x", 22), ("y", 14)}
    assert all(picked["clash"].to_list())  # both were pushed off 19:00 by the busy session
    free = planner.schedule(cands, {"x": 1, "y": 1})
    assert {(h, a.hour) for h, a in free.select("host_id", "start_local").iter_rows()} == {("x", 19), ("y", 14)}
    assert planner.schedule(cands, {"x": 0, "y": 0}).is_empty()


def _schedule_by_hand(cands: pl.DataFrame, quotas: dict, busy: list) -> dict:
    """The scheduling rule written the plain way: every taken session checked against every candidate.
    Returns {(host, start): the hosts whose sessions pushed that host's better starts of the day aside}."""
    taken = [(c, a, b, "") for c, a, b in busy]
    used: dict = {}
    days: set = set()
    out = {}
    pushed: dict = {}
    rows = sorted(cands.iter_rows(named=True), key=lambda r: (-r["score"], r["start_local"], r["host_id"]))
    for r in rows:
        h, c, a, b = r["host_id"], r["county_id"], r["start_local"], r["end_local"]
        if used.get(h, 0) >= quotas.get(h, 0) or (h, r["day"]) in days:
            continue
        others = [o or "?" for tc, x, y, o in taken if tc == c and x < b and a < y]
        if others:
            pushed.setdefault((h, r["day"]), set()).update(others)
            continue
        out[(h, a)] = r["day"]
        used[h] = used.get(h, 0) + 1
        days.add((h, r["day"]))
        taken.append((c, a, b, h))
    return {k: sorted(pushed.get((k[0], d), ())) for k, d in out.items()}


def test_schedule_equals_checking_every_pair() -> None:
    """Sessions crossing midnight, one county or several, a busy session longer than a day (and one of a
    county without candidates), a few hundred candidates or a few thousand (the schedule looks at them in
    chunks, longer ones once the taken time is full): the schedule picks what checking each candidate
    against every taken session picks."""
    pushed = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        base = dt.datetime(2025, 3, 1)
        rows = []
        counties = 1 if seed % 3 == 0 else 2
        for _ in range(3000 if seed % 2 else 300):
            a = base + dt.timedelta(minutes=int(rng.integers(0, 10 * 24 * 60 // 30)) * 30)
            rows.append(
                {
                    "host_id": f"h{rng.integers(0, 12)}",
                    "county_id": f"c{rng.integers(0, counties)}",
                    "day": a.date(),
                    "start_local": a,
                    "end_local": a + dt.timedelta(minutes=int(rng.integers(1, 16)) * 30),
                    "score": float(rng.random()),
                }
            )
        cands = pl.DataFrame(rows)
        quotas = {f"h{i}": int(rng.integers(0, 6)) for i in range(12)}
        busy = [("c0", base + dt.timedelta(days=3, hours=20), base + dt.timedelta(days=5, hours=2))]
        busy.append(("c1", base + dt.timedelta(days=1, hours=23), base + dt.timedelta(days=2, hours=1)))
        picked = planner.schedule(cands, quotas, busy)
        got = {(h, a): c for h, a, c in picked.select("host_id", "start_local", "clash").iter_rows()}
        assert got == _schedule_by_hand(cands, quotas, busy)
        assert picked.height > 10
        pushed += sum(1 for c in got.values() if c)
    assert pushed >= 10  # picked sessions that were pushed aside from a better start, and by whom


def test_adjusting_moves_the_numbers_without_refitting(model) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan_sessions(model, ["A1", "A2"], NEXT, 7, sessions_per_week=2)
    s = plan.sessions[0]
    apple = next(i for i in s.items if i.product_id == "a-apple")
    dearer = planner.adjust_session(model, s, prices_fen={"a-apple": apple.price_fen + 500})
    new_apple = next(i for i in dearer.items if i.product_id == "a-apple")
    assert new_apple.expected_units < apple.expected_units and new_apple.price_fen == apple.price_fen + 500
    assert any("手动定价" in r.zh for r in new_apple.reasons)
    morning = dt.datetime.combine(s.start_local.date(), dt.time(9))
    moved = planner.adjust_session(model, s, start_local=morning, others=plan.sessions)
    assert moved.slot == "morning" and moved.expected_gmv_fen < s.expected_gmv_fen and moved.plan_id == s.plan_id
    fewer = planner.adjust_session(model, s, product_ids=["a-tea"])
    assert [i.product_id for i in fewer.items] == ["a-tea"]
    assert fewer.items[0].expected_units > next(i for i in s.items if i.product_id == "a-tea").expected_units
    other = next(o for o in plan.sessions if o.host_id != s.host_id)
    with pytest.raises(PlanError, match="冲突"):
        planner.adjust_session(model, s, start_local=other.start_local, others=plan.sessions)
    with pytest.raises(PlanError, match="not a product"):
        planner.adjust_session(model, s, product_ids=["b-millet"])
    assert planner.PlannedSession.from_dict(moved.as_dict()) == moved


def test_csv_export_has_one_row_per_session_and_product(model) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan_sessions(model, ["A1"], NEXT, 7, sessions_per_week=2)
    text = planner.to_csv(plan)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == planner.CSV_COLUMNS
    assert len(rows) == sum(len(s.items) for s in plan.sessions)
    first = plan.sessions[0]
    row = rows[0]
    assert row["plan_id"] == first.plan_id and row["start_local"] == first.start_local.strftime("%Y-%m-%d %H:%M")
    assert float(row["price_yuan"]) == first.items[0].price_fen / 100
    assert row["title"] == first.items[0].title  # the comma inside the title survives quoting
    assert plan.frame().height == len(rows)


def test_ics_export_is_valid_rfc5545(model) -> None:  # type: ignore[no-untyped-def]
    import icalendar

    plan = planner.plan_sessions(model, ["A1", "A2"], NEXT, 7, sessions_per_week=2)
    text = planner.to_ics(plan)
    raw = text.encode("utf-8")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # folding never splits a character
    assert any(line.startswith(b" ") for line in lines)  # long Chinese lines were folded
    cal = icalendar.Calendar.from_ical(text)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == len(plan.sessions)
    for ev, s in zip(events, plan.sessions, strict=True):
        assert str(ev["UID"]) == f"{s.plan_id}@livecommerce"
        assert ev.decoded("DTSTART") == s.start_utc and ev.decoded("DTEND") == s.end_utc
        assert s.items[0].title in str(ev["DESCRIPTION"]) and "\n" in str(ev["DESCRIPTION"])
    assert "DTSTART:" in text and "Z\r\n" in text and "\\," in text  # UTC times, escaped comma
    again = planner.to_ics(planner.plan_sessions(model, ["A1", "A2"], NEXT, 7, sessions_per_week=2))
    assert [ln for ln in again.splitlines() if ln.startswith("UID")] == [
        ln for ln in text.splitlines() if ln.startswith("UID")
    ]  # stable UIDs: re-importing updates the same calendar entries
    english = planner.to_ics(plan, "en")
    assert "Expected GMV" in icalendar.Calendar.from_ical(english).walk("VEVENT")[0]["DESCRIPTION"]


def _fold(line: str) -> str:
    return planner._folded(line.encode("utf-8")).decode("utf-8")


def test_fold_counts_octets_not_characters() -> None:
    line = "DESCRIPTION:" + "苹" * 40  # 12 + 120 octets
    folded = _fold(line)
    parts = folded.encode("utf-8").split(b"\r\n")[:-1]
    assert [len(p) <= 75 for p in parts] == [True] * len(parts) and len(parts) == 2
    assert folded.replace("\r\n ", "").rstrip("\r\n") == line
    # at the limit: 75 octets stay one line, the 76th folds (ASCII and three-octet characters alike)
    for short, long in (("S" * 75, "S" * 76), ("苹" * 25, "苹" * 25 + "S")):
        assert _fold(short) == short + "\r\n"
        assert _fold(long) == long[:-1] + "\r\n " + long[-1] + "\r\n"


def test_bad_input_is_refused_with_reasons(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PlanError, match="lacks column"):
        planner.fit_demand(pl.DataFrame({"session_id": ["s"]}), HOSTS, PRODUCTS)
    with pytest.raises(PlanError, match="days must be"):
        planner.plan_sessions(model, ["A1"], NEXT, 0)
    with pytest.raises(PlanError, match="unknown host"):
        planner.plan_sessions(model, ["nobody"], NEXT, 7)


def test_model_survives_its_json_round_trip(model) -> None:  # type: ignore[no-untyped-def]
    back = planner.model_from_json(planner.model_to_json(model))
    for name in ("coef", "deviations", "hour", "tau2", "host_sessions", "host_rate", "durations", "price_range"):
        assert getattr(back, name) == getattr(model, name), name
    assert (back.var_a, back.var_b, back.host_sd, back.explain_share) == (
        model.var_a,
        model.var_b,
        model.host_sd,
        model.explain_share,
    )
    assert (back.t0, back.last_day, back.flags) == (model.t0, model.last_day, model.flags)
    for name in ("hosts", "products", "starts"):
        assert getattr(back, name).equals(getattr(model, name)), name
    assert back.elasticities.keys() == model.elasticities.keys()
    for p, e in model.elasticities.items():
        for k, v in asdict(e).items():
            w = asdict(back.elasticities[p])[k]
            assert w == v or (isinstance(v, float) and math.isnan(v) and math.isnan(w)), (p, k)
    # and the stored model plans exactly what the fitted one does
    a = planner.plan_sessions(model, ["A1", "A2", "A3"], NEXT, 14, sessions_per_week=3)
    b = planner.plan_sessions(back, ["A1", "A2", "A3"], NEXT, 14, sessions_per_week=3)
    assert [s.as_dict() for s in a.sessions] == [s.as_dict() for s in b.sessions]
    with pytest.raises(ValueError, match="version"):
        planner.model_from_json('{"version": 99}')


def test_candidates_are_the_models_units_of_each_session(model) -> None:  # type: ignore[no-untyped-def]
    """Candidates are scored for all rows at once; each row's units, GMV and profit are what
    ``DemandModel.units`` gives for that one session (host, start, minutes, line-up, prices), and the
    rows are every start option of every day of every host."""
    hosts = ["A1", "A2", "A3", "B1"]
    prices = {"a-apple": round(model.product_row("a-apple")["list_price_fen"] * 1.1)}
    # a start rounded up to 24:00 belongs to the next day: its weekday, host trend and flags are that day's
    late = (
        model.starts.unique("county_id")
        .with_columns(pl.lit(3).alias("slot"), pl.lit(1440).alias("start_minute"))
        .cast(dict(model.starts.schema))
    )
    model = replace(model, starts=pl.concat([model.starts, late.select(model.starts.columns)]))
    cands = planner.candidates(model, hosts, NEXT, 9, prices_fen=prices, objective="profit")
    assert cands.filter(pl.col("start_local").dt.date() > pl.col("day")).height >= 9
    options = {h: len(model.start_options(h)) for h in hosts}
    per_day = cands.group_by("host_id", "day").len()
    assert per_day["len"].to_list() == [options[h] for h in per_day["host_id"]]
    assert per_day.height == len(hosts) * 9
    for row in cands.iter_rows(named=True):
        mu, _ = model.units(row["host_id"], row["start_local"], row["minutes"], row["products"], row["prices_fen"])
        assert np.allclose(row["expected_units"], mu, rtol=1e-12), row
        cost = [model.product_row(p).get("unit_cost_fen") or 0 for p in row["products"]]
        assert row["expected_gmv_fen"] == pytest.approx(float(np.dot(mu, row["prices_fen"])), rel=1e-12)
        assert row["score"] == row["expected_profit_fen"]
        assert row["score"] == pytest.approx(float(np.dot(mu, np.subtract(row["prices_fen"], cost))), rel=1e-12)
        assert row["end_local"] - row["start_local"] == dt.timedelta(minutes=row["minutes"])
        assert row["minutes"] == model.duration(row["host_id"], row["slot"])
        listed = {p: model.product_row(p)["list_price_fen"] for p in row["products"]}
        assert row["prices_fen"] == [prices.get(p, listed[p]) for p in row["products"]]


def test_repricing_candidates_equals_scoring_them_at_those_prices(model) -> None:  # type: ignore[no-untyped-def]
    """A county plan scores its candidates once at list prices and rescales them to the recommended
    prices (``_reprice``: a line-up's sums once, times each row's factor): the same numbers as evaluating
    the model again at those prices (``candidates(prices_fen=...)``), for GMV and profit."""
    hosts = ["A1", "A2", "A3", "B1"]
    grid = planner._grid(model, hosts, NEXT, 7, None, None, 4)
    prices = {p: round(model.product_row(p)["list_price_fen"] * k) for p, k in (("a-apple", 1.2), ("a-tea", 0.85))}
    gmv, profit = planner._reprice(model, grid, prices)
    again = planner.candidates(model, hosts, NEXT, 7, prices_fen=prices)
    assert len(gmv) == again.height > 0
    assert np.allclose(gmv, again["expected_gmv_fen"].to_numpy(), rtol=1e-12)
    assert np.allclose(profit, again["expected_profit_fen"].to_numpy(), rtol=1e-12)
    by_profit = planner.candidates(model, hosts, NEXT, 7, prices_fen=prices, objective="profit")
    assert np.allclose(profit, by_profit["score"].to_numpy(), rtol=1e-12)
    listed = planner.candidates(model, hosts, NEXT, 7)
    assert not np.allclose(gmv, listed["expected_gmv_fen"].to_numpy())  # the prices did move the numbers
    at_list, _ = planner._reprice(model, grid, {})
    assert np.allclose(at_list, listed["expected_gmv_fen"].to_numpy(), rtol=1e-12)
    # the rows' products end to end (what candidates() lists) are each row's line-up
    assert [grid.products_of(r) for r in range(grid.kind.size)] == listed["products"].to_list()


def test_a_plan_as_stored_and_as_listed(model) -> None:  # type: ignore[no-untyped-def]
    """A session's store dict holds every field (as dataclasses.asdict gives them, times as ISO text) and
    the plan page lists each stored session with its own time, host and money, read from the dicts."""
    from livecommerce.dashboard.callbacks import plan as page
    from livecommerce.money import format_yuan

    plan = planner.plan_sessions(model, ["A1", "A2", "A3"], NEXT, 14, sessions_per_week=3)
    for s in plan.sessions:
        ref = asdict(s) | {
            "start_utc": s.start_utc.isoformat(),
            "end_utc": s.end_utc.isoformat(),
            "start_local": s.start_local.isoformat(timespec="minutes"),
            "end_local": s.end_local.isoformat(timespec="minutes"),
        }
        assert json.dumps(s.as_dict(), sort_keys=True) == json.dumps(ref, sort_keys=True)
    data = {"county_id": "县A", "plan": json.loads(json.dumps(plan.as_dict()))}
    for lang in ("zh", "en"):
        rows, _, options = page.session_table(page.listing(data), lang)
        assert [r["plan_id"] for r in rows] == [o["value"] for o in options] == [s.plan_id for s in plan.sessions]
        for r, s in zip(rows, plan.sessions, strict=True):
            assert r["when"] == f"{s.start_local:%Y-%m-%d %H:%M}–{s.end_local:%H:%M}"
            assert r["host"] == s.host_name and r["gmv"] == format_yuan(s.expected_gmv_fen, lang=lang)
            assert r["interval"] == f"{format_yuan(s.gmv_low_fen, lang=lang)}–{format_yuan(s.gmv_high_fen, lang=lang)}"
    assert len(rows) >= 9
    # the list carries what it shows of each session, the session view the one session picked
    listed = page.listing(data | {"products": [{"product_id": "a-apple", "title": "苹果"}]})
    assert listed["county_id"] == "县A" and "products" not in listed
    assert [list(x) for x in listed["sessions"]] == [list(page.LISTED)] * len(plan.sessions)
    assert page.message(listed, "zh") == f"已生成 {len(plan.sessions)} 场建议"
    assert page.message(page.listing({"error": "没有 / none"}), "en") == "没有 / none"
    last = plan.sessions[-1]
    chosen = page.picked(data | {"products": [{"product_id": "a-apple", "title": "苹果"}]}, last.plan_id)
    assert chosen is not None and chosen["picked"] == data["plan"]["sessions"][-1]
    assert (chosen["county_id"], chosen["host_id"]) == ("县A", last.host_id)
    assert chosen["products"] == [{"product_id": "a-apple", "title": "苹果"}]
    assert planner.PlannedSession.from_dict(chosen["picked"]) == last
    assert page.picked(data, "no-such-session") is None and page.picked({}, last.plan_id) is None


def test_a_stored_plan_writes_each_reason_once_and_reads_back_the_same(model) -> None:  # type: ignore[no-untyped-def]
    """The plan page's store (``as_dict(shared_reasons=True)``) holds each distinct reason once, in a table, and the
    sessions' and items' reasons as their numbers: it reads back to the same plan as the plain dict, is smaller,
    and the session picked for the editor carries the reasons' texts as with the plain dict; a number outside the
    table is refused."""
    from livecommerce.dashboard.callbacks import plan as page

    plan = planner.plan_sessions(model, ["A1", "A2", "A3"], NEXT, 14, sessions_per_week=3, detail=False)
    plain = json.loads(json.dumps(plan.as_dict()))
    shared = json.loads(json.dumps(plan.as_dict(shared_reasons=True)))
    every = [r for s in plan.sessions for r in (*s.reasons, *(x for i in s.items for x in i.reasons))]
    table = [planner.Reason(r["en"], r["zh"]) for r in shared["reasons"]]
    assert len(table) == len(set(table)) == len(set(every)) < len(every)  # each once; shared by sessions
    assert planner.Plan.from_dict(shared) == planner.Plan.from_dict(plain) == plan
    numbers = [k for s in shared["sessions"] for k in (*s["reasons"], *(x for i in s["items"] for x in i["reasons"]))]
    assert [table[k] for k in numbers] == every and all(type(k) is int for k in numbers)
    assert len(json.dumps(shared, ensure_ascii=False)) < 0.8 * len(json.dumps(plain, ensure_ascii=False))
    products = [{"product_id": "a-apple", "title": "苹果"}]
    for s in plan.sessions:
        a = page.picked({"county_id": "县A", "plan": shared, "products": products}, s.plan_id)
        b = page.picked({"county_id": "县A", "plan": plain, "products": products}, s.plan_id)
        assert a == b and a is not None and planner.PlannedSession.from_dict(a["picked"]) == s
    forged = json.loads(json.dumps(shared))
    forged["sessions"][0]["reasons"][0] = len(table)
    with pytest.raises(ValueError, match="not a number in the plan"):
        planner.Plan.from_dict(forged)
    forged["sessions"][0]["reasons"][0] = "0"
    with pytest.raises(ValueError, match="not a number in the plan"):
        planner.Plan.from_dict(forged)


def _one_law(mean: float, var: float):  # type: ignore[no-untyped-def]
    """An item's demand law built alone from scipy's quantiles: Poisson when the variance is not above the mean,
    negative binomial otherwise, all zero for a mean at or below zero."""
    from scipy import stats

    from livecommerce.inventory import DemandDistribution

    if mean <= 0:
        return DemandDistribution.from_quantiles(dict.fromkeys(planner._LEVELS, 0.0), mean=0.0)
    if var <= mean * (1 + 1e-9):
        values = stats.poisson.ppf(planner._LEVELS, mean)
    else:
        r = mean**2 / (var - mean)
        values = stats.nbinom.ppf(planner._LEVELS, r, r / (r + mean))
    return DemandDistribution.from_quantiles(dict(zip(planner._LEVELS, values.tolist(), strict=True)), mean=mean)


def test_a_plans_item_laws_built_together_equal_one_at_a_time() -> None:
    """``DemandModel.distributions`` (one pass for a plan's items) equals each law built alone from scipy's
    quantiles, over Poisson-like (variance at or below the mean), over-dispersed, zero and negative means."""
    rng = np.random.default_rng(3)
    mean = np.concatenate([rng.gamma(1.0, 20.0, 300), [0.0, -1.0, 1e-6, 5.0, 5.0, 400.0]])
    var = np.concatenate([mean[:300] * rng.uniform(0.5, 6.0, 300), [1.0, 1.0, 1e-6, 5.0, 5.0 + 1e-10, 9e4]])
    together = planner._distributions(mean, var)
    alone = [_one_law(float(m), float(v)) for m, v in zip(mean, var, strict=True)]
    assert all(a == b for a, b in zip(together, alone, strict=True)) and len(together) == len(alone)
    assert {d.kind for d in together} == {"interpolate"} and together[300].quantile(0.9) == 0.0
    assert planner._distributions(np.array([]), np.array([])) == []


def test_a_plans_sessions_evaluated_together_equal_one_at_a_time(model) -> None:  # type: ignore[no-untyped-def]
    """``plan_sessions`` works out the laws of all its sessions in one pass (``_session_laws``): each session's
    items and numbers equal those of evaluating it alone, with and without stock on hand."""
    for stock in (None, {"a-apple": 40, "a-jam": 0}):
        plan = planner.plan_sessions(model, ["A1", "A2", "A3", "A9"], NEXT, 14, stock=stock)
        assert len(plan.sessions) >= 8
        left = {p: float(v) for p, v in stock.items()} if stock is not None else None
        for s in plan.sessions:
            start = s.start_local
            minutes = (s.end_utc - s.start_utc).total_seconds() / 60.0
            products = [i.product_id for i in s.items]
            dropped = [p for p in ("a-jam",) if stock is not None and p not in products]
            items, _, gmv, sd, profit = planner._evaluate(
                model,
                s.host_id,
                start,
                minutes,
                products + dropped,
                {**{i.product_id: i.price_fen for i in s.items}, **{p: 2990 for p in dropped}},
                {i.product_id: i.price_test for i in s.items},
                {i.product_id: i.reasons[1 : [r.en[:7] for r in i.reasons].index("demand ")] for i in s.items},
                left,
            )
            assert items == s.items
            assert (round(gmv), round(profit)) == (s.expected_gmv_fen, s.expected_profit_fen)
            assert round(gmv + planner._Z80 * sd) == s.gmv_high_fen


def test_an_outline_detailed_equals_the_detailed_plan(model) -> None:  # type: ignore[no-untyped-def]
    """``plan_sessions(detail=False)`` proposes the same sessions with the same money, its items without
    their demand laws; ``detail_sessions`` completes them to exactly what ``detail=True`` gives (a session
    opened on the plan page, or saved, carries the same numbers either way)."""
    now = dt.datetime(2024, 10, 20, tzinfo=dt.UTC)
    full = planner.plan_sessions(model, ["A1", "A2", "A3", "A9"], NEXT, 14, now=now)
    outline = planner.plan_sessions(model, ["A1", "A2", "A3", "A9"], NEXT, 14, now=now, detail=False)
    assert len(outline.sessions) == len(full.sessions) >= 8
    assert all(s.detailed for s in full.sessions) and not any(s.detailed for s in outline.sessions)
    money = (
        "plan_id",
        "start_utc",
        "expected_gmv_fen",
        "gmv_low_fen",
        "gmv_high_fen",
        "expected_profit_fen",
        "reasons",
    )
    for o, f in zip(outline.sessions, full.sessions, strict=True):
        assert [getattr(o, k) for k in money] == [getattr(f, k) for k in money]
        assert [(i.product_id, i.price_fen, i.expected_gmv_fen) for i in o.items] == [
            (i.product_id, i.price_fen, i.expected_gmv_fen) for i in f.items
        ]
        assert all(i.units_p50 is None and i.units_to_prepare is None for i in o.items)
    detailed = planner.detail_sessions(model, list(outline.sessions))
    assert [s.as_dict() for s in detailed] == [s.as_dict() for s in full.sessions]
    mixed = planner.detail_sessions(model, [full.sessions[0], outline.sessions[1]])  # detailed ones stay as they are
    assert mixed[0] is full.sessions[0] and mixed[1] == full.sessions[1]
    # an outline round-trips through the page's store and is adjusted like a detailed session
    back = planner.PlannedSession.from_dict(outline.sessions[0].as_dict())
    assert not back.detailed
    # a whole plan through JSON: the same plan, each reason text rebuilt once and shared by the sessions
    again = planner.Plan.from_dict(json.loads(json.dumps(outline.as_dict())))
    assert again == outline
    texts = [r for s in again.sessions for i in s.items for r in i.reasons]
    assert len({id(r) for r in texts}) == len(set(texts)) < len(texts)
    moved = planner.adjust_session(model, back, prices_fen={}, others=outline.sessions)
    assert moved.items == full.sessions[0].items
    # with stock on hand the laws use the stock up: always detailed
    stocked = planner.plan_sessions(model, ["A1"], NEXT, 14, stock={"a-apple": 30}, detail=False)
    assert all(s.detailed for s in stocked.sessions)
    # detailing completes an outline's items: what they carry (role, money, role and price reasons) is kept,
    # the demand law adds the three quantities and one reason
    for o, d in zip(outline.sessions, detailed, strict=True):
        for oi, di in zip(o.items, d.items, strict=True):
            assert di.reasons[:-1] == oi.reasons and di.reasons[-1].en.startswith("demand ")
            assert replace(di, units_p50=None, units_p90=None, units_to_prepare=None, reasons=oi.reasons) == oi


def test_a_changed_copy_equals_dataclasses_replace() -> None:
    """``_changed`` (the planner's copy of a frozen dataclass with some fields changed) gives what
    ``dataclasses.replace`` gives, leaves the original alone and refuses a field the class does not have."""
    item = planner.PlannedItem("p", "T", "profit", 1990, 2590, False, 3.0, 4.5, None, None, None, 8955, 2000, None, ())
    why = planner.Reason("why", "为什么")
    changed = planner._changed(item, units_p50=4, units_to_prepare=6, reasons=(why,))
    assert changed == replace(item, units_p50=4, units_to_prepare=6, reasons=(why,))
    assert type(changed) is planner.PlannedItem and changed is not item and item.units_p50 is None
    assert hash(changed) == hash(replace(item, units_p50=4, units_to_prepare=6, reasons=(why,)))
    with pytest.raises(TypeError, match="units"):
        planner._changed(item, units=3)


def test_start_terms_are_the_slot_effects_of_every_weekday_and_hour(model) -> None:  # type: ignore[no-untyped-def]
    """``start_terms`` (the table ``candidates`` reads) equals ``slot_effect`` at every weekday and local hour,
    to the bit, for hosts with and without deviations of their own."""
    from livecommerce.forecast.session import slot_of_hour

    for h in ("A1", "A3", "B1", "A9"):
        table = model.start_terms(h)
        assert table.shape == (7, 24)
        for w in range(7):
            for hr in range(24):
                assert table[w, hr] == model.slot_effect(h, int(slot_of_hour(hr)), w, hr), (h, w, hr)
    with pytest.raises(PlanError):
        model.start_terms("nobody")


def test_host_effects_are_each_days_host_effect(model) -> None:  # type: ignore[no-untyped-def]
    """``host_effects`` (what ``candidates`` reads) equals ``host_effect`` host by host and day by day, to the
    bit, for hosts with history and for a new host (its county's weighted average), together or alone."""
    days = [NEXT + dt.timedelta(days=k) for k in range(-400, 30, 7)]
    hosts = ["A1", "A9", "A3", "B1"]
    together = model.host_effects(hosts, days)
    assert together.shape == (len(hosts), len(days))
    for k, h in enumerate(hosts):
        want = [model.host_effect(h, d)[0] for d in days]
        assert together[k].tolist() == want == model.host_effects([h], days)[0].tolist(), h
    assert model.host_effects(["A9"], days)[0].tolist() != model.host_effects(["A1"], days)[0].tolist()


def test_candidates_of_several_hosts_are_each_hosts_candidates(model) -> None:  # type: ignore[no-untyped-def]
    """A county's hosts are scored together (host × day × option arrays): the rows equal, value for value and
    in order, those of scoring each host alone, with hosts of two counties interleaved."""
    hosts = ["A1", "B1", "A2", "A3", "A9"]
    together = planner.candidates(model, hosts, NEXT, 10)
    alone = pl.concat([planner.candidates(model, [h], NEXT, 10) for h in hosts])
    assert together.height == alone.height > 0 and together.equals(alone)


def test_a_plans_schedule_on_arrays_equals_scheduling_the_candidate_frame(model) -> None:  # type: ignore[no-untyped-def]
    """A plan schedules its start options on the grid's arrays (``_Grid.schedule``): the same sessions, in the
    same order and with the same hosts that pushed them aside, as :func:`schedule` on the frame of
    :func:`candidates` — hosts of two counties, a busy session, by GMV and by profit, tight and loose quotas."""
    hosts = ["A1", "B1", "A2", "A3", "A9"]
    grid = planner._grid(model, hosts, NEXT, 10, None, None, 4)
    gmv = np.add.reduceat(grid.units * grid.prices, grid.offsets[:-1])
    profit = np.add.reduceat(grid.units * (grid.prices - grid.costs), grid.offsets[:-1])
    evening = dt.datetime.combine(NEXT + dt.timedelta(days=2), dt.time(19))
    busy = [("ca", evening, evening + dt.timedelta(hours=3)), ("cz", evening, evening + dt.timedelta(hours=1))]
    pushed = 0
    for objective, score in (("gmv", gmv), ("profit", profit)):
        frame = planner.candidates(model, hosts, NEXT, 10, objective=objective)
        for quotas in ({h: 3 for h in hosts}, {h: 10 for h in hosts}, {"A1": 2, "B1": 0, "A2": 6}):
            want = planner.schedule(frame, quotas, busy)
            rows, clash = grid.schedule(score, quotas, busy)
            got = [grid.row(r) for r in rows]
            assert len(got) == want.height > 0
            assert [(g["host_id"], g["start_local"], g["end_local"]) for g in got] == want.select(
                "host_id", "start_local", "end_local"
            ).rows()
            assert clash == want["clash"].to_list()
            pushed += sum(1 for c in clash if c)
    assert pushed > 0  # some sessions were pushed off a better start, and the two say by the same hosts


def test_best_first_is_the_three_key_sort() -> None:
    """The schedule's order (``_best_first``: the score alone, then only runs of equal scores by start and
    host) equals sorting on all three keys, with many ties, runs at both ends and none at all."""
    rng = np.random.default_rng(5)
    for n, levels in ((2000, 7), (2000, 400), (500, 10**9), (1, 3), (3, 1)):
        score = rng.integers(0, levels, n).astype(float)
        begin = rng.integers(0, 50, n)
        rank = rng.integers(0, 9, n)
        want = np.lexsort((rank, begin, -score))
        got = planner._best_first(score, begin, rank)
        keys = [list(zip((-score[o]).tolist(), begin[o].tolist(), rank[o].tolist(), strict=True)) for o in (got, want)]
        assert keys[0] == keys[1] and sorted(got.tolist()) == list(range(n))


def test_negative_binomial_quantiles_are_scipys() -> None:
    """``_nbinom_ppf`` (the item laws' quantiles, from scipy's CDF) equals ``scipy.stats.nbinom.ppf`` value for value:
    means from 0.01 to 5,000 units, variance from a hair above the mean (near Poisson, p close to 1) to 100x it, the
    planner's levels and the extreme ones; a law with all its mass at zero."""
    from scipy import stats

    from livecommerce.planner import _LEVELS, _nbinom_ppf

    rng = np.random.default_rng(3)
    mean = np.exp(rng.uniform(np.log(0.01), np.log(5000), 4000))
    var = mean * (1 + np.exp(rng.uniform(np.log(1e-8), np.log(100), len(mean))))
    r = mean**2 / (var - mean)
    p = r / (r + mean)
    for levels in (_LEVELS, (0.001, 0.5, 0.999)):
        want = stats.nbinom.ppf(np.asarray(levels)[None, :], r[:, None], p[:, None])
        got = _nbinom_ppf(levels, r, p)
        assert got.shape == want.shape and np.array_equal(got, want)
    assert np.array_equal(_nbinom_ppf(_LEVELS, np.array([5.0]), np.array([1.0])), np.zeros((1, len(_LEVELS))))


def test_stock_on_hand_never_sells_more_than_is_left(model) -> None:  # type: ignore[no-untyped-def]
    """Used up session by session, stock on hand gives every item a non-negative expected GMV; an item brought
    along has at least one whole unit on hand and expects to sell no more than that (nor more than its demand);
    a product's expected sales over the plan stay within its stock; less than a unit left drops the product."""
    free = planner.plan_sessions(model, ["A1"], NEXT, 14, sessions_per_week=3)
    first = next(i for i in free.sessions[0].items if i.product_id == "a-apple")
    for units in (1, 2, first.units_p50 // 2 + 1, first.units_p50 + 2, 3 * first.units_p50):
        stock = {"a-apple": units}
        plan = planner.plan_sessions(model, ["A1"], NEXT, 14, sessions_per_week=3, stock=stock)
        apples = [i for s in plan.sessions for i in s.items if i.product_id == "a-apple"]
        assert apples, units
        sold = 0.0
        for i in apples:
            expected = i.expected_gmv_fen / i.price_fen
            assert i.expected_gmv_fen >= 0 and i.stock_on_hand is not None and i.stock_on_hand >= 1, (units, i)
            assert expected <= i.stock_on_hand + 0.01 and expected <= i.expected_units + 0.01, (units, i)
            sold += expected
        assert sold <= units + 0.05, (units, sold)
