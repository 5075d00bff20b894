"""Users, roles and row-level access: who may log in, what each user may see, and the audit log.

Roles (:data:`ROLES`):

- ``streamer`` — bound to one or more hosts; sees their sessions and sales.
- ``envoy`` — bound to counties; sees the counties' hosts and the sales of their products.
- ``analyst`` — sees everything, read-only (dashboard, JSON API).
- ``admin`` — sees everything; manages users and uploads exports.

:func:`scope_for` turns a :class:`User` into the :class:`~livecommerce.scope.Scope` that every
``queries`` function adds to its SQL. Passwords are hashed with argon2id (argon2-cffi) and never
logged; API tokens are random, shown once, stored as a SHA-256 hash. On PostgreSQL,
:func:`enable_row_security` adds row-level security policies on the fact tables for the web
server's database role, and :func:`install_scope_guard` sets the request's scope on every
transaction (``SET LOCAL``-style ``set_config(…, true)``) so a query that forgot its filter still
sees only the scope's rows.

All writes go through :func:`livecommerce.warehouse.upsert.upsert` (removals are deletes).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine import Connection, Engine

from livecommerce.scope import Scope
from livecommerce.warehouse.tables import (
    ApiToken,
    AppUser,
    AppUserCounty,
    AppUserHost,
    AuditLog,
    County,
    Host,
    LiveSession,
    Product,
    metadata,
)
from livecommerce.warehouse.upsert import upsert

__all__ = [
    "AUDIT_EVENTS",
    "ROLES",
    "ROW_SECURITY_TABLES",
    "AccessError",
    "LoginThrottle",
    "User",
    "add_user",
    "audit",
    "audit_count",
    "audit_log",
    "authenticate",
    "bind_scope",
    "bound_scope",
    "create_token",
    "enable_row_security",
    "hash_password",
    "install_scope_guard",
    "out_of_scope",
    "release_scope",
    "remove_user",
    "revoke_token",
    "scope_for",
    "scope_settings",
    "set_password",
    "tokens",
    "user_by_id",
    "user_by_name",
    "users",
    "verify_password",
    "verify_token",
]

ROLES: tuple[str, ...] = ("streamer", "envoy", "analyst", "admin")
#: the events the audit log records
AUDIT_EVENTS: tuple[str, ...] = (
    "login",
    "login_failed",
    "login_throttled",
    "logout",
    "denied",
    "upload",
    "export",
    "user_added",
    "user_removed",
    "password_changed",
    "token_created",
    "token_revoked",
)
MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
_TOKEN = re.compile(r"^lc_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")

log = logging.getLogger("livecommerce.audit")

_U = AppUser.__table__
_UH = AppUserHost.__table__
_UC = AppUserCounty.__table__
_TK = ApiToken.__table__
_AL = AuditLog.__table__

#: argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, 64 MiB, p=4)
_HASHER = PasswordHasher()
_DUMMY_HASH: str | None = None


class AccessError(ValueError):
    """A user, password or token request that cannot be done; the message says why, in English and Chinese."""


@dataclass(frozen=True)
class User:
    """A user as the warehouse knows them right now: role, bindings and a ``stamp`` that changes with
    the password (a session made before a password change ends)."""

    user_id: str
    username: str
    role: str
    host_ids: tuple[str, ...] = ()
    county_ids: tuple[str, ...] = ()
    display_name: str | None = None
    active: bool = True
    stamp: str = field(default="", repr=False)

    @property
    def is_admin(self) -> bool:
        """Return True for an admin."""
        return self.role == "admin"

    def as_dict(self) -> dict[str, Any]:
        """Return the user as a JSON-ready dict (no password hash, no stamp)."""
        return {
            "user_id": self.user_id,
            "username": self.username,
            "role": self.role,
            "hosts": list(self.host_ids),
            "counties": list(self.county_ids),
            "display_name": self.display_name,
            "active": self.active,
        }


def scope_for(user: User | None) -> Scope:
    """Return what ``user`` may see: a streamer their hosts, an envoy their counties, an analyst or an
    admin everything; nobody (None or an inactive user) nothing."""
    if user is None or not user.active:
        return Scope()
    if user.role in ("analyst", "admin"):
        return Scope.everything()
    if user.role == "streamer":
        return Scope.of(hosts=list(user.host_ids))
    if user.role == "envoy":
        return Scope.of(counties=list(user.county_ids))
    return Scope()


# --- passwords ------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` (salted; the encoded string carries its parameters)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return True when ``password`` matches ``password_hash``; False for a mismatch or a broken hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccessError(
            f"password too short: at least {MIN_PASSWORD_LENGTH} characters / "
            f"密码太短：至少 {MIN_PASSWORD_LENGTH} 个字符"
        )
    if len(password) > 1024:
        raise AccessError("password too long: at most 1024 characters / 密码太长：最多 1024 个字符")
    return password


def _stamp(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:12]


# --- users ----------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _user_rows(conn: Connection, where: Any) -> list[User]:
    rows = conn.execute(select(_U).where(where).order_by(_U.c.username)).mappings().all()
    if not rows:
        return []
    ids = [r["user_id"] for r in rows]
    hosts: dict[str, list[str]] = {}
    for uid, host in conn.execute(select(_UH.c.user_id, _UH.c.host_id).where(_UH.c.user_id.in_(ids))):
        hosts.setdefault(uid, []).append(host)
    counties: dict[str, list[str]] = {}
    for uid, county in conn.execute(select(_UC.c.user_id, _UC.c.county_id).where(_UC.c.user_id.in_(ids))):
        counties.setdefault(uid, []).append(county)
    return [
        User(
            user_id=r["user_id"],
            username=r["username"],
            role=r["role"],
            host_ids=tuple(sorted(hosts.get(r["user_id"], []))),
            county_ids=tuple(sorted(counties.get(r["user_id"], []))),
            display_name=r["display_name"],
            active=bool(r["active"]),
            stamp=_stamp(r["password_hash"]),
        )
        for r in rows
    ]


def users(engine: Engine) -> list[User]:
    """Return every user, sorted by username, with their bindings."""
    with engine.connect() as conn:
        return _user_rows(conn, _U.c.user_id.is_not(None))


def user_by_name(engine: Engine, username: str) -> User | None:
    """Return the user called ``username`` (None when there is none)."""
    with engine.connect() as conn:
        found = _user_rows(conn, _U.c.username == username)
    return found[0] if found else None


def user_by_id(engine: Engine, user_id: str) -> User | None:
    """Return the user with id ``user_id`` as the warehouse has them now (None when removed)."""
    with engine.connect() as conn:
        found = _user_rows(conn, _U.c.user_id == user_id)
    return found[0] if found else None


def _unknown(conn: Connection, column: Any, wanted: Sequence[str]) -> list[str]:
    known = set(conn.execute(select(column).where(column.in_(list(wanted)))).scalars())
    return sorted(set(wanted) - known)


def _checked_bindings(conn: Connection, role: str, hosts: Sequence[str], counties: Sequence[str]) -> None:
    if role not in ROLES:
        raise AccessError(f"unknown role {role!r}: use one of {', '.join(ROLES)} / 未知角色 {role!r}")
    if role == "streamer" and (not hosts or counties):
        raise AccessError(
            "a streamer is bound to one or more hosts (--host), not counties / 主播须绑定主播账号（--host）"
        )
    if role == "envoy" and (not counties or hosts):
        raise AccessError(
            "an envoy is bound to one or more counties (--county), not hosts / 特派员须绑定县（--county）"
        )
    if role in ("analyst", "admin") and (hosts or counties):
        raise AccessError(f"an {role} sees everything: give no --host or --county / {role} 可见全部数据，无需绑定")
    missing_hosts = _unknown(conn, Host.__table__.c.host_id, hosts) if hosts else []
    missing_counties = _unknown(conn, County.__table__.c.county_id, counties) if counties else []
    if missing_hosts or missing_counties:
        what = ", ".join([*(f"host {h}" for h in missing_hosts), *(f"county {c}" for c in missing_counties)])
        raise AccessError(
            f"unknown {what}: load the exports first, or check the id (`livecommerce info`) / "
            f"未知的 {what}：请先导入数据或检查编号"
        )


def add_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    *,
    hosts: Sequence[str] = (),
    counties: Sequence[str] = (),
    display_name: str | None = None,
) -> User:
    """Create a user and return it. A streamer needs ``hosts``, an envoy ``counties`` (which must exist
    in the warehouse); analysts and admins take neither. Raises :class:`AccessError` for a bad name,
    role, binding or password, or a name already taken."""
    if not _USERNAME.match(username or ""):
        raise AccessError(
            f"bad username {username!r}: 2-64 letters, digits, '.', '_', '-' or '@' / "
            "用户名无效：2-64 个字母、数字或 ._-@"
        )
    pw_hash = hash_password(_checked_password(password))
    with engine.begin() as conn:
        _checked_bindings(conn, role, list(hosts), list(counties))
        if conn.execute(select(_U.c.user_id).where(_U.c.username == username)).first() is not None:
            raise AccessError(f"user {username!r} already exists / 用户 {username!r} 已存在")
        user_id = str(uuid.uuid4())
        upsert(
            conn,
            _U,
            [
                {
                    "user_id": user_id,
                    "username": username,
                    "password_hash": pw_hash,
                    "role": role,
                    "display_name": display_name,
                    "active": True,
                    "created_at_utc": _now(),
                }
            ],
        )
        upsert(conn, _UH, [{"user_id": user_id, "host_id": h} for h in dict.fromkeys(hosts)])
        upsert(conn, _UC, [{"user_id": user_id, "county_id": c} for c in dict.fromkeys(counties)])
        found = _user_rows(conn, _U.c.user_id == user_id)[0]
    detail = {"hosts": list(hosts), "counties": list(counties)}
    audit(engine, "user_added", username=username, user_id=user_id, target=role, detail=detail)
    return found


def remove_user(engine: Engine, username: str) -> bool:
    """Remove ``username`` with their bindings and tokens; return False when there was no such user.
    Their audit entries stay."""
    with engine.begin() as conn:
        user_id = conn.execute(select(_U.c.user_id).where(_U.c.username == username)).scalar()
        if user_id is None:
            return False
        for table in (_TK, _UH, _UC):
            conn.execute(delete(table).where(table.c.user_id == user_id))
        conn.execute(delete(_U).where(_U.c.user_id == user_id))
    audit(engine, "user_removed", username=username, user_id=user_id)
    return True


def set_password(engine: Engine, username: str, password: str) -> User:
    """Set a new password for ``username`` and return the user (their open sessions end: the stamp
    changes). Raises :class:`AccessError` for an unknown user or a password too short."""
    pw_hash = hash_password(_checked_password(password))
    with engine.begin() as conn:
        row = conn.execute(select(_U).where(_U.c.username == username)).mappings().first()
        if row is None:
            raise AccessError(f"no user {username!r}: see `livecommerce users list` / 没有用户 {username!r}")
        upsert(conn, _U, [{**dict(row), "password_hash": pw_hash}])
        found = _user_rows(conn, _U.c.user_id == row["user_id"])[0]
    audit(engine, "password_changed", username=username, user_id=found.user_id)
    return found


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """Return the active user ``username`` when ``password`` is theirs, else None. An unknown name costs
    the same hashing work as a wrong password (no user enumeration by timing); the hash is upgraded
    when the hashing parameters changed, and the login time recorded."""
    global _DUMMY_HASH
    with engine.connect() as conn:
        row = conn.execute(select(_U).where(_U.c.username == username)).mappings().first()
    if row is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(row["password_hash"], password) or not row["active"]:
        return None
    values = {**dict(row), "last_login_utc": _now()}
    if _HASHER.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = hash_password(password)
    with engine.begin() as conn:
        upsert(conn, _U, [values])
    return user_by_id(engine, row["user_id"])


# --- which ids a scope may name --------------------------------------------------------------


def out_of_scope(
    engine: Engine,
    scope: Scope,
    *,
    hosts: Iterable[str] = (),
    counties: Iterable[str] = (),
    products: Iterable[str] = (),
    sessions: Iterable[str] = (),
    plans: Iterable[str] = (),
) -> dict[str, list[str]]:
    """Return, per kind (``host``, ``county``, ``product``, ``session``, ``plan``), the given ids that name
    data in the warehouse which ``scope`` may not see; empty when every id is allowed. Ids the warehouse
    does not know name no data and are not listed. A scope sees its hosts and the hosts of its
    counties, its counties and the counties of its hosts, the products of its counties, the sessions
    of the hosts it sees (``platform:session_id``) — what ``queries.directory`` offers it — and the
    saved session plans of those hosts or counties."""
    if scope.all_data:
        return {}
    wanted = {
        "host": sorted({h for h in hosts if isinstance(h, str)}),
        "county": sorted({c for c in counties if isinstance(c, str)}),
        "product": sorted({p for p in products if isinstance(p, str)}),
        "session": sorted({s for s in sessions if isinstance(s, str) and ":" in s}),
        "plan": sorted({p for p in plans if isinstance(p, str)}),
    }
    if not any(wanted.values()):
        return {}
    h, c, p, ls = Host.__table__, County.__table__, Product.__table__, LiveSession.__table__
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        seen_hosts = set(scope.host_ids)
        if scope.county_ids:
            seen_hosts |= set(conn.execute(select(h.c.host_id).where(h.c.county_id.in_(scope.county_ids))).scalars())
        if wanted["host"]:
            known = set(conn.execute(select(h.c.host_id).where(h.c.host_id.in_(wanted["host"]))).scalars())
            out["host"] = sorted(known - seen_hosts)
        if wanted["county"]:
            seen = set(scope.county_ids)
            if scope.host_ids:
                seen |= set(conn.execute(select(h.c.county_id).where(h.c.host_id.in_(scope.host_ids))).scalars())
            known = set(conn.execute(select(c.c.county_id).where(c.c.county_id.in_(wanted["county"]))).scalars())
            out["county"] = sorted(known - seen)
        if wanted["product"]:
            rows = conn.execute(select(p.c.product_id, p.c.county_id).where(p.c.product_id.in_(wanted["product"])))
            out["product"] = sorted(pid for pid, county in rows if county not in scope.county_ids)
        if wanted["session"]:
            keys = {tuple(k.split(":", 1)) for k in wanted["session"]}
            rows = conn.execute(
                select(ls.c.platform_id, ls.c.session_id, ls.c.host_id).where(
                    ls.c.session_id.in_(sorted({sid for _, sid in keys}))
                )
            )
            out["session"] = sorted(
                f"{pf}:{sid}" for pf, sid, host in rows if (pf, sid) in keys and host not in seen_hosts
            )
        plan_table = metadata.tables.get("session_plan")
        if wanted["plan"] and plan_table is not None and _has_table(conn, "session_plan"):
            rows = conn.execute(
                select(plan_table.c.plan_id, plan_table.c.host_id, plan_table.c.county_id).where(
                    plan_table.c.plan_id.in_(wanted["plan"])
                )
            )
            out["plan"] = sorted(
                pid for pid, host, county in rows if host not in seen_hosts and county not in scope.county_ids
            )
    return {kind: found for kind, found in out.items() if found}


def _has_table(conn: Connection, name: str) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(conn).has_table(name))


# --- API tokens -----------------------------------------------------------------------------


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(engine: Engine, username: str, name: str = "", days: int | None = None) -> str:
    """Create an API token for ``username`` and return it (``lc_<id>_<secret>``): shown once, only its
    SHA-256 is stored. ``days`` limits its life (None: until revoked)."""
    user = user_by_name(engine, username)
    if user is None:
        raise AccessError(f"no user {username!r}: see `livecommerce users list` / 没有用户 {username!r}")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        upsert(
            conn,
            _TK,
            [
                {
                    "token_id": token_id,
                    "user_id": user.user_id,
                    "token_hash": _token_hash(secret),
                    "name": name[:64],
                    "created_at_utc": now,
                    "expires_at_utc": now + dt.timedelta(days=days) if days else None,
                }
            ],
        )
    audit(engine, "token_created", username=username, user_id=user.user_id, target=token_id, detail={"days": days})
    return f"lc_{token_id}_{secret}"


def verify_token(engine: Engine, token: str) -> User | None:
    """Return the user a valid token belongs to (not revoked, not expired, user active), else None.
    The comparison is constant-time; the token's last use is recorded."""
    match = _TOKEN.match(token or "")
    if not match:
        return None
    token_id, secret = match.groups()
    with engine.connect() as conn:
        row = conn.execute(select(_TK).where(_TK.c.token_id == token_id)).mappings().first()
    if row is None or not hmac.compare_digest(row["token_hash"], _token_hash(secret)):
        return None
    now = _now()
    expires = row["expires_at_utc"]
    if row["revoked_at_utc"] is not None or (expires is not None and expires <= now):
        return None
    user = user_by_id(engine, row["user_id"])
    if user is None or not user.active:
        return None
    last = row["last_used_utc"]
    if last is None or now - last > dt.timedelta(minutes=1):  # one write a minute at most
        with engine.begin() as conn:
            upsert(conn, _TK, [{**dict(row), "last_used_utc": now}])
    return user


