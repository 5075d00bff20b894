"""The simulated world: determinism, statistical shape, exports against canonical truth, defects."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from livecommerce.cli import main
from livecommerce.money import parse_fen
from livecommerce.schemas import CANONICAL_FILES, DEFECT_KINDS, ORDER_STATUSES
from livecommerce.simulate import SCALES, build_world, generate
from livecommerce.simulate import _world as wm

ROOT = Path(__file__).resolve().parents[1]
START = date(2024, 10, 20)  # covers 双11 and the Fuji harvest


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small")
    generate(out, "small", seed=7, start=START, days=45)
    return out


@pytest.fixture(scope="module")
def defected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("defected")
    generate(out, "small", seed=3, defects=0.05, start=START, days=60)
    return out


@pytest.fixture(scope="module")
def medium_world() -> wm.World:
    return build_world(11, SCALES["medium"])


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    text = raw.decode("gb18030") if path.name.startswith("taobao") else raw.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_same_bytes_different_seed_different_world(tmp_path: Path, small: Path) -> None:
    again = tmp_path / "again"
    other = tmp_path / "other"
    generate(again, "small", seed=7, start=START, days=45)
    generate(other, "small", seed=8, start=START, days=45)
    files = sorted(p.relative_to(small).as_posix() for p in small.rglob("*") if p.is_file())
    assert "exports/pinduoduo_orders.xlsx" in files and "ground_truth.json" in files
    for rel in files:
        assert (small / rel).read_bytes() == (again / rel).read_bytes(), rel
    a = json.loads((small / "manifest.json").read_text())["files"]
    b = json.loads((other / "manifest.json").read_text())["files"]
    changed = [k for k in a if a[k]["sha256"] != b.get(k, {}).get("sha256")]
    assert {"canonical/orders.csv", "exports/taobao_orders.csv", "ground_truth.json"} <= set(changed)


def test_committed_sample_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    manifest = json.loads((ROOT / "sample_data/manifest.json").read_text())
    assert manifest["seed"] == 42 and manifest["scale"] == "small" and manifest["defect_rate"] == 0
    generate(tmp_path, "small", seed=42)
    fresh = json.loads((tmp_path / "manifest.json").read_text())
    assert fresh["files"] == manifest["files"]
    total = sum(f["bytes"] for f in manifest["files"].values())
    assert total <= 10_500_000


# --- statistical shape ------------------------------------------------------------------------


def _event_dummies(w: wm.World, day: np.ndarray, product: np.ndarray) -> np.ndarray:
    cols = []
    pids = [p.product_id for p in w.products]
    cats = [p.category for p in w.products]
    for e in w.events:
        d0, d1 = (e.start - w.start).days, (e.end - w.start).days
        on = (day >= d0) & (day <= d1)
        if e.categories:
            on &= np.isin(np.array(cats)[product], e.categories)
        if e.product_ids:
            on &= np.isin(np.array(pids)[product], e.product_ids)
        if on.any():
            cols.append(on.astype(float))
    return np.column_stack(cols) if cols else np.zeros((len(day), 0))


def test_elasticity_recovered_by_log_log_fit_on_uncensored_sessions(medium_world: wm.World) -> None:
    """OLS of log(uncensored demand per explain-minute) on log(price / list price) with host, slot x weekday,
    platform and calendar-event dummies, per product: within 0.15 of the true elasticity."""
    w = medium_world
    sp, s = w.sp, w.sessions
    ok = sp["demand_units"] > 0  # the uncensored demand recorded in truth/session_products.csv
    checked = 0
    for j, p in enumerate(w.products):
        m = ok & (sp["product"] == j)
        lp = np.log(sp["price_fen"][m] / sp["list_price_fen"][m])
        if m.sum() < 200 or lp.std() < 0.05:
            continue
        sess = sp["session"][m]
        y = np.log(sp["demand_units"][m]) - np.log(sp["explain_minutes"][m])
        host = s["host"][sess]
        sw = s["slot"][sess] * 7 + s["weekday"][sess]
        X = np.column_stack(
            [
                lp,
                np.log(s["followers"][sess]),
                (host[:, None] == np.unique(host)[None, :]).astype(float),  # host fixed effects (incl. intercept)
                (sw[:, None] == np.unique(sw)[None, 1:]).astype(float),
                (s["platform"][sess][:, None] == np.arange(1, 3)[None, :]).astype(float),
                _event_dummies(w, s["day"][sess], sp["product"][m]),
            ]
        )
        beta = np.linalg.lstsq(X, y, rcond=None)[0]
        assert abs(beta[0] - p.elasticity) < 0.15, (p.product_id, beta[0], p.elasticity)
        checked += 1
    assert checked >= 8


def test_festival_lift_and_slot_effects_show_in_aggregates(medium_world: wm.World) -> None:
    w = medium_world
    sp, s = w.sp, w.sessions
    per_min = sp["demand_units"] / sp["explain_minutes"]
    day = s["day"][sp["session"]]
    days = np.array([(w.start.toordinal() + d) for d in day])
    d1111 = np.isin(days, [date(y, 11, 11).toordinal() for y in (2023, 2024)])
    quiet = np.abs(w.event_lift[day, sp["product"]]) < 1e-9
    ratio = per_min[d1111].mean() / per_min[quiet].mean()
    assert ratio > 1.6, ratio  # truth exp(0.95) ≈ 2.6 before price cuts
    slot = s["slot"][sp["session"]]
    prime, afternoon = per_min[quiet & (slot == 2)].mean(), per_min[quiet & (slot == 1)].mean()
    assert prime / afternoon > 1.3, prime / afternoon  # truth exp(0.55) ≈ 1.7 (weekday mix aside)
    # the post-双11 dip is visible too
    lift = w.event_lift[day, sp["product"]]
    post = np.isin(days, [date(y, 11, d).toordinal() for y in (2023, 2024) for d in range(12, 19)])
    post &= np.abs(lift + 0.30) < 1e-9  # only the dip applies (not the Fuji harvest)
    later = (
        np.isin(
            days,
            [
                date(y, m, d).toordinal()
                for y in (2023, 2024)
                for m, d in [(11, d) for d in range(21, 31)] + [(12, d) for d in range(1, 11)]
            ],
        )
        & quiet
    )
    assert post.sum() > 30 and per_min[post].mean() < 0.9 * per_min[later].mean()


def test_stockouts_are_censored_and_recorded(small: Path) -> None:
    truth = json.loads((small / "ground_truth.json").read_text())
    so = truth["stockouts"]
    assert so, "expected some sold-out session products"
    assert all(x["demand_units"] > x["sold_units"] and x["sold_units"] <= x["stock_units"] for x in so)
    orders = pl.read_csv(small / "canonical/orders.csv", infer_schema=False)
    units = (
        orders.filter(pl.col("session_id").is_not_null())
        .group_by("session_id", "product_id")
        .agg(pl.col("quantity").cast(pl.Int64).sum().alias("u"))
    )
    sp = pl.read_csv(small / "truth/session_products.csv").join(units, on=["session_id", "product_id"], how="left")
    assert (sp["sold_units"] == sp["u"].fill_null(0)).all()
    assert truth["products"]["yijun-wig-clip"]["elasticity"] == -2.5


def test_refunds_arrive_days_after_shipping_and_statuses_are_canonical(small: Path) -> None:
    o = pl.read_csv(small / "canonical/orders.csv", infer_schema=False)
    assert set(o["status"].unique()) <= set(ORDER_STATUSES)
    assert o.columns == list(CANONICAL_FILES["orders"])
    r = o.filter(pl.col("status").is_in(["refunded", "partially_refunded"])).with_columns(
        pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%SZ") for c in ("shipped_at_utc", "refunded_at_utc")
    )
    assert r.height > 20
    delay = (r["refunded_at_utc"] - r["shipped_at_utc"]).dt.total_seconds() / 86400
    assert delay.min() >= 1.0 and delay.mean() > 2.0
    refund = o["refund_fen"].cast(pl.Int64)
    assert ((refund >= 0) & (refund <= o["amount_fen"].cast(pl.Int64))).all()
    # affiliate sales on Douyin carry an affiliate's id, not one of our hosts
    hosts = pl.read_csv(small / "canonical/hosts.csv", infer_schema=False)
    aff = o.filter(pl.col("traffic_source").str.contains("精选联盟"))
    assert aff.height > 0 and set(aff["platform_id"]) == {"douyin"}
    kinds = dict(zip(hosts["platform_host_id"], hosts["kind"], strict=False))
    assert {kinds[h] for h in aff["export_host_id"]} == {"affiliate"}


# --- exports --------------------------------------------------------------------------------------


def test_encodings_taobao_gb18030_douyin_bom(small: Path) -> None:
    tb = (small / "exports/taobao_orders.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        tb.decode("utf-8")
    assert not tb.startswith(b"\xef\xbb\xbf") and tb.decode("gb18030").startswith("订单编号,买家会员名")
    assert len(tb.decode("gb18030").splitlines()[0].split(",")) == 44
    for name in ("douyin_orders.csv", "douyin_aftersale.csv"):
        raw = (small / "exports" / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        raw.decode("utf-8")
    ids = pl.read_csv(small / "exports/douyin_orders.csv", infer_schema=False, encoding="utf8")
    assert ids.columns[0] == "主订单编号"  # BOM stripped by the reader
    assert ids["子订单编号"].str.len_chars().min() >= 18


def test_canonical_orders_agree_with_every_export(small: Path) -> None:
    o = pl.read_csv(small / "canonical/orders.csv", infer_schema=False)
    key = {
        (r[0], r[1], int(r[2])): r
        for r in o.select("platform_id", "order_id", "line_no", "amount_fen", "shipping_fen", "quantity").rows()
    }
    seen = 0
    rows = _csv_rows(small / "exports/taobao_items.csv")
    pos: dict[str, int] = {}
    for r in rows[1:]:
        pos[r[0]] = pos.get(r[0], 0) + 1
        c = key[("taobao", r[0], pos[r[0]])]
        assert parse_fen(r[2]) * int(r[3]) == int(c[3]) and r[3] == c[5]
        seen += 1
    rows = _csv_rows(small / "exports/douyin_orders.csv")
    h = rows[0]
    for r in rows[1:]:
        d = dict(zip(h, r, strict=False))
        line = int(d["子订单编号"]) - int(d["主订单编号"])
        c = key[("douyin", d["主订单编号"], line)]
        assert parse_fen(d["订单应付金额"]) - parse_fen(d["运费"]) == int(c[3])
        assert parse_fen(d["商品金额"]) - parse_fen(d["优惠总金额"]) == int(c[3])
        seen += 1
    ws = openpyxl.load_workbook(small / "exports/pinduoduo_orders.xlsx", read_only=True).active
    it = ws.iter_rows(values_only=True)
    h = list(next(it))
    for r in it:
        d = dict(zip(h, r, strict=False))
        assert re.fullmatch(r"\d{6}-\d{15}", d["订单号"])
        c = key[("pinduoduo", d["订单号"], 1)]
        assert parse_fen(d["用户实付金额(元)"]) - parse_fen(d["邮费(元)"]) == int(c[3])
        seen += 1
    assert seen == o.filter(pl.col("platform_id") != "kuaishou").height
    # Taobao order report totals equal the sum of its lines plus shipping
    tb = pl.read_csv(small / "exports/taobao_orders.csv", infer_schema=False, encoding="gb18030")
    lines = (
        o.filter(pl.col("platform_id") == "taobao")
        .group_by("order_id")
        .agg((pl.col("amount_fen").cast(pl.Int64) + pl.col("shipping_fen").cast(pl.Int64)).sum().alias("t"))
    )
    j = tb.join(lines, left_on="订单编号", right_on="order_id")
    assert j.height == tb.height
    assert all(parse_fen(a) == t for a, t in zip(j["总金额"], j["t"], strict=False))


def test_schedule_and_session_log_describe_the_sessions(small: Path) -> None:
    sessions = pl.read_csv(small / "canonical/sessions.csv", infer_schema=False)
    sched = pl.read_csv(small / "exports/schedule.csv", infer_schema=False)
    assert sched.columns == ["日期", "上播时间", "下播时间", "主播姓名", "场控姓名", "平台"]
    assert sched.height == sessions.height
    assert (sched["下播时间"] < sched["上播时间"]).any()  # some shifts cross midnight
    events = [json.loads(x) for x in (small / "canonical/session_log.jsonl").read_text().splitlines()]
    assert (small / "exports/session_log.jsonl").read_bytes() == (small / "canonical/session_log.jsonl").read_bytes()
    kinds = {e["event"] for e in events}
    assert {"session_start", "minute", "explain_start", "explain_stop", "session_end"} <= kinds
    logged = {e["session_id"] for e in events}
    assert 0 < len(logged) < sessions.height  # minute logs only for some sessions
    schema = json.loads((ROOT / "docs/session_log.schema.json").read_text())
    required = {k: set(v["required"]) for k, v in schema["$defs"].items()}
    for e in events[:2000]:
        assert set(e) == required[e["event"]], e
    line = (small / "canonical/session_log.jsonl").read_text().splitlines()[0]
    assert list(json.loads(line)) == sorted(json.loads(line))


# --- defects ----------------------------------------------------------------------------------


def _cell_rows(out: Path, rel: str) -> list[list[str]]:
    if rel.endswith(".xlsx"):
        ws = openpyxl.load_workbook(out / rel, read_only=True).active
        return [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    return _csv_rows(out / rel)


def test_defect_manifest_matches_the_files(defected: Path) -> None:
    defects = json.loads((defected / "defects.json").read_text())
    manifest = json.loads((defected / "manifest.json").read_text())
    snapshot = datetime.strptime(manifest["snapshot_utc"], "%Y-%m-%dT%H:%M:%SZ")
    assert {d["kind"] for d in defects} == set(DEFECT_KINDS)
    assert all(d["code"] == DEFECT_KINDS[d["kind"]] for d in defects)
    products = set(pl.read_csv(defected / "canonical/products.csv")["product_id"])
    cache: dict[str, list[list[str]]] = {}
    keys = set()
    for d in defects:
        assert (d["file"], d["line"]) not in keys, "one fault per line"
        keys.add((d["file"], d["line"]))
        rows = cache.setdefault(d["file"], _cell_rows(defected, d["file"]))
        row = rows[d["line"] - 1]
        cell = row[rows[0].index(d["column"])] if d["column"] else None
        kind, orig = d["kind"], d["original"]
        if kind == "excel_mangled_id":
            assert re.fullmatch(r"\d\.\d{5}E\+\d{2}", cell) and float(cell) == pytest.approx(int(orig), rel=1e-5)
        elif kind == "wrapped_id":
            assert cell != orig and (cell in (f'="{orig}"', f"'{orig}", f"{orig}\t"))
        elif kind == "money_format":
            assert cell != orig and parse_fen(cell) == parse_fen(orig)
        elif kind == "bad_date":
            fmt = "%Y-%m-%dT%H:%M:%SZ" if d["file"].startswith("canonical") else "%Y-%m-%d %H:%M:%S"
            with pytest.raises(ValueError):
                datetime.strptime(cell, fmt if len(orig) > 10 else "%Y-%m-%d")
        elif kind == "future_timestamp":
            t = datetime.strptime(
                cell.replace("T", " ").rstrip("Z")[:19].ljust(10), "%Y-%m-%d %H:%M:%S" if len(cell) > 10 else "%Y-%m-%d"
            )
            assert (t - snapshot).days >= 364
        elif kind == "negative_quantity":
            assert cell == f"-{orig}" and int(cell) < 0
        elif kind == "unknown_product":
            assert cell not in products and orig in products
        elif kind == "duplicate_row":
            assert row == rows[d["line"] - 2]
        elif kind == "missing_required":
            assert cell == "" and orig
        elif kind == "total_row":
            assert cell == "合计" and d["line"] == len(rows)
        elif kind == "session_end_before_start":
            h = rows[0]
            assert row[h.index("ended_at_utc")] < row[h.index("started_at_utc")]
    # the rate is honoured on the big files (each data row is hit at most once)
    for rel in ("canonical/orders.csv", "exports/taobao_orders.csv", "exports/taobao_items.csv"):
        data_rows = manifest["files"][rel]["rows"]
        n = sum(1 for d in defects if d["file"] == rel and d["kind"] != "total_row")
        assert 0.03 * data_rows < n < 0.07 * data_rows, (rel, n, data_rows)
    # repairable faults still carry the true value, so a fixed reader loads those rows
    assert any(d["kind"] == "wrapped_id" for d in defects) and any(d["kind"] == "money_format" for d in defects)


def test_good_rows_are_untouched_by_defects(tmp_path: Path, defected: Path) -> None:
    clean = tmp_path / "clean"
    generate(clean, "small", seed=3, start=START, days=60)
    defects = json.loads((defected / "defects.json").read_text())
    for rel in ("canonical/orders.csv", "exports/douyin_orders.csv"):
        mine = {d["line"]: d["kind"] for d in defects if d["file"] == rel}
        dirty = _cell_rows(defected, rel)
        # a mutated row replaces a clean row; a duplicate or total row is an extra line
        extra = sorted(line for line, k in mine.items() if k in ("duplicate_row", "total_row"))
        mutated_clean = {
            line - sum(e < line for e in extra) for line, k in mine.items() if k not in ("duplicate_row", "total_row")
        }
        kept = [r for i, r in enumerate(dirty, 1) if i not in mine]
        clean_rows = [r for i, r in enumerate(_cell_rows(clean, rel), 1) if i not in mutated_clean]
        assert len(mine) > 10 and kept == clean_rows


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_sample_generate_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "sample",
            "generate",
            "--out",
            str(tmp_path),
            "--seed",
            "5",
            "--start",
            "2024-06-01",
            "--days",
            "20",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    orders = pl.read_csv(tmp_path / "canonical/orders.csv", infer_schema=False)
    assert doc["order_lines"] == orders.height > 0 and doc["seed"] == 5 and doc["days"] == 20
    assert orders["created_at_utc"].min() >= "2024-05-31T16:00:00Z"
    assert orders["created_at_utc"].max() < "2024-06-20T16:00:00Z"
    bad = CliRunner().invoke(main, ["sample", "generate", "--out", str(tmp_path), "--defects", "2"])
    assert bad.exit_code == 2 and "between 0 and 0.5" in bad.output


def test_tiny_defected_world_is_fast(tmp_path: Path) -> None:
    t0 = datetime.now(UTC)
    summary = generate(tmp_path, "small", seed=1, defects=0.1)
    assert (datetime.now(UTC) - t0).total_seconds() < 5
    assert summary.defects > 0.05 * summary.order_lines
