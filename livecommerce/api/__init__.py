"""The read-only JSON API for analysts, on the dashboard's server under ``/api/v1/``.

>>> register(app.server, engine)        # create_app does it

Endpoints (all ``GET``, documented in ``docs/openapi.yaml``):

- ``/api/v1/kpis`` — KPIs per overview, host, county or product (``reports.kpi_document``, yuan);
- ``/api/v1/forecasts`` — the latest stored forecast per product and day (``forecast.store``);
- ``/api/v1/recommendations/price`` — tonight's price per product (``livecommerce.recommend``);
- ``/api/v1/recommendations/stock`` — the stock to prepare per product (``livecommerce.recommend``).

Every request carries ``Authorization: Bearer <token>`` (``livecommerce users token``); the
token's user gives the scope, exactly as in the dashboard: naming a host, county or product outside
it answers 403 (audited), and every row comes from ``queries`` under that scope (and, on PostgreSQL,
the row-level security policies). Filters: ``county``, ``host``, ``product`` (repeat the parameter for
several), ``from``
and ``to`` (local dates), ``platform``; pages of ``per_page`` rows (``page`` from 1); ``format=csv``
(or ``Accept: text/csv``) for CSV with spreadsheet formulas neutralised. Every answer with data is an
``export`` in the audit log. No CORS headers: other sites' scripts cannot read it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import flask
import polars as pl
from sqlalchemy.engine import Engine

from livecommerce import auth, queries
from livecommerce.queries import Filters
from livecommerce.schemas import PLATFORMS
from livecommerce.scope import Scope

__all__ = ["PREFIX", "ApiError", "blueprint", "csv_body", "register"]

PREFIX = "/api/v1"
_LEVELS = ("overview", "host", "county", "product")
_ENGINE = "livecommerce.api.engine"


class ApiError(Exception):
    """An API request that cannot be answered: HTTP ``status``, a short ``code`` and a message in
    English and Chinese."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# --- request parsing ------------------------------------------------------------------------


def _ids(name: str) -> list[str]:
    values = [v for v in flask.request.args.getlist(name) if v]  # repeat the parameter: ids may hold commas
    if any(len(v) > 128 for v in values):
        raise ApiError(400, "bad_request", f"{name}: ids are at most 128 characters / {name} 编号过长")
    return list(dict.fromkeys(values))


def _date(name: str) -> dt.date | None:
    raw = flask.request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"{name} must be a date YYYY-MM-DD / {name} 须为日期 YYYY-MM-DD") from exc


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = flask.request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"{name} must be a whole number / {name} 须为整数") from exc
    if not low <= value <= high:
        raise ApiError(400, "bad_request", f"{name} must be between {low} and {high} / {name} 须在 {low}–{high} 之间")
    return value


def _choice(name: str, options: Sequence[str], default: str) -> str:
    value = flask.request.args.get(name) or default
    if value not in options:
        raise ApiError(400, "bad_request", f"{name} must be one of {', '.join(options)} / {name} 取值无效")
    return value


def _filters() -> Filters:
    start, end = _date("from"), _date("to")  # from after to: an empty period, no rows
    platform = flask.request.args.get("platform") or None
    if platform is not None and platform not in PLATFORMS:
        raise ApiError(400, "bad_request", f"platform must be one of {', '.join(PLATFORMS)} / 平台无效")
    return Filters(start, end, platform)


def _format() -> str:
    wanted = flask.request.args.get("format")
    if wanted is None:
        best = flask.request.accept_mimetypes.best_match(["application/json", "text/csv"], default="application/json")
        return "csv" if best == "text/csv" else "json"
    return _choice("format", ("json", "csv"), "json")


@dataclass(frozen=True)
class _Caller:
    user: auth.User
    scope: Scope


def _caller() -> _Caller:
    found = flask.g.get("api_caller")
    assert isinstance(found, _Caller)
    return found


def _engine() -> Engine:
    engine = flask.current_app.extensions[_ENGINE]
    assert isinstance(engine, Engine)
    return engine


