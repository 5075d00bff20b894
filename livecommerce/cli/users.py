"""``livecommerce users add | list | remove | passwd | token | audit | row-security``: a skin over
:mod:`livecommerce.auth`.

Passwords are read with a hidden prompt (asked twice) or, for scripts, one line from standard input
with ``--password-stdin``; never from an argument, which other users could read in ``ps``. Tokens
are printed once and stored only as a hash.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from livecommerce.cli._base import AppContext, emit_json, friendly_errors, main, out_console, pass_app

_JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input (scripts)."
)


@main.group()
def users() -> None:
    """Users, roles, API tokens and the audit log. / 用户、角色、API 令牌与审计日志。"""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: standard input is empty / 标准输入为空")
        return password
    value: str = click.prompt(
        "Password / 密码", hide_input=True, confirmation_prompt="Repeat / 再输入一次", err=True, show_default=False
    )
    return value


def _access_errors(func: Any) -> Any:
    """Turn :class:`livecommerce.auth.AccessError` into a one-line hint (exit 1)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from livecommerce.auth import AccessError

        try:
            return func(*args, **kwargs)
        except AccessError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["streamer", "envoy", "analyst", "admin"]), help="Role.")
@click.option("--host", "hosts", multiple=True, metavar="ID", help="A streamer's host (repeat for several).")
@click.option("--county", "counties", multiple=True, metavar="ID", help="An envoy's county (repeat for several).")
@click.option("--name", "display_name", default=None, help="Name shown in the dashboard.")
@_STDIN
@_JSON
@pass_app
@friendly_errors
@_access_errors
def add(
    app: AppContext,
    username: str,
    role: str,
    hosts: tuple[str, ...],
    counties: tuple[str, ...],
    display_name: str | None,
    password_stdin: bool,
    as_json: bool,
) -> None:
    """Add a user: a streamer with --host, an envoy with --county, an analyst or an admin. / 添加用户。"""
    from livecommerce.auth import add_user

    user = add_user(
        app.engine,
        username,
        _password(password_stdin),
        role,
        hosts=hosts,
        counties=counties,
        display_name=display_name,
    )
    if as_json:
        emit_json(user.as_dict())
        return
    out_console.print(f"added / 已添加: {user.username} ({user.role})")


@users.command("list")
@_JSON
@pass_app
@friendly_errors
def list_users(app: AppContext, as_json: bool) -> None:
    """List the users with their roles and bindings. / 列出用户。"""
    from livecommerce.auth import users as all_users

    found = [u.as_dict() for u in all_users(app.engine)]
    if as_json:
        emit_json({"users": found})
        return
    if not found:
        out_console.print("no users yet: livecommerce users add NAME --role ROLE / 还没有用户")
        return
    for u in found:
        bound = ", ".join(u["hosts"] or u["counties"]) or "all / 全部"
        out_console.print(f"{u['username']:<24} {u['role']:<9} {bound}")


@users.command("remove")
@click.argument("username")
@_JSON
@pass_app
@friendly_errors
def remove(app: AppContext, username: str, as_json: bool) -> None:
    """Remove a user with their bindings and tokens (the audit log keeps their entries). / 删除用户。"""
    from livecommerce.auth import remove_user

    removed = remove_user(app.engine, username)
    if as_json:
        emit_json({"username": username, "removed": removed})
    elif removed:
        out_console.print(f"removed / 已删除: {username}")
    if not removed:
        raise click.ClickException(f"no user {username!r} / 没有用户 {username!r}")


@users.command("passwd")
@click.argument("username")
@_STDIN
@_JSON
@pass_app
@friendly_errors
@_access_errors
def passwd(app: AppContext, username: str, password_stdin: bool, as_json: bool) -> None:
    """Set a user's password (their open sessions end). / 修改密码。"""
    from livecommerce.auth import set_password, user_by_name

    if user_by_name(app.engine, username) is None:
        raise click.ClickException(f"no user {username!r}: see `livecommerce users list` / 没有用户 {username!r}")
    user = set_password(app.engine, username, _password(password_stdin))
    if as_json:
        emit_json({"username": user.username, "changed": True})
        return
    out_console.print(f"password changed / 密码已修改: {user.username}")