def revoke_token(engine: Engine, token_id: str) -> bool:
    """Revoke the token whose id (the part after ``lc_``) is ``token_id``; False when unknown or already revoked."""
    with engine.begin() as conn:
        row = conn.execute(select(_TK).where(_TK.c.token_id == token_id)).mappings().first()
        if row is None or row["revoked_at_utc"] is not None:
            return False
        upsert(conn, _TK, [{**dict(row), "revoked_at_utc": _now()}])
    audit(engine, "token_revoked", user_id=row["user_id"], target=token_id)
    return True


def tokens(engine: Engine, username: str | None = None) -> list[dict[str, Any]]:
    """Return the tokens (of ``username``, or everyone's): id, user, name, created, expires, last used,
    revoked — never the token or its hash."""
    stmt = select(
        _TK.c.token_id,
        _U.c.username,
        _TK.c.name,
        _TK.c.created_at_utc,
        _TK.c.expires_at_utc,
        _TK.c.last_used_utc,
        _TK.c.revoked_at_utc,
    ).join(_U, _U.c.user_id == _TK.c.user_id)
    if username is not None:
        stmt = stmt.where(_U.c.username == username)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt.order_by(_TK.c.created_at_utc)).mappings()]


# --- audit log ------------------------------------------------------------------------------