def _checked(hosts: Sequence[str] = (), counties: Sequence[str] = (), products: Sequence[str] = ()) -> None:
    caller = _caller()
    outside = auth.out_of_scope(_engine(), caller.scope, hosts=hosts, counties=counties, products=products)
    if outside:
        auth.audit(
            _engine(),
            "denied",
            user=caller.user,
            ip=flask.request.remote_addr,
            target=f"api {flask.request.path}: out of scope",
            detail={"ids": outside},
        )
        raise ApiError(403, "forbidden", "not allowed: outside what you may see / 无权访问：超出您的数据范围")


# --- answers ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def csv_body(rows: Sequence[dict[str, Any]]) -> str:
    """Return ``rows`` as CSV text: the union of their keys as the header (first-seen order), lists
    joined by ``; ``, and every text value neutralised against spreadsheet formula injection."""
    from livecommerce.sheets import csv_text, neutralised

    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    lines = [[neutralised(n) for n in names]]
    for r in rows:
        cells = []
        for n in names:
            v = _plain(r.get(n))
            if isinstance(v, list):
                v = "; ".join(str(x) for x in v)
            elif isinstance(v, dict):
                v = json.dumps(v, ensure_ascii=False)
            cells.append(neutralised(v))
        lines.append(cells)
    return csv_text(lines)


def _page_of(items: Sequence[Any], default_per_page: int, max_per_page: int) -> tuple[list[Any], int, int]:
    page = _int("page", 1, 1, 1_000_000)
    per_page = _int("per_page", default_per_page, 1, max_per_page)
    start = (page - 1) * per_page
    return list(items[start : start + per_page]), page, per_page


def _answer(rows: list[dict[str, Any]], total: int, page: int, per_page: int) -> flask.Response:
    fmt = _format()
    more = page * per_page < total
    args = flask.request.args.to_dict(flat=False)
    args["page"] = [str(page + 1)]
    next_url = f"{flask.request.path}?{urlencode(args, doseq=True)}" if more else None
    caller = _caller()
    auth.audit(
        _engine(),
        "export",
        user=caller.user,
        ip=flask.request.remote_addr,
        target=f"api {flask.request.path}",
        detail={"format": fmt, "rows": len(rows), "page": page, "query": flask.request.query_string.decode()[:500]},
    )
    if fmt == "csv":
        resp = flask.Response(csv_body(rows), mimetype="text/csv")
        resp.headers["Content-Disposition"] = f'attachment; filename="{flask.request.path.rsplit("/", 1)[-1]}.csv"'
    else:
        doc = {"data": [_plain(r) for r in rows], "page": page, "per_page": per_page, "total": total, "next": next_url}
        resp = flask.Response(json.dumps(doc, ensure_ascii=False), mimetype="application/json")
    resp.headers["X-Total-Count"] = str(total)
    if next_url:
        resp.headers["Link"] = f'<{next_url}>; rel="next"'
    return resp


# --- what a caller may list -----------------------------------------------------------------


def _products(scope: Scope, counties: list[str], hosts: list[str], products: list[str]) -> list[str]:
    """Return the product ids the request covers: the visible products, narrowed to ``products``, to the
    products of ``counties`` and to those ``hosts`` sold; sorted."""
    engine = _engine()
    listed = queries.directory(engine, scope)["products"]
    if listed.is_empty():
        return []
    if counties:
        listed = listed.filter(pl.col("county_id").is_in(counties))
    ids = listed["product_id"].to_list()
    if products:
        ids = [p for p in ids if p in set(products)]
    if hosts:
        sold: set[str] = set()
        for h in hosts:
            top = queries.top_products(engine, scope, limit=1_000_000, level="host", key=h)
            if top.height:
                sold |= set(top["product_key"].to_list())
        ids = [p for p in ids if p in sold]
    return sorted(ids)


