"""Time every dashboard callback server-side, through the app's own HTTP endpoint.

Builds (or reuses, under ``bench_data/``) a simulated world of the chosen scale loaded by the ETL,
creates the app, then POSTs realistic requests to ``/_dash-update-component`` with the Flask test
client — the same JSON the browser sends — for every registered callback, varying hosts, sessions,
counties, products and date ranges. While a request runs, the time spent inside the
``livecommerce.queries`` functions (and ``etl.jobs.runs/rejects``, the forecast store's reads and the
planner's calls) it calls is measured too, so each callback's p95 is printed next to the p95 of the
library calls it wraps and their ratio. ``--callback NAME`` (repeatable) times only those callbacks.

    python benchmarks/bench_dashboard.py --scale small           # a quick run (~1 min)
    python benchmarks/bench_dashboard.py --scale medium --scale large --repeat 20

With two scales the last column is the p95 ratio (second / first); the worlds take turns request by
request, so that drift of the shared machine falls on both. The plan page's callbacks whose work grows
with the plan (building and saving a plan) are also printed per proposed session: a county of the large
world plans about twice the sessions of one of the medium world. Until the ETL loads live
sessions (issue 5), the sessions, minute curves and explain windows of the world are seeded with
the tests' helper so the host pages have real work to do.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import functools
import gc
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_QUERY_SECONDS = [0.0]
_JSON = "application/json"


_DEPTH = [0]  # timed calls under way: one timed inside another (adjust_session -> detail_sessions) counts once


def _timed(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        _DEPTH[0] += 1
        try:
            return func(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1
            if not _DEPTH[0]:
                _QUERY_SECONDS[0] += time.perf_counter() - t0

    return wrapper


@contextlib.contextmanager
def _queries_timed() -> Iterator[None]:
    """Wrap every public function of ``livecommerce.queries`` (and etl's run listings, the stored
    forecast reads the product page makes, and the planner calls the plan page wraps: reading saved
    plans, plan vs actual, the demand model, building, detailing and adjusting a plan) with a timer; a
    timed call made inside another counts once."""
    import etl.jobs
    from livecommerce import planner, queries
    from livecommerce.forecast import store

    saved = []
    for module, names in (
        (queries, queries.__all__),
        (etl.jobs, ("runs", "rejects")),
        (store, ("latest_forecast", "backtest_metrics", "latest_total")),
        (
            planner,
            (
                "plans",
                "plan_vs_actual",
                "plan_from_warehouse",
                "adjust_session",
                "detail_sessions",
                "demand_model",
                "save_plan",
            ),
        ),
    ):
        for name in names:
            obj = getattr(module, name)
            if callable(obj) and not isinstance(obj, type):
                saved.append((module, name, obj))
                setattr(module, name, _timed(obj))
    try:
        yield
    finally:
        for module, name, obj in saved:
            setattr(module, name, obj)


def world(scale: str, data_dir: Path) -> str:
    """Return the URL of a SQLite warehouse holding the simulated world of ``scale`` (built once)."""
    from etl.jobs import load_paths
    from livecommerce import planner
    from livecommerce.forecast import store
    from livecommerce.simulate import generate
    from livecommerce.warehouse import connect, init, rollup_statistics_refreshed
    from tests.conftest import _sessions_seeded

    db = data_dir / f"dashboard-{scale}.db"
    url = f"sqlite:///{db}"
    if db.exists():
        engine = connect(url)
        init(engine)  # a world built by an earlier checkout: migrate it
        if not store.runs(engine, limit=1).height:
            store.run_from_warehouse(engine, 28, windows=3)
        if not _planner_stored(engine):
            planner.store_demand_model(engine)
        with engine.begin() as conn:  # what today's ETL does after a load
            rollup_statistics_refreshed(conn)
        engine.dispose()
        return url
    folder = data_dir / f"world-{scale}"
    if not (folder / "canonical").is_dir():
        t0 = time.perf_counter()
        generate(folder, scale=scale, seed=42)
        print(f"[{scale}] generated in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    engine = connect(f"sqlite:///{db}.part")
    init(engine)
    t0 = time.perf_counter()
    load_paths(engine, [folder / "canonical"])
    _sessions_seeded(engine, str(folder))
    print(f"[{scale}] loaded in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    # as deployed: the nightly `livecommerce forecast run` stores forecasts and the stock totals that
    # the product page reads (a page without a stored run fits on the fly and says so)
    t1 = time.perf_counter()
    store.run_from_warehouse(engine, 28, windows=3)
    planner.store_demand_model(engine)  # the run also stores the planner's model
    print(f"[{scale}] forecast run stored in {time.perf_counter() - t1:.0f}s", file=sys.stderr)
    engine.dispose()
    Path(f"{db}.part").rename(db)
    return url


def _without_saved_plans(engine: Any) -> None:
    """Delete the world's saved plans before a run: the bench saves each county's plan itself (once, then again
    on every ``save_plan`` request), and a world used for other work in between (a profiling script saving other
    dates, a model refitted after an upload) would carry more saved sessions per county into the timing of the
    saved-session list and the saves (seen: 147-189 saved sessions a large county read 1.71 instead of 1.17)."""
    from sqlalchemy import delete

    from livecommerce.warehouse.tables import SessionPlan, SessionPlanItem

    with engine.begin() as conn:
        conn.execute(delete(SessionPlanItem.__table__))
        conn.execute(delete(SessionPlan.__table__))


def _planner_stored(engine: Any) -> bool:
    from sqlalchemy import func, select

    from livecommerce.warehouse.tables import PlannerModel

    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(PlannerModel.__table__)).scalar())


def _body(
    output: str, outputs: Any, inputs: list[dict[str, Any]], state: list[Any] | None = None, changed: str | None = None
) -> dict[str, Any]:
    """A request as the browser posts it; ``changed``: the ``id.property`` that fired it (``dash.ctx.triggered_id``)."""
    fired = [changed] if changed else []
    return {"output": output, "outputs": outputs, "inputs": inputs, "state": state or [], "changedPropIds": fired}


def _prop(cid: Any, prop: str, value: Any = None) -> dict[str, Any]:
    return {"id": cid, "property": prop, "value": value}


def _outputs(key: str) -> Any:
    """Return the ``outputs`` part of a request for callback map ``key`` (one or several outputs)."""
    if not key.startswith(".."):
        cid, prop = key.rsplit(".", 1)
        return {"id": cid, "property": prop}
    outs = []
    for part in key.strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": json.loads(cid) if cid.startswith("{") else cid, "property": prop})
    return outs


def requests(app: Any, url: str, seed: int, n: int) -> dict[str, list[dict[str, Any]]]:
    """Return ``n`` realistic request bodies per callback (keyed by the callback function's name).

    What a request asks for in every world (its date range, platform, language and county: the
    counties are the same in every world) is drawn from one random stream, and the world's own hosts,
    sessions and products from another, so that two worlds are timed on the same mix of requests."""
    rng = random.Random(seed)  # the request's shape: the same sequence in every world
    own = random.Random(seed + 1)  # this world's hosts, sessions and products
    from livecommerce.config import load_settings
    from livecommerce.dashboard import default_dates, ids
    from livecommerce.dashboard.callbacks import county, data, host, overview, product
    from livecommerce.dashboard.data import Source, filters_from
    from livecommerce.dashboard.i18n import keys
    from livecommerce.queries import directory
    from livecommerce.warehouse import connect

    engine = connect(url)
    source = Source(engine, load_settings({"LIVECOMMERCE_DB_URL": url}))
    start, end = default_dates(source)
    names = directory(engine, source.scope())
    hosts = names["hosts"]["host_id"].to_list()
    counties = names["counties"]["county_id"].to_list()
    products = names["products"]["product_id"].to_list()
    ranges = [(start, end), (None, None), (start.replace(day=1), end)]  # type: ignore[union-attr]
    by_key = {v["callback"].__name__: k for k, v in app.callback_map.items() if "callback" in v}  # server-side

    def dates() -> list[dict[str, Any]]:
        a, b = rng.choice(ranges)
        return [_prop(ids.DATES, "start_date", a and a.isoformat()), _prop(ids.DATES, "end_date", b and b.isoformat())]

    out: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def lang() -> dict[str, Any]:
        return _prop(ids.LANG, "value", rng.choice(["zh", "en"]))

    text_ids = [ids.text(k) for k in keys()[:40]]
    runs = data.runs(engine)
    counties_csv = (ROOT / "sample_data" / "canonical" / "counties.csv").read_bytes()
    for _ in range(n):
        h, c = own.choice(hosts), rng.choice(counties)
        platform = _prop(ids.PLATFORM, "value", rng.choice([None, None, "taobao", "douyin"]))
        f = dates()
        o_data = overview.load(
            source,
            filters_from(f[0]["value"], f[1]["value"], platform["value"]),
        )
        h_data = host.load(
            source,
            h,
            filters_from(f[0]["value"], f[1]["value"], platform["value"]),
        )
        keys_ = [host.session_key(r["platform_id"], r["session_id"]) for r in h_data.get("sessions", [])]
        s_key = own.choice(keys_) if keys_ else None
        s_data = host.load_session(source, s_key)
        c_data = county.load(
            source,
            c,
            filters_from(f[0]["value"], f[1]["value"], platform["value"]),
        )
        bodies = {
            "switch_language": _body(
                by_key["switch_language"],
                _outputs(by_key["switch_language"]),
                [lang()],
                [[_prop(i, "id", i) for i in text_ids]],
            ),
            "load_overview": _body(by_key["load_overview"], _outputs(by_key["load_overview"]), [*f, platform]),
            "render_overview": _body(
                by_key["render_overview"],
                _outputs(by_key["render_overview"]),
                [_prop(ids.OVERVIEW_DATA, "data", o_data), lang()],
            ),
            "load_host": _body(
                by_key["load_host"], _outputs(by_key["load_host"]), [_prop(ids.HOST_PICK, "value", h), *f, platform]
            ),
            "render_host": _body(
                by_key["render_host"], _outputs(by_key["render_host"]), [_prop(ids.HOST_DATA, "data", h_data), lang()]
            ),
            "pick_session": _body(
                by_key["pick_session"],
                _outputs(by_key["pick_session"]),
                [_prop(ids.SESSION_PICK, "options", [{"label": k, "value": k} for k in keys_])],
                [_prop(ids.SESSION_WANTED, "data", None), _prop(ids.SESSION_PICK, "value", None)],
            ),
            "load_replay": _body(
                by_key["load_replay"], _outputs(by_key["load_replay"]), [_prop(ids.SESSION_PICK, "value", s_key)]
            ),
            "render_replay": _body(
                by_key["render_replay"],
                _outputs(by_key["render_replay"]),
                [_prop(ids.SESSION_DATA, "data", s_data), lang()],
            ),
            "load_county": _body(
                by_key["load_county"],
                _outputs(by_key["load_county"]),
                [_prop(ids.COUNTY_PICK, "value", c), *f, platform],
            ),
            "render_county": _body(
                by_key["render_county"],
                _outputs(by_key["render_county"]),
                [_prop(ids.COUNTY_DATA, "data", c_data), lang()],
            ),
            "load_runs": _body(
                by_key["load_runs"], _outputs(by_key["load_runs"]), [_prop(ids.DATA_UPLOAD_RESULT, "children", None)]
            ),
            "render_runs": _body(
                by_key["render_runs"],
                _outputs(by_key["render_runs"]),
                [_prop(ids.DATA_RUNS_STORE, "data", runs), lang()],
            ),
            "pick_run": _body(
                by_key["pick_run"],
                _outputs(by_key["pick_run"]),
                [
                    _prop(
                        ids.DATA_RUN_PICK, "options", [{"value": r["run_id"], "rejected": r["rejected"]} for r in runs]
                    )
                ],
                [_prop(ids.DATA_RUN_PICK, "value", None)],
            ),
            "load_rejects": _body(
                by_key["load_rejects"],
                _outputs(by_key["load_rejects"]),
                [_prop(ids.DATA_RUN_PICK, "value", runs[0]["run_id"] if runs else None)],
            ),
            "upload_export": _body(
                by_key["upload_export"],
                _outputs(by_key["upload_export"]),
                [_prop(ids.DATA_UPLOAD, "contents", "data:text/csv;base64," + base64.b64encode(counties_csv).decode())],
                [_prop(ids.DATA_UPLOAD, "filename", "counties.csv"), _prop(ids.LANG, "value", "zh")],
            ),
        }
        for name, body in bodies.items():
            out[name].append(body)
    # product pages: the stored run's forecast and totals; fewer, different products
    for p in own.sample(products, min(len(products), max(2, n // 4))):
        p_data = product.load(source, p, 14)
        out["load_product"].append(
            _body(
                by_key["load_product"],
                _outputs(by_key["load_product"]),
                [_prop(ids.PRODUCT_PICK, "value", p), _prop(ids.PRODUCT_HORIZON, "value", 14)],
            )
        )
        out["render_product"].append(
            _body(
                by_key["render_product"],
                _outputs(by_key["render_product"]),
                [_prop(ids.PRODUCT_DATA, "data", p_data), lang()],
            )
        )
        out["download_csv"].append(
            _body(
                by_key["download_csv"],
                _outputs(by_key["download_csv"]),
                [_prop(ids.PRODUCT_CSV_BUTTON, "n_clicks", 1)],
                [_prop(ids.PRODUCT_DATA, "data", p_data)],
            )
        )
    # plan page: building a plan fits the planner's models (compute, like forecasting); the other
    # plan callbacks render a built plan, list saved sessions and compare one with what sold
    import polars as pl

    from livecommerce.dashboard.callbacks import plan

    end_day = end if isinstance(end, dt.date) else dt.date.fromisoformat(str(end)[:10])
    past = (end_day - dt.timedelta(days=13)).isoformat()  # a plan over the last two weeks: actuals exist
    rng.seed(seed + 2)  # the plan requests' shapes do not depend on how many products a world has
    # n requests each, like every other callback, the counties in turn (a world has a handful: one request per
    # county made the p95 of a plan callback the slowest of five or six requests, whichever caught a pause of the
    # machine; with n // 5 = 20 it was the second slowest, and one pause still moved it)
    turn = rng.sample(counties, len(counties))
    for c in (turn[k % len(turn)] for k in range(max(2, n))):
        out["plan_hosts"].append(
            _body(by_key["plan_hosts"], _outputs(by_key["plan_hosts"]), [_prop(ids.PLAN_COUNTY, "value", c)])
        )
        states = [
            _prop(ids.PLAN_COUNTY, "value", c),
            _prop(ids.PLAN_HOST, "value", None),
            _prop(ids.PLAN_START, "date", past),
            _prop(ids.PLAN_DAYS, "value", 14),
            _prop(ids.PLAN_SESSION_PICK, "value", None),
            _prop(ids.PLAN_EDIT_START, "value", None),
            _prop(ids.PLAN_EDIT_PRODUCTS, "value", None),
            _prop(ids.PLAN_ITEMS, "data", None),
            _prop(ids.PLAN_DATA, "data", None),
        ]
        out["update_plan"].append(
            _body(
                by_key["update_plan"],
                _outputs(by_key["update_plan"]),
                [_prop(ids.PLAN_BUILD, "n_clicks", 1), _prop(ids.PLAN_APPLY, "n_clicks", None)],
                states,
            )
        )
        # one host's plan: the same request with a host picked (a county's plan grows with its hosts)
        mine = names["hosts"].filter((pl.col("county_id") == c) & pl.col("platform_id").is_not_null())
        if mine.height:
            picked_host = [_prop(ids.PLAN_HOST, "value", own.choice(mine["host_id"].to_list()))]
            out["update_plan[host]"].append(
                _body(
                    by_key["update_plan"],
                    _outputs(by_key["update_plan"]),
                    [_prop(ids.PLAN_BUILD, "n_clicks", 1), _prop(ids.PLAN_APPLY, "n_clicks", None)],
                    [states[0], *picked_host, *states[2:]],
                )
            )
        built = plan.build(source, c, None, past, 14)  # the store as the browser holds it (with the products)
        sessions = (built.get("plan") or {}).get("sessions") or []
        picked = sessions[0]["plan_id"] if sessions else None
        if sessions and not plan.saved_options(source, c):
            plan.save(source, built, "zh")  # once per county, so that plan-vs-actual has a session to compare
        saved = plan.saved_options(source, c)
        # the list and the session view get what the browser takes out of the stored plan for them
        out["render_plan"].append(
            _body(
                by_key["render_plan"],
                _outputs(by_key["render_plan"]),
                [_prop(ids.PLAN_LIST, "data", plan.listing(built)), lang()],
                [_prop(ids.PLAN_SESSION_PICK, "value", picked)],
            )
        )
        out["render_session"].append(
            _body(
                by_key["render_session"],
                _outputs(by_key["render_session"]),
                [_prop(ids.PLAN_PICKED, "data", plan.picked(built, picked)), lang()],
            )
        )
        # saving: the whole plan goes back to the server, is detailed and written (the same sessions again:
        # an upsert); the saved-session list is read again on each county picked and after each save
        out["save_plan"].append(
            _body(
                by_key["save_plan"],
                _outputs(by_key["save_plan"]),
                [_prop(ids.PLAN_SAVE, "n_clicks", 1)],
                [_prop(ids.PLAN_DATA, "data", built), _prop(ids.LANG, "value", "zh")],
            )
        )
        # downloading: the whole plan goes back too, is detailed and written out (CSV and calendar in turn)
        wanted = ids.PLAN_ICS_BUTTON if len(out["download_plan"]) % 2 else ids.PLAN_CSV_BUTTON
        out["download_plan"].append(
            _body(
                by_key["download_plan"],
                _outputs(by_key["download_plan"]),
                [
                    _prop(ids.PLAN_CSV_BUTTON, "n_clicks", 1 if wanted == ids.PLAN_CSV_BUTTON else 0),
                    _prop(ids.PLAN_ICS_BUTTON, "n_clicks", 1 if wanted == ids.PLAN_ICS_BUTTON else 0),
                ],
                [_prop(ids.PLAN_DATA, "data", built), _prop(ids.LANG, "value", "zh")],
                changed=f"{wanted}.n_clicks",
            )
        )
        out["saved_plans"].append(
            _body(
                by_key["saved_plans"],
                _outputs(by_key["saved_plans"]),
                [_prop(ids.PLAN_COUNTY, "value", c), _prop(ids.PLAN_SAVED, "children", "")],
            )
        )
        out["show_actual"].append(
            _body(
                by_key["show_actual"],
                _outputs(by_key["show_actual"]),
                [_prop(ids.PLAN_SAVED_PICK, "value", saved[0]["value"] if saved else None), lang()],
            )
        )
    missing = set(by_key) - {name.split("[")[0] for name in out}
    if missing:
        raise SystemExit(f"no benchmark request for callbacks: {sorted(missing)}")
    engine.dispose()
    return out


def _planned(body: bytes, response: bytes) -> int:
    """The sessions of the plan a request sends (saving) or gets back (building): 0 for any other request.
    A county's plan is work per proposed session, and a county of the large world plans about twice the
    sessions of one of the medium world, so these callbacks are also timed per session (:func:`main`)."""
    from livecommerce.dashboard import ids

    def sessions(data: Any) -> int:
        return len(((data or {}).get("plan") or {}).get("sessions") or []) if isinstance(data, dict) else 0

    sent = json.loads(body)
    for item in sent.get("state") or []:
        if item.get("id") == ids.PLAN_DATA and item.get("property") == "data" and sessions(item.get("value")):
            return sessions(item.get("value"))
    if not response:
        return 0
    found = (json.loads(response).get("response") or {}).get(ids.PLAN_DATA) or {}
    return sessions(found.get("data"))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench(
    urls: dict[str, str], repeat: int, seed: int, only: list[str] | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """Return per world and callback: ``p95`` seconds over the HTTP endpoint, ``query_p95`` seconds
    inside queries, ``n``. The worlds take turns request by request (medium, large, medium, …), so
    that the shared machine's drift falls on both alike; each callback's first request per world (every
    request of a ``render_`` callback) is sent once untimed: the steady state is measured, not the
    process's first use of a figure type."""
    from livecommerce.config import load_settings
    from livecommerce.dashboard import create_app
    from livecommerce.warehouse import connect

    engines, clients, bodies = {}, {}, {}
    for scale, url in urls.items():
        engines[scale] = connect(url)
        _without_saved_plans(engines[scale])  # every run from the same state: the plans it saves itself
        app = create_app(load_settings({"LIVECOMMERCE_DB_URL": url}), engines[scale])
        # each body encoded once, before the clock: the browser encodes what it sends, the server's time starts
        # with the bytes (posting ``json=`` made the test client encode a saved plan's ~300 KB inside the timing)
        bodies[scale] = {
            name: [json.dumps(b).encode() for b in listed] for name, listed in requests(app, url, seed, repeat).items()
        }
        clients[scale] = app.server.test_client()
    results: dict[str, dict[str, dict[str, float]]] = {scale: {} for scale in urls}
    first = next(iter(urls))

    with _queries_timed():
        for name in bodies[first]:
            if only and name not in only:
                continue
            total: dict[str, list[float]] = defaultdict(list)
            inside: dict[str, list[float]] = defaultdict(list)
            per_session: dict[str, list[float]] = defaultdict(list)  # a plan's requests: seconds per session
            planned: dict[str, list[int]] = defaultdict(list)
            # the garbage collector is off while a callback's requests are timed and collects after them
            # (as timeit does): a full collection over this process's heap (both worlds' apps and request
            # bodies) paused 60-380 ms, dozens of times a run, on whichever request was running then
            gc.collect()
            gc.disable()
            try:
                # untimed first (after the collection, whose freed memory the next requests take back):
                # each callback's first request per world, and every request of a render callback (pure
                # figure building from its inputs): a fresh process's first figure of a kind loads plotly's
                # validators for it (~300 ms, once), which would land on whichever world drew it first
                for scale in urls:
                    warm = bodies[scale].get(name, [])
                    for items in warm if name.startswith("render_") else warm[:1]:
                        clients[scale].post("/_dash-update-component", data=items, content_type=_JSON)
                for i in range(max(len(bodies[scale].get(name, [])) for scale in urls)):
                    for scale in urls:
                        items = bodies[scale].get(name, [])
                        if i >= len(items):
                            continue
                        _QUERY_SECONDS[0] = 0.0
                        t0 = time.perf_counter()
                        resp = clients[scale].post("/_dash-update-component", data=items[i], content_type=_JSON)
                        total[scale].append(time.perf_counter() - t0)
                        inside[scale].append(_QUERY_SECONDS[0])
                        if resp.status_code not in (200, 204):
                            raise SystemExit(f"{scale} {name}: HTTP {resp.status_code}: {resp.data[:300]!r}")
                        if name.endswith("_plan"):  # after the clock: how many sessions the request planned
                            n_planned = _planned(items[i], resp.data)
                            if n_planned:
                                per_session[scale].append(total[scale][-1] / n_planned)
                                planned[scale].append(n_planned)
            finally:
                gc.enable()
            for scale in urls:
                if total[scale]:
                    results[scale][name] = {
                        "p95": _p95(total[scale]),
                        "query_p95": _p95(inside[scale]),
                        "n": len(total[scale]),
                    }
                    if per_session[scale]:
                        results[scale][name]["session_p95"] = _p95(per_session[scale])
                        results[scale][name]["sessions"] = sum(planned[scale]) / len(planned[scale])
    for engine in engines.values():
        engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="append", choices=["small", "medium", "large"], help="repeatable")
    parser.add_argument("--repeat", type=int, default=20, help="requests per callback")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench_data")
    parser.add_argument("--callback", action="append", help="time only these callbacks (repeatable; default all)")
    args = parser.parse_args()
    scales = args.scale or ["small"]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    runs = bench({s: world(s, args.data_dir) for s in scales}, args.repeat, args.seed, args.callback)
    first, last = scales[0], scales[-1]
    head = f"{'callback':<18}" + "".join(f"{s + ' p95 ms':>14}{'query ms':>10}{'x query':>8}" for s in scales)
    if len(scales) > 1:
        head += f"{last + '/' + first:>14}"
    print(head)
    for name in runs[first]:
        if any(name not in runs[s] for s in scales):
            continue  # a request one world could not make (e.g. no host to plan for)
        line = f"{name:<18}"
        for s in scales:
            r = runs[s][name]
            ratio = f"{r['p95'] / r['query_p95']:.2f}" if r["query_p95"] > 0 else "—"  # renders wrap no query
            line += f"{r['p95'] * 1000:>14.1f}{r['query_p95'] * 1000:>10.1f}{ratio:>8}"
        if len(scales) > 1:
            line += f"{runs[last][name]['p95'] / runs[first][name]['p95']:>14.2f}"
        print(line)
    # the plan callbacks whose work grows with the plan, per proposed session: how the time scales with the
    # warehouse apart from how many sessions a county plans (the ratio above includes both)
    sized = [n for n in runs[first] if all("session_p95" in runs[s].get(n, {}) for s in scales)]
    if sized:
        print()
        head = f"{'per session':<18}" + "".join(f"{s + ' sessions':>17}{'p95 ms/session':>16}" for s in scales)
        print(head + (f"{last + '/' + first:>14}" if len(scales) > 1 else ""))
        for name in sized:
            line = f"{name:<18}"
            for s in scales:
                line += f"{runs[s][name]['sessions']:>17.1f}{runs[s][name]['session_p95'] * 1000:>16.3f}"
            if len(scales) > 1:
                line += f"{runs[last][name]['session_p95'] / runs[first][name]['session_p95']:>14.2f}"
            print(line)


if __name__ == "__main__":
    main()