def audit(
    engine: Engine,
    event: str,
    *,
    user: User | None = None,
    username: str | None = None,
    user_id: str | None = None,
    ip: str | None = None,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Record ``event`` (one of :data:`AUDIT_EVENTS`) in the audit log and the ``livecommerce.audit``
    logger. ``detail`` is stored as JSON; never pass a password or a token."""
    if event not in AUDIT_EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    row = {
        "audit_id": uuid.uuid4().hex,
        "at_utc": _now(),
        "event": event,
        "user_id": user.user_id if user else user_id,
        "username": (user.username if user else username),
        "ip": (ip or "")[:64] or None,
        "target": None if target is None else str(target)[:256],
        "detail": None if detail is None else json.dumps(detail, ensure_ascii=False, default=str),
    }
    log.info("%s user=%s ip=%s target=%s", event, row["username"], row["ip"], row["target"])
    with engine.begin() as conn:
        upsert(conn, _AL, [row])


def audit_log(
    engine: Engine, *, limit: int = 100, event: str | None = None, username: str | None = None
) -> list[dict[str, Any]]:
    """Return the latest audit entries (newest first): at_utc, event, username, ip, target, detail (parsed)."""
    stmt = select(_AL.c.at_utc, _AL.c.event, _AL.c.username, _AL.c.ip, _AL.c.target, _AL.c.detail)
    if event is not None:
        stmt = stmt.where(_AL.c.event == event)
    if username is not None:
        stmt = stmt.where(_AL.c.username == username)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(_AL.c.at_utc.desc()).limit(limit)).mappings().all()
    return [{**dict(r), "detail": json.loads(r["detail"]) if r["detail"] else None} for r in rows]


def audit_count(engine: Engine, event: str) -> int:
    """Return how many audit entries of ``event`` there are."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(_AL).where(_AL.c.event == event)).scalar() or 0)


# --- login throttling -----------------------------------------------------------------------


class LoginThrottle:
    """Failed logins per client address and per username in a sliding window: after ``per_user``
    failures for a name, or ``per_ip`` from an address, within ``window_seconds`` further attempts
    are refused until the oldest failure leaves the window. In memory, per server process (waitress
    serves one process with threads); thread-safe."""

    def __init__(
        self,
        per_user: int = 5,
        per_ip: int = 20,
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_user = per_user
        self.per_ip = per_ip
        self.window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def wait_seconds(self, ip: str, username: str) -> float:
        """Return how long ``ip`` must wait before trying ``username`` again (0: may try now)."""
        now = self._clock()
        with self._lock:
            waits = []
            for key, limit in ((("ip", ip), self.per_ip), (("user", username.lower()), self.per_user)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(self.window - (now - times[0]))
            return max(waits, default=0.0)

    def failed(self, ip: str, username: str) -> None:
        """Count a failed attempt from ``ip`` for ``username``."""
        now = self._clock()
        with self._lock:
            for key in (("ip", ip), ("user", username.lower())):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        """Forget the failures of ``username`` after a successful login (the address keeps its count)."""
        with self._lock:
            self._failures.pop(("user", username.lower()), None)


# --- PostgreSQL row-level security ------------------------------------------------------------

_HOSTS = "coalesce(nullif(current_setting('livecommerce.hosts', true), ''), '{}')::text[]"
_COUNTIES = "coalesce(nullif(current_setting('livecommerce.counties', true), ''), '{}')::text[]"
_ALL = "coalesce(current_setting('livecommerce.all', true), '') = 'on'"


def _host_visible(col: str) -> str:
    return f"({col} = ANY({_HOSTS}) OR {col} IN (SELECT h.host_id FROM host h WHERE h.county_id = ANY({_COUNTIES})))"


def _product_visible(col: str) -> str:
    return f"({col} IN (SELECT p.product_id FROM product p WHERE p.county_id = ANY({_COUNTIES})))"


#: the fact and rollup tables under row-level security, with who may see a row (besides ``all``)
ROW_SECURITY_TABLES: dict[str, str] = {
    "order_line": f"{_host_visible('host_id')} OR {_product_visible('product_id')}",
    "after_sale": (
        "EXISTS (SELECT 1 FROM order_line o WHERE o.platform_id = after_sale.platform_id "
        "AND o.order_id = after_sale.order_id)"
    ),
    "live_session": _host_visible("host_id"),
    "session_minute": (
        "EXISTS (SELECT 1 FROM live_session s WHERE s.platform_id = session_minute.platform_id "
        "AND s.session_id = session_minute.session_id)"
    ),
    "session_product": (
        "EXISTS (SELECT 1 FROM live_session s WHERE s.platform_id = session_product.platform_id "
        "AND s.session_id = session_product.session_id)"
    ),
    "rollup_daily": f"{_host_visible('host_key')} OR {_product_visible('product_key')}",
    "rollup_product_daily": _product_visible("product_key"),
    "rollup_platform_daily": "false",  # sums over everyone's rows: for those who see all data only
    "rollup_session": _host_visible("host_id"),
    "rollup_monthly": f"{_host_visible('host_key')} OR {_product_visible('product_key')}",
    "rollup_session_monthly": _host_visible("host_id"),
    "rollup_geo_host_monthly": _host_visible("host_key"),
    "rollup_geo_monthly": _product_visible("product_key"),
    "rollup_refund_product_monthly": _product_visible("product_key"),
    "rollup_geo": _product_visible("product_key"),
    "rollup_geo_total": _product_visible("product_key"),
    "rollup_refund": f"{_host_visible('host_key')} OR {_product_visible('product_key')}",
    "rollup_refund_product": _product_visible("product_key"),
    "rollup_refund_total": _product_visible("product_key"),
    "forecast": _product_visible("unique_id"),
    "planner_model": "false",  # fitted on everyone's sessions: a narrower scope fits on its own rows
    # live-session detail and plans (issues 5 and 10); skipped where the table does not exist yet
    "session_channel": (
        "EXISTS (SELECT 1 FROM live_session s WHERE s.platform_id = session_channel.platform_id "
        "AND s.session_id = session_channel.session_id)"
    ),
    "session_product_stat": (
        "EXISTS (SELECT 1 FROM live_session s WHERE s.platform_id = session_product_stat.platform_id "
        "AND s.session_id = session_product_stat.session_id)"
    ),
    "schedule_shift": _host_visible("host_id"),
    "session_plan": f"{_host_visible('host_id')} OR county_id = ANY({_COUNTIES})",
    "session_plan_item": "EXISTS (SELECT 1 FROM session_plan s WHERE s.plan_id = session_plan_item.plan_id)",
}


def enable_row_security(engine: Engine, app_role: str) -> list[str]:
    """On PostgreSQL, let ``app_role`` (a role that does not own the tables) read and write the
    warehouse with row-level security on the fact tables: it sees a row only when the transaction's
    scope (:func:`scope_settings`, set by :func:`install_scope_guard`) allows it. Grants usage of the
    schema and DML on its tables; idempotent. Returns the tables with a policy. Raises
    :class:`AccessError` on SQLite (no row-level security there: the app-side filter is the only one)."""
    if engine.dialect.name != "postgresql":
        raise AccessError(
            "row-level security needs PostgreSQL; on SQLite the queries' own scope filter applies / "
            "行级安全仅支持 PostgreSQL"
        )
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", app_role):
        raise AccessError(f"bad role name {app_role!r} / 角色名无效")
    done = []
    with engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        role, schema = quote(app_role), quote(conn.execute(select(func.current_schema())).scalar())
        exists = conn.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{app_role}'").first()
        if exists is None:
            raise AccessError(f"no database role {app_role!r}: CREATE ROLE {app_role} LOGIN first / 数据库角色不存在")
        present = set(
            conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").scalars()
        )
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}")
        conn.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
        for table, visible in ROW_SECURITY_TABLES.items():
            if table not in present:
                continue
            rule = f"{_ALL} OR {visible}"
            conn.exec_driver_sql(f"ALTER TABLE {quote(table)} ENABLE ROW LEVEL SECURITY")
            conn.exec_driver_sql(f"DROP POLICY IF EXISTS livecommerce_scope ON {quote(table)}")
            conn.exec_driver_sql(
                f"CREATE POLICY livecommerce_scope ON {quote(table)} TO {role} USING ({rule}) WITH CHECK ({rule})"
            )
            done.append(table)
    return done


def _array_literal(values: Iterable[str]) -> str:
    quoted = ['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in sorted(values)]
    return "{" + ",".join(quoted) + "}"


def scope_settings(scope: Scope | None) -> dict[str, str]:
    """Return the transaction settings that carry ``scope`` to the row-level security policies:
    ``livecommerce.all`` (``on``/``off``), ``livecommerce.hosts`` and ``livecommerce.counties``
    (PostgreSQL array literals). None (no request scope) sees nothing."""
    scope = scope or Scope()
    return {
        "livecommerce.all": "on" if scope.all_data else "off",
        "livecommerce.hosts": _array_literal(scope.host_ids),
        "livecommerce.counties": _array_literal(scope.county_ids),
    }


_REQUEST_SCOPE: ContextVar[Scope | None] = ContextVar("livecommerce_request_scope", default=None)
_GUARDED: set[int] = set()


def bind_scope(scope: Scope) -> Token[Scope | None]:
    """Bind ``scope`` to the current context (a request) and return the token :func:`release_scope` takes."""
    return _REQUEST_SCOPE.set(scope)


def release_scope(token: Token[Scope | None]) -> None:
    """Undo :func:`bind_scope` (at the end of the request)."""
    with contextlib.suppress(ValueError):  # a token from another context: nothing of ours to undo
        _REQUEST_SCOPE.reset(token)


@contextlib.contextmanager
def bound_scope(scope: Scope) -> Iterator[None]:
    """Within the block, every transaction on an engine with :func:`install_scope_guard` carries ``scope``."""
    token = _REQUEST_SCOPE.set(scope)
    try:
        yield
    finally:
        _REQUEST_SCOPE.reset(token)


def install_scope_guard(engine: Engine, default: Scope | None = None) -> None:
    """On PostgreSQL, set the bound scope (:func:`bound_scope`, else ``default``, else nothing visible)
    at the start of every transaction of ``engine`` with ``set_config(name, value, true)`` — local to
    the transaction, so a pooled connection never carries a previous request's scope. A no-op on
    SQLite; idempotent."""
    if engine.dialect.name != "postgresql" or id(engine) in _GUARDED:
        return
    _GUARDED.add(id(engine))

    @event.listens_for(engine, "begin")
    def _set_scope(conn: Connection) -> None:
        settings = scope_settings(_REQUEST_SCOPE.get() or default)
        conn.exec_driver_sql(
            "SELECT set_config('livecommerce.all', %(a)s, true), set_config('livecommerce.hosts', %(h)s, true), "
            "set_config('livecommerce.counties', %(c)s, true)",
            {
                "a": settings["livecommerce.all"],
                "h": settings["livecommerce.hosts"],
                "c": settings["livecommerce.counties"],
            },
        )