def kpis() -> flask.Response:
    """``GET /api/v1/kpis``: one row per overview, host, county or product (``level``) with the KPIs
    (registry names, money in yuan), the previous period (``<kpi>_prev``) and, for hosts, their county
    position."""
    from livecommerce.reports import kpi_document

    level = _choice("level", _LEVELS, "overview")
    counties, hosts, products = _ids("county"), _ids("host"), _ids("product")
    _checked(hosts, counties, products)
    f = _filters()
    scope, engine = _caller().scope, _engine()
    if level == "overview":
        keys: list[str | None] = [None]
    else:
        d = queries.directory(engine, scope)
        if level == "host":
            frame = d["hosts"]
            if counties:
                frame = frame.filter(pl.col("county_id").is_in(counties))
            keys = [k for k in frame["host_id"].to_list() if not hosts or k in hosts] if frame.height else []
        elif level == "county":
            frame = d["counties"]
            keys = [k for k in frame["county_id"].to_list() if not counties or k in counties] if frame.height else []
        else:
            keys = list(_products(scope, counties, hosts, products))
    page_keys, page, per_page = _page_of(sorted(keys, key=lambda k: k or ""), 100, 500)
    rows = []
    for key in page_keys:
        doc = kpi_document(engine, scope, level, key, f)  # type: ignore[arg-type]
        if doc is None:
            continue
        row: dict[str, Any] = {k: doc[k] for k in ("level", "key", "from", "to", "platform")}
        row.update(doc["kpis"])
        row.update({f"{k}_prev": v for k, v in (doc.get("previous") or {}).items()})
        row.update(doc.get("position") or {})
        rows.append(row)
    return _answer(rows, len(keys), page, per_page)


def forecasts() -> flask.Response:
    """``GET /api/v1/forecasts``: the latest stored forecast (units per local day: mean, q10, q50, q90,
    model, cutoff, run) of each product the request covers, days ``from``..``to``, as of ``as_of``."""
    from livecommerce.forecast.store import latest_forecast

    counties, hosts, products = _ids("county"), _ids("host"), _ids("product")
    _checked(hosts, counties, products)
    f = _filters()
    as_of = _date("as_of")
    ids = _products(_caller().scope, counties, hosts, products)
    fc = latest_forecast(_engine(), ids, as_of) if ids else pl.DataFrame()
    if fc.height:
        if f.start:
            fc = fc.filter(pl.col("ds") >= f.start)
        if f.end:
            fc = fc.filter(pl.col("ds") <= f.end)
        fc = fc.rename({"unique_id": "product_id"}).sort("product_id", "ds")
    rows = fc.to_dicts() if fc.height else []
    page_rows, page, per_page = _page_of(rows, 500, 5000)
    return _answer(page_rows, len(rows), page, per_page)


def price_recommendations() -> flask.Response:
    """``GET /api/v1/recommendations/price``: tonight's price per product with the elasticity, the
    expected units and profit with their ranges and the reasons (``error`` when there is none)."""
    from livecommerce.recommend import NoRecommendation
    from livecommerce.recommend import price_recommendations as advise

    counties, hosts, products = _ids("county"), _ids("host"), _ids("product")
    _checked(hosts, counties, products)
    test_sessions = _int("sessions", 6, 1, 30)
    scope = _caller().scope
    ids = _products(scope, counties, hosts, products)
    page_ids, page, per_page = _page_of(ids, 20, 100)
    rows: list[dict[str, Any]] = []
    if page_ids:
        try:
            advice = advise(_engine(), page_ids, scope, test_sessions=test_sessions)
        except NoRecommendation as exc:
            advice = []
            rows = [{"product_id": p, "error": str(exc)} for p in page_ids]
        for a in advice:
            if a.error is not None:
                rows.append({"product_id": a.sku, "error": a.error})
                continue
            rec = a.recommendation.as_dict()
            rows.append(
                {
                    "product_id": a.sku,
                    "status": rec["status"],
                    "current_price": rec["current_price"],
                    "price": rec["price"],
                    "change": rec["change"],
                    "elasticity": rec["elasticity"],
                    "ci_low": rec["ci_low"],
                    "ci_high": rec["ci_high"],
                    "expected_units": rec["expected_units"],
                    "units_low": rec["units_low"],
                    "units_high": rec["units_high"],
                    "expected_profit": rec["expected_profit"],
                    "profit_low": rec["profit_low"],
                    "profit_high": rec["profit_high"],
                    "unit_cost": a.inputs.get("unit_cost"),
                    "sessions": a.inputs.get("sessions"),
                    "price_test": [s["price"] for s in rec.get("price_test") or []],
                    "reasons": rec["reasons"],
                    "error": None,
                }
            )
    return _answer(rows, len(ids), page, per_page)


