"""``livecommerce serve`` and ``livecommerce demo``: start the dashboard; build the sample world first.

``serve`` runs the dashboard on the configured warehouse (Dash's development server, or waitress
with ``--prod``), with logins: it refuses to start without ``LIVECOMMERCE_SECRET_KEY``. ``demo`` is
the newcomer's first command: it loads ``sample_data/`` with the same ETL as ``livecommerce etl
load`` (files already loaded are skipped by the ETL's manifest), runs the forecasts once, seeds one
demo user per role with fresh passwords and prints their logins, then serves the dashboard (with a
random secret key unless one is set) and prints its URL.
"""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import Any

import click

from livecommerce.cli._base import AppContext, friendly_errors, main, pass_app

#: where ``livecommerce demo`` finds the sample world in a source checkout (``pip install -e .``)
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"

_HOST = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
_PORT = click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535), help="Port.")


def _serve(app: AppContext, host: str, port: int, prod: bool, *, demo: bool = False) -> None:
    from livecommerce.dashboard import create_app, settle

    settings = app.settings
    if not settings.secret_key:
        if not demo:
            raise click.ClickException(
                "LIVECOMMERCE_SECRET_KEY is not set: the dashboard signs login sessions with it. Set it to a "
                "long random string (python -c 'import secrets; print(secrets.token_urlsafe(48))') and keep it "
                "secret / 未设置 LIVECOMMERCE_SECRET_KEY：请设置为一段足够长的随机字符串后再启动"
            )
        settings = dataclasses.replace(settings, secret_key=secrets.token_urlsafe(48))  # demo: sessions end on exit
    dash_app = create_app(settings, app.engine, login=True)
    settle()  # this process only serves from here on: start-up's objects out of the collector's full passes
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    click.echo(f"dashboard / 看板: {url}  (Ctrl+C to stop / 按 Ctrl+C 停止)", err=True)
    if prod:
        from waitress import serve as waitress_serve

        waitress_serve(dash_app.server, host=host, port=port, threads=8, ident="livecommerce")
    else:
        dash_app.run(host=host, port=port, debug=False)


@main.command()
@_HOST
@_PORT
@click.option("--prod", is_flag=True, help="Serve with waitress, a production WSGI server (else Dash's dev server).")
@pass_app
@friendly_errors
def serve(app: AppContext, host: str, port: int, prod: bool) -> None:
    """Start the dashboard on the configured warehouse. / 启动看板。"""
    _serve(app, host, port, prod)


def _loaded(app: AppContext, folder: Path) -> dict[str, Any]:
    from etl.jobs import load_paths  # the CLI is the wiring point between livecommerce and etl

    reports = load_paths(app.engine, [folder])
    by_status: dict[str, list[str]] = {}
    for r in reports:
        by_status.setdefault(r.status, []).append(Path(r.path).name)
    return {"files": by_status, "rows": sum(r.inserted + r.updated for r in reports)}


#: the demo's users: (username, role); the streamer gets the first host of a county, the envoy its county
DEMO_USERS = (
    ("demo-streamer", "streamer"),
    ("demo-envoy", "envoy"),
    ("demo-analyst", "analyst"),
    ("demo-admin", "admin"),
)


def _demo_users(app: AppContext) -> list[dict[str, Any]]:
    """Create (or give new passwords to) one demo user per role; return their logins."""
    from livecommerce import auth, queries

    hosts = queries.directory(app.engine, queries.Scope.everything())["hosts"]
    placed = [r for r in hosts.iter_rows(named=True) if r["county_id"]] if hosts.height else []
    if not placed:
        return []
    host, county = placed[0]["host_id"], placed[0]["county_id"]
    logins = []
    for username, role in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        bindings = {"streamer": {"hosts": [host]}, "envoy": {"counties": [county]}}.get(role, {})
        if auth.user_by_name(app.engine, username) is None:
            auth.add_user(app.engine, username, password, role, **bindings)
        else:
            auth.set_password(app.engine, username, password)
        sees = host if role == "streamer" else county if role == "envoy" else "all / 全部"
        logins.append({"username": username, "password": password, "role": role, "sees": sees})
    return logins


def _forecasts(app: AppContext) -> str:
    try:
        from livecommerce.forecast import store
    except ImportError:  # pragma: no cover - older checkouts
        return "forecasts: skipped (no forecast store in this version) / 预测：跳过（此版本无预测存储）"
    if not hasattr(store, "run_from_warehouse"):  # pragma: no cover
        return "forecasts: skipped (no forecast run in this version) / 预测：跳过"
    if store.runs(app.engine, limit=1).height:
        return "forecasts: already run (livecommerce forecast run to refresh) / 预测：已有结果"
    from livecommerce import planner

    run_id, fc = store.run_from_warehouse(app.engine, 28)
    planner.store_demand_model(app.engine)  # what building a plan reads instead of refitting
    return f"forecasts: run {run_id}, {fc['unique_id'].n_unique()} products, 28 days / 预测：已完成"


@main.command()
@_HOST
@_PORT
@click.option(
    "--data",
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Sample world to load (default: the checkout's sample_data/canonical).",
)
@click.option("--no-forecast", is_flag=True, help="Do not run the forecasts.")
@click.option("--no-serve", is_flag=True, help="Build the warehouse and exit without serving.")
@pass_app
@friendly_errors
def demo(app: AppContext, host: str, port: int, folder: Path | None, no_forecast: bool, no_serve: bool) -> None:
    """Load the sample world, run the forecasts and start the dashboard. / 导入示例数据并启动看板。"""
    from livecommerce.warehouse import init

    folder = folder or SAMPLE_DATA / "canonical"
    if not folder.is_dir():
        raise click.ClickException(
            f"no sample world at {folder}: run from a source checkout or pass --data DIR "
            f"(livecommerce sample generate --out DIR) / 找不到示例数据 {folder}：请在源码目录运行或用 --data 指定"
        )
    init(app.engine)
    done = _loaded(app, folder)
    counts = ", ".join(f"{status} {len(names)}" for status, names in sorted(done["files"].items()))
    click.echo(f"sample world / 示例数据 ({folder}): {counts}; {done['rows']} rows written", err=True)
    if done["files"].get("skipped"):
        click.echo(f"  skipped (not supported by this ETL yet): {', '.join(done['files']['skipped'])}", err=True)
    if done["files"].get("refused"):
        raise click.ClickException(f"refused: {', '.join(done['files']['refused'])} / 以下文件被拒绝")
    if not no_forecast:
        click.echo("forecasting / 预测中…", err=True)
        click.echo(_forecasts(app), err=True)
    logins = _demo_users(app)
    if logins:
        click.echo("demo logins / 演示账号 (new passwords each run / 每次运行重新生成密码):", err=True)
        for u in logins:
            click.echo(f"  {u['username']:<14} {u['password']:<14} {u['role']:<9} sees / 可见: {u['sees']}", err=True)
    if no_serve:
        click.echo(f"ready / 就绪: livecommerce serve --port {port}", err=True)
        return
    _serve(app, host, port, prod=True, demo=True)


serve.callback.no_json = True  # type: ignore[union-attr]  # starts a server, reports nothing
demo.callback.no_json = True  # type: ignore[union-attr]

__all__ = ["demo", "serve"]