@users.command("token")
@click.argument("username")
@click.option("--name", "label", default="", help="What the token is for (shown by --list).")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Expire after N days (default: never).")
@click.option("--revoke", "revoke_id", metavar="ID", default=None, help="Revoke the token with this id instead.")
@click.option("--list", "list_only", is_flag=True, help="List the user's tokens instead (never the secrets).")
@_JSON
@pass_app
@friendly_errors
@_access_errors
def token(
    app: AppContext, username: str, label: str, days: int | None, revoke_id: str | None, list_only: bool, as_json: bool
) -> None:
    """Create a JSON API token for a user (printed once), list or revoke tokens. / 创建、列出或吊销 API 令牌。"""
    from livecommerce.auth import create_token, revoke_token, tokens

    if list_only:
        found = tokens(app.engine, username)
        if as_json:
            emit_json({"username": username, "tokens": found})
            return
        for t in found:
            expires = f"{t['expires_at_utc']:%Y-%m-%d}" if t["expires_at_utc"] else "never"
            state = "revoked / 已吊销" if t["revoked_at_utc"] else f"expires {expires}"
            out_console.print(f"{t['token_id']}  {t['name']:<20} created {t['created_at_utc']:%Y-%m-%d}  {state}")
        return
    if revoke_id is not None:
        done = revoke_token(app.engine, revoke_id)
        if as_json:
            emit_json({"token_id": revoke_id, "revoked": done})
        if not done:
            raise click.ClickException(f"no active token {revoke_id!r} / 没有有效令牌 {revoke_id!r}")
        if not as_json:
            out_console.print(f"revoked / 已吊销: {revoke_id}")
        return
    secret = create_token(app.engine, username, label, days)
    if as_json:
        emit_json({"username": username, "token": secret, "token_id": secret.split("_")[1], "days": days})
        return
    click.echo(secret)
    click.echo(
        "shown once: keep it secret; send it as `Authorization: Bearer <token>` / 仅显示一次，请妥善保存", err=True
    )


@users.command("audit")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="Newest N entries.")
@click.option("--event", default=None, help="Only this event (login, login_failed, denied, upload, export, …).")
@click.option("--user", "username", default=None, help="Only this user.")
@_JSON
@pass_app
@friendly_errors
def audit(app: AppContext, limit: int, event: str | None, username: str | None, as_json: bool) -> None:
    """Show the audit log: logins, denials, uploads, exports, user changes. / 查看审计日志。"""
    from livecommerce.auth import audit_log

    rows = audit_log(app.engine, limit=limit, event=event, username=username)
    if as_json:
        emit_json({"entries": rows})
        return
    for r in rows:
        out_console.print(
            f"{r['at_utc']:%Y-%m-%d %H:%M:%S}Z  {r['event']:<16} {r['username'] or '-':<16} "
            f"{r['ip'] or '-':<15} {r['target'] or ''}",
            markup=False,
        )


@users.command("row-security")
@click.option("--role", "app_role", required=True, metavar="ROLE", help="The web server's PostgreSQL role.")
@_JSON
@pass_app
@friendly_errors
@_access_errors
def row_security(app: AppContext, app_role: str, as_json: bool) -> None:
    """PostgreSQL: row-level security on the fact tables for the web server's role. / 启用行级安全。

    Run as the tables' owner. The role (created beforehand, not the owner) then sees only the rows of
    the scope each request sets; point the server's LIVECOMMERCE_DB_URL at that role.
    """
    from livecommerce.auth import enable_row_security

    done = enable_row_security(app.engine, app_role)
    if as_json:
        emit_json({"role": app_role, "tables": done})
        return
    out_console.print(f"row-level security for {app_role} on / 已启用行级安全: {', '.join(done)}")