def stock_recommendations() -> flask.Response:
    """``GET /api/v1/recommendations/stock``: the units to prepare per product for the next ``days``
    days or one ``session_day``, with the demand quantiles and the plan's risks (``error`` when there
    is none)."""
    from livecommerce.recommend import NoRecommendation, stock_recommendation

    counties, hosts, products = _ids("county"), _ids("host"), _ids("product")
    _checked(hosts, counties, products)
    session_day = _date("session_day")
    days = None if session_day else _int("days", 7, 1, 120)
    penalty = float(_int("penalty", 0, 0, 100_000))
    scope = _caller().scope
    ids = _products(scope, counties, hosts, products)
    page_ids, page, per_page = _page_of(ids, 20, 100)
    rows: list[dict[str, Any]] = []
    for pid in page_ids:
        try:
            advice = stock_recommendation(_engine(), pid, scope, session_day=session_day, days=days, penalty=penalty)
        except (NoRecommendation, ValueError) as exc:
            rows.append({"product_id": pid, "error": str(exc)})
            continue
        plan = advice.plan.as_dict()
        rows.append(
            {
                "product_id": pid,
                "covers": advice.covers,
                **{k: v for k, v in plan.items() if k not in ("demand_quantiles", "reasons")},
                **{f"demand_{k.replace('.', '')}": v for k, v in (plan.get("demand_quantiles") or {}).items()},
                "price": advice.inputs["price"],
                "unit_cost": advice.inputs["unit_cost"],
                "forecast_model": advice.inputs["forecast_model"],
                "reasons": plan.get("reasons") or [],
                "error": None,
            }
        )
    return _answer(rows, len(ids), page, per_page)


_ROUTES: dict[str, Callable[[], flask.Response]] = {
    "/kpis": kpis,
    "/forecasts": forecasts,
    "/recommendations/price": price_recommendations,
    "/recommendations/stock": stock_recommendations,
}


def _error(status: int, code: str, message: str) -> flask.Response:
    resp = flask.Response(json.dumps({"error": code, "message": message}, ensure_ascii=False), status=status)
    resp.mimetype = "application/json"
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="livecommerce"'
    return resp


def blueprint() -> flask.Blueprint:
    """Return a new blueprint of the API (token check, scope per request, the four routes, JSON errors)."""
    bp = flask.Blueprint("livecommerce_api", __name__, url_prefix=PREFIX)

    @bp.before_request
    def _authenticate() -> flask.Response | None:
        header = flask.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = auth.verify_token(_engine(), token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            if header:
                target = f"api {flask.request.path}: bad token"
                auth.audit(_engine(), "denied", ip=flask.request.remote_addr, target=target)
            return _error(401, "unauthenticated", "send Authorization: Bearer <token> / 请提供有效的 API 令牌")
        scope = auth.scope_for(user)
        flask.g.api_caller = _Caller(user, scope)
        flask.g.api_scope_token = auth.bind_scope(scope)
        return None

    @bp.teardown_request
    def _release(_exc: BaseException | None) -> None:
        token = flask.g.pop("api_scope_token", None)
        if token is not None:
            auth.release_scope(token)

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> flask.Response:
        return _error(exc.status, exc.code, exc.message)

    @bp.errorhandler(404)
    def _not_found(_exc: Exception) -> flask.Response:
        return _error(404, "not_found", "no such endpoint: see docs/openapi.yaml / 没有此接口")

    @bp.errorhandler(405)
    def _not_allowed(_exc: Exception) -> flask.Response:
        return _error(405, "method_not_allowed", "the API is read-only: GET only / 接口只读，仅支持 GET")

    for path, view in _ROUTES.items():
        bp.add_url_rule(path, view.__name__, view, methods=["GET"])
    return bp


def register(server: flask.Flask, engine: Engine) -> None:
    """Mount the API on ``server`` under ``/api/v1/``, reading ``engine``."""
    server.extensions[_ENGINE] = engine
    server.register_blueprint(blueprint())
