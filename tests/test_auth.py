"""Users, passwords, tokens and the audit log (``livecommerce.auth``) and ``livecommerce users …``, on
SQLite and PostgreSQL: argon2id hashes only, never a password or a token in the warehouse or the log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from livecommerce import auth
from livecommerce.cli import main
from livecommerce.scope import Scope
from livecommerce.warehouse import upsert
from livecommerce.warehouse.tables import ApiToken, AppUser, AuditLog, County, Host

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield


def _places(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert(conn, County.__table__, [{"county_id": c, "name_zh": c, "name_en": c} for c in ("lixian", "puan")])
        upsert(
            conn,
            Host.__table__,
            [
                {"host_id": "H1", "name": "h1", "county_id": "lixian"},
                {"host_id": "H2", "name": "h2", "county_id": "puan"},
            ],
        )


def _everything_stored(engine: Engine) -> str:
    with engine.connect() as conn:
        rows = [
            *conn.execute(select(AppUser.__table__)).all(),
            *conn.execute(select(ApiToken.__table__)).all(),
            *conn.execute(select(AuditLog.__table__)).all(),
        ]
    return json.dumps([list(r) for r in rows], default=str, ensure_ascii=False)


def test_users_roles_and_scopes(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    _places(engine)
    streamer = auth.add_user(engine, "li", PASSWORD, "streamer", hosts=["H1"], display_name="李")
    envoy = auth.add_user(engine, "wang", PASSWORD, "envoy", counties=["lixian", "puan"])
    analyst = auth.add_user(engine, "zhao", PASSWORD, "analyst")
    assert auth.scope_for(streamer) == Scope.of(hosts=["H1"])
    assert auth.scope_for(envoy) == Scope.of(counties=["lixian", "puan"])
    assert auth.scope_for(analyst) == Scope.everything()
    assert auth.scope_for(None).is_empty
    assert [u.username for u in auth.users(engine)] == ["li", "wang", "zhao"]
    with engine.connect() as conn:
        stored = conn.execute(select(AppUser.__table__.c.password_hash)).scalars().all()
    assert all(h.startswith("$argon2id$") for h in stored)
    assert PASSWORD not in _everything_stored(engine)
    bad = [
        ("li", "streamer", {"hosts": ["H1"]}, "already exists"),
        ("x y", "analyst", {}, "bad username"),
        ("ok", "streamer", {}, "hosts"),
        ("ok", "envoy", {"hosts": ["H1"]}, "counties"),
        ("ok", "analyst", {"counties": ["puan"]}, "sees everything"),
        ("ok", "streamer", {"hosts": ["H9"]}, "unknown host H9"),
        ("ok", "boss", {}, "unknown role"),
    ]
    for name, role, bindings, message in bad:
        with pytest.raises(auth.AccessError, match=message):
            auth.add_user(engine, name, PASSWORD, role, **bindings)
    with pytest.raises(auth.AccessError, match="too short"):
        auth.add_user(engine, "ok", "short", "analyst")


def test_authenticate_passwords_and_removal(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    _places(engine)
    user = auth.add_user(engine, "li", PASSWORD, "streamer", hosts=["H1"])
    assert auth.authenticate(engine, "li", PASSWORD) == auth.user_by_id(engine, user.user_id)
    assert auth.authenticate(engine, "li", "wrong password") is None
    assert auth.authenticate(engine, "nobody", PASSWORD) is None
    changed = auth.set_password(engine, "li", "a new long password")
    assert changed.stamp != user.stamp  # open sessions end
    assert auth.authenticate(engine, "li", PASSWORD) is None
    assert auth.authenticate(engine, "li", "a new long password") is not None
    with engine.begin() as conn:
        conn.execute(update(AppUser.__table__).values(active=False))
    assert auth.authenticate(engine, "li", "a new long password") is None
    assert auth.remove_user(engine, "li") and not auth.remove_user(engine, "li")
    assert auth.user_by_name(engine, "li") is None
    events = [e["event"] for e in auth.audit_log(engine, limit=10)]
    assert events == ["user_removed", "password_changed", "user_added"]


def test_tokens_are_stored_hashed_expire_and_revoke(warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = warehouse.engine
    auth.add_user(engine, "zhao", PASSWORD, "analyst")
    token = auth.create_token(engine, "zhao", "notebook", days=30)
    assert token.startswith("lc_") and token not in _everything_stored(engine)
    assert auth.verify_token(engine, token).username == "zhao"  # type: ignore[union-attr]
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), "lc_000000000000_" + "x" * 43, "", "Bearer"):
        assert auth.verify_token(engine, forged) is None
    listed = auth.tokens(engine, "zhao")
    assert [t["name"] for t in listed] == ["notebook"] and "token_hash" not in listed[0]
    with engine.begin() as conn:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        conn.execute(update(ApiToken.__table__).values(expires_at_utc=past))
    assert auth.verify_token(engine, token) is None
    other = auth.create_token(engine, "zhao")
    assert auth.revoke_token(engine, other.split("_")[1]) and auth.verify_token(engine, other) is None
    assert not auth.revoke_token(engine, other.split("_")[1])


def test_throttle_counts_failures_in_a_sliding_window() -> None:
    now = [0.0]
    throttle = auth.LoginThrottle(per_user=2, per_ip=3, window_seconds=10, clock=lambda: now[0])
    assert throttle.wait_seconds("1.2.3.4", "li") == 0
    throttle.failed("1.2.3.4", "li")
    now[0] = 4
    throttle.failed("1.2.3.4", "LI")  # names are compared case-insensitively
    assert throttle.wait_seconds("1.2.3.4", "li") == 6  # until the first failure leaves the window
    assert throttle.wait_seconds("5.6.7.8", "li") == 6  # per name, whatever the address
    assert throttle.wait_seconds("1.2.3.4", "wang") == 0  # the address has 2 of its 3
    throttle.failed("1.2.3.4", "wang")
    assert throttle.wait_seconds("1.2.3.4", "zhao") == 6  # per address, whatever the name
    assert throttle.wait_seconds("5.6.7.8", "zhao") == 0
    now[0] = 10
    assert throttle.wait_seconds("1.2.3.4", "li") == 0
    throttle.failed("5.6.7.8", "li")
    assert throttle.wait_seconds("5.6.7.8", "li") == 4
    throttle.succeeded("li")
    assert throttle.wait_seconds("5.6.7.8", "li") == 0


# --- the CLI ------------------------------------------------------------------------------------------


def test_users_commands_round_trip(sqlite_warehouse) -> None:  # type: ignore[no-untyped-def]
    _places(sqlite_warehouse.engine)
    env = sqlite_warehouse.env
    runner = CliRunner()
    added = runner.invoke(
        main, ["users", "add", "li", "--role", "streamer", "--host", "H1", "--password-stdin", "--json"],
        input=PASSWORD + "\n", env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["hosts"] == ["H1"]
    prompted = runner.invoke(
        main,
        ["users", "add", "wang", "--role", "envoy", "--county", "puan"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env=env,
    )
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output  # the prompt hides what is typed
    listed = json.loads(runner.invoke(main, ["users", "list", "--json"], env=env).output)
    assert [(u["username"], u["role"]) for u in listed["users"]] == [("li", "streamer"), ("wang", "envoy")]
    token = json.loads(runner.invoke(main, ["users", "token", "li", "--days", "5", "--json"], env=env).output)
    assert auth.verify_token(sqlite_warehouse.engine, token["token"]).username == "li"  # type: ignore[union-attr]
    revoked = runner.invoke(main, ["users", "token", "li", "--revoke", token["token_id"], "--json"], env=env)
    assert json.loads(revoked.output)["revoked"] is True
    passwd = runner.invoke(main, ["users", "passwd", "li", "--password-stdin"], input="new password 123\n", env=env)
    assert passwd.exit_code == 0 and auth.authenticate(sqlite_warehouse.engine, "li", "new password 123")
    audit = json.loads(runner.invoke(main, ["users", "audit", "--json"], env=env).output)
    assert {"user_added", "token_created", "token_revoked", "password_changed"} <= {
        e["event"] for e in audit["entries"]
    }
    assert PASSWORD not in json.dumps(audit, ensure_ascii=False)
    removed = runner.invoke(main, ["users", "remove", "wang", "--json"], env=env)
    assert json.loads(removed.output) == {"username": "wang", "removed": True}
    for args, hint in (
        (["users", "remove", "wang"], "no user"),
        (["users", "add", "xu", "--role", "streamer", "--host", "H9", "--password-stdin"], "unknown host H9"),
        (["users", "passwd", "nobody", "--password-stdin"], "no user"),
        (["users", "row-security", "--role", "app"], "PostgreSQL"),
    ):
        result = runner.invoke(main, args, input=PASSWORD + "\n", env=env)
        assert result.exit_code == 1 and hint in result.output and "Traceback" not in result.output, args


def test_passwords_are_never_command_arguments() -> None:
    from livecommerce.cli.users import users

    for command in users.commands.values():
        for param in command.params:
            assert "password" not in param.name or param.name == "password_stdin", (command.name, param.name)
