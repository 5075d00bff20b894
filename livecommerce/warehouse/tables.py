"""The warehouse schema: typed SQLAlchemy 2 tables with a naming convention.

Dimensions: ``platform``, ``county``, ``host``, ``product`` (+ ``product_alias``).
Facts: ``live_session``, ``session_minute``, ``session_product``, ``order_line``.
Operations: ``ingest_run``, ``loaded_file``, ``rejected_row``.
Money is integer fen (``*_fen``); timestamps are timezone-aware UTC (``*_utc``).
Later features add rollups, forecasts, recommendations, plans and users through migrations.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AfterSale",
    "ApiToken",
    "AppUser",
    "AppUserCounty",
    "AppUserHost",
    "AuditLog",
    "BacktestMetric",
    "Base",
    "County",
    "Forecast",
    "ForecastRun",
    "ForecastTotal",
    "Host",
    "IngestRun",
    "LiveSession",
    "LoadedFile",
    "OrderLine",
    "Platform",
    "Product",
    "ProductAlias",
    "RejectedRow",
    "RollupDaily",
    "RollupGeo",
    "RollupGeoTotal",
    "RollupPlatformDaily",
    "RollupProductDaily",
    "RollupRefund",
    "RollupRefundProduct",
    "RollupRefundTotal",
    "RollupSession",
    "ScheduleShift",
    "SessionChannel",
    "SessionMinute",
    "SessionPlan",
    "SessionPlanItem",
    "SessionProduct",
    "SessionProductStat",
    "UtcDateTime",
    "metadata",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (UTC).

    PostgreSQL keeps ``timestamptz``; SQLite keeps naive UTC text. Naive datetimes are refused
    on the way in, because a naive time from an export is ambiguous (it is Asia/Shanghai local
    time there); convert at the boundary.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: convert to UTC before storing")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = metadata


# --- dimensions --------------------------------------------------------------------------


class Platform(Base):
    __tablename__ = "platform"
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    has_live: Mapped[bool] = mapped_column(Boolean, default=True)


class County(Base):
    __tablename__ = "county"
    county_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    province_zh: Mapped[str | None] = mapped_column(String(64))
    province_en: Mapped[str | None] = mapped_column(String(64))


class Host(Base):
    """A streamer account: a farmer, a county official, a shop account or an affiliate.

    ``county_id`` is NULL while the host is unassigned (first seen in a platform export).
    """

    __tablename__ = "host"
    __table_args__ = (
        UniqueConstraint("platform_id", "platform_host_id"),
        CheckConstraint("kind IN ('farmer','official','shop','affiliate','unknown')", name="kind"),
    )
    host_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="unknown")
    county_id: Mapped[str | None] = mapped_column(ForeignKey("county.county_id"), index=True)
    platform_id: Mapped[str | None] = mapped_column(ForeignKey("platform.platform_id"))
    platform_host_id: Mapped[str | None] = mapped_column(String(128))
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Product(Base):
    """A product (SKU) of a county; ``county_id`` NULL while unassigned."""

    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("unit_cost_fen IS NULL OR unit_cost_fen >= 0", name="unit_cost_nonneg"),
        CheckConstraint("list_price_fen IS NULL OR list_price_fen >= 0", name="list_price_nonneg"),
        CheckConstraint("season_start_month IS NULL OR (season_start_month BETWEEN 1 AND 12)", name="season_start"),
        CheckConstraint("season_end_month IS NULL OR (season_end_month BETWEEN 1 AND 12)", name="season_end"),
    )
    product_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str] = mapped_column(String(256))
    county_id: Mapped[str | None] = mapped_column(ForeignKey("county.county_id"), index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(16))
    unit_cost_fen: Mapped[int | None] = mapped_column(BigInteger)
    list_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    season_start_month: Mapped[int | None] = mapped_column(SmallInteger)
    season_end_month: Mapped[int | None] = mapped_column(SmallInteger)
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProductAlias(Base):
    """A platform's own product id (商品ID / 商家编码) mapped to our product."""

    __tablename__ = "product_alias"
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.platform_id"), primary_key=True)
    platform_product_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.product_id"), index=True)


# --- facts ---------------------------------------------------------------------------------


class LiveSession(Base):
    """One live session (场次), natural key (platform, session id)."""

    __tablename__ = "live_session"
    __table_args__ = (
        CheckConstraint("ended_at_utc >= started_at_utc", name="ends_after_start"),
        CheckConstraint(
            "coalesce(views,0) >= 0 AND coalesce(viewers,0) >= 0 AND coalesce(peak_online,0) >= 0",
            name="counts_nonneg",
        ),
        Index(None, "host_id", "started_at_utc"),
        Index(None, "started_at_utc"),
    )
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.platform_id"), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host_id: Mapped[str | None] = mapped_column(ForeignKey("host.host_id"))
    started_at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    title: Mapped[str | None] = mapped_column(String(256))
    source: Mapped[str] = mapped_column(String(32), default="canonical")
    views: Mapped[int | None] = mapped_column(BigInteger)
    viewers: Mapped[int | None] = mapped_column(BigInteger)
    peak_online: Mapped[int | None] = mapped_column(Integer)
    avg_online: Mapped[float | None] = mapped_column()
    watch_seconds: Mapped[int | None] = mapped_column(BigInteger)
    new_followers: Mapped[int | None] = mapped_column(Integer)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    interacting_viewers: Mapped[int | None] = mapped_column(BigInteger)
    product_exposed_viewers: Mapped[int | None] = mapped_column(BigInteger)
    product_clickers: Mapped[int | None] = mapped_column(BigInteger)
    ingest_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_run.run_id"))
    # issue 5: what the platform's own session report (Douyin compass) says was sold, for reconciliation
    reported_gmv_fen: Mapped[int | None] = mapped_column(BigInteger)
    reported_buyers: Mapped[int | None] = mapped_column(BigInteger)


class SessionMinute(Base):
    """The minute curve of a session: viewers online, entries, exits, interactions, orders."""

    __tablename__ = "session_minute"
    __table_args__ = (
        ForeignKeyConstraint(
            ["platform_id", "session_id"],
            ["live_session.platform_id", "live_session.session_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("online >= 0", name="online_nonneg"),
    )
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    minute_utc: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    online: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    exits: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    follows: Mapped[int] = mapped_column(Integer, default=0)


class SessionProduct(Base):
    """A product explain window (讲解) inside a session, with the price shown during it."""

    __tablename__ = "session_product"
    __table_args__ = (
        ForeignKeyConstraint(
            ["platform_id", "session_id"],
            ["live_session.platform_id", "live_session.session_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("explain_end_utc IS NULL OR explain_end_utc >= explain_start_utc", name="window_order"),
        CheckConstraint("price_fen IS NULL OR price_fen >= 0", name="price_nonneg"),
    )
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.product_id"), primary_key=True)
    explain_start_utc: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    explain_end_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    price_fen: Mapped[int | None] = mapped_column(BigInteger)


class OrderLine(Base):
    """One line of a platform order, natural key (platform, order id, line number).

    ``amount_fen`` is what the buyer paid for the line (GMV, not net of refunds);
    ``refund_fen`` what was refunded so far. ``host_id``/``session_id`` are the attribution,
    with the rule that made it in ``attribution_rule``.
    """

    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_fen >= 0", name="amount_nonneg"),
        CheckConstraint("unit_price_fen IS NULL OR unit_price_fen >= 0", name="unit_price_nonneg"),
        CheckConstraint("coalesce(shipping_fen,0) >= 0", name="shipping_nonneg"),
        CheckConstraint("coalesce(discount_fen,0) >= 0", name="discount_nonneg"),
        CheckConstraint("refund_fen >= 0 AND refund_fen <= amount_fen", name="refund_range"),
        CheckConstraint(
            "status IN ('unpaid','paid','shipped','completed','cancelled','refunded','partially_refunded')",
            name="status",
        ),
        Index(None, "created_at_utc"),
        Index(None, "host_id", "created_at_utc"),
        Index(None, "product_id", "created_at_utc"),
        Index(None, "platform_id", "session_id"),
    )
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.platform_id"), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str | None] = mapped_column(ForeignKey("product.product_id"))
    title: Mapped[str | None] = mapped_column(String(512))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    shipping_fen: Mapped[int | None] = mapped_column(BigInteger)
    discount_fen: Mapped[int | None] = mapped_column(BigInteger)
    refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(24))
    refund_reason: Mapped[str | None] = mapped_column(String(256))
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    paid_at_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    shipped_at_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refunded_at_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    buyer_id: Mapped[str | None] = mapped_column(String(128))
    province: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(64))
    export_host_id: Mapped[str | None] = mapped_column(String(128))
    export_host_name: Mapped[str | None] = mapped_column(String(128))
    traffic_source: Mapped[str | None] = mapped_column(String(128))
    traffic_genre: Mapped[str | None] = mapped_column(String(128))
    host_id: Mapped[str | None] = mapped_column(String(128))  # derived by attribution: no foreign key (0027)
    session_id: Mapped[str | None] = mapped_column(String(128))
    attribution_rule: Mapped[str | None] = mapped_column(String(32))
    attribution_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # the export format of a line is its first run's (ingest_run.format via first_run_id): no column
    # of its own, which every load wrote on every line (migration 0015)
    platform_line_id: Mapped[str | None] = mapped_column(String(64))
    # the runs that first and last wrote the line: written only by the loader, from the run row of
    # its own transaction, so no foreign key (one trigger call per row on PostgreSQL; migration 0010)
    first_run_id: Mapped[int | None] = mapped_column(Integer)
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    # issue 5: the session a file names for the line (canonical orders), an input of attribution
    export_session_id: Mapped[str | None] = mapped_column(String(128))


class AfterSale(Base):
    """One after-sale case (售后单) from a platform's after-sale sheet, natural key (platform, case id).

    Kept on its own so that an after-sale sheet loaded before its orders is not lost: the ETL applies
    the refunds (``status = 'refunded'``) to the matching order lines whichever arrives first.
    ``platform_line_id`` is the platform's sub-order id (商品单号) when the sheet names it.
    """

    __tablename__ = "after_sale"
    __table_args__ = (
        CheckConstraint("status IN ('refunded','closed','exchanged','processing')", name="status"),
        CheckConstraint("refund_fen >= 0", name="refund_nonneg"),
        Index(None, "platform_id", "order_id"),
    )
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.platform_id"), primary_key=True)
    after_sale_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64))
    platform_line_id: Mapped[str | None] = mapped_column(String(64))
    platform_product_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    status_raw: Mapped[str | None] = mapped_column(String(64))
    refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_refund_fen: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(256))
    applied_at_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refunded_at_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_run.run_id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_run.run_id"))


# --- operations ----------------------------------------------------------------------------


class IngestRun(Base):
    """One file loaded (or refused) by the ETL, with its counts."""

    __tablename__ = "ingest_run"
    __table_args__ = (
        CheckConstraint("status IN ('running','loaded','unchanged','refused','failed','dry_run')", name="status"),
        Index(None, "sha256"),
    )
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str | None] = mapped_column(String(64))
    encoding: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)


class LoadedFile(Base):
    """Manifest of files loaded, by content hash: the same bytes are recognised on reload."""

    __tablename__ = "loaded_file"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_run.run_id"))
    loaded_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RejectedRow(Base):
    """A row the ETL refused: where (file, line, column), why (code, message) and the raw row."""

    __tablename__ = "rejected_row"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_run.run_id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(128))
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)


# --- rollups -------------------------------------------------------------------------------


_SESSION_MEASURES = (
    "live_minutes",
    "online_minutes",
    "views",
    "viewers",
    "peak_online",
    "watch_seconds",
    "new_followers",
    "interacting_viewers",
    "product_exposed_viewers",
    "product_clickers",
    "live_buyers",
    "explain_gmv_fen",
    "explain_minutes",
)


class _DailySales:
    """The additive sales measures of a daily rollup row (money in fen), shared by the daily grains."""

    gmv_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    cancelled_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    buyers: Mapped[int] = mapped_column(Integer, default=0)
    refunded_orders: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_orders: Mapped[int] = mapped_column(Integer, default=0)
    live_gmv_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    provisional_lines: Mapped[int] = mapped_column(Integer, default=0)


#: the names of those measures (the columns of :class:`_DailySales`, in order)
_SALES_MEASURES = tuple(_DailySales.__annotations__)


class RollupDaily(_DailySales, Base):
    """Sales per local day (Asia/Shanghai), platform, host and product: the dashboard's daily grain.

    Rebuilt by ``livecommerce.warehouse.rollups.refresh`` for the days a load touched. ``host_key``
    is the attributed host, ``''`` for sales no host is credited with (shelf, affiliate);
    ``product_key`` is ``''`` for lines with no known product. An order counts once per host (on its
    first line); a buyer once per day and host. Money in fen.
    """

    __tablename__ = "rollup_daily"
    __table_args__ = (
        Index(None, "host_key", "day"),
        # a county's league reads its products' rows per host: on PostgreSQL the index carries the
        # host and the measures, so the read is an index-only scan (migration 0017)
        Index(None, "product_key", "day", postgresql_include=["platform_id", "host_key", *_SALES_MEASURES]),
        # no index on day alone: the primary key starts with it
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # derived: no foreign key (0022)
    host_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)


class RollupProductDaily(_DailySales, Base):
    """Sales per local day, platform and product: exactly ``rollup_daily`` summed over hosts.

    Kept by the same refresh; a county's and a product's totals, trends and top products read it, so
    their cost does not grow with the number of hosts selling the county's products."""

    __tablename__ = "rollup_product_daily"
    __table_args__ = (Index(None, "product_key", "day"),)  # day: the primary key starts with it
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # derived: no foreign key (0022)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)


class RollupPlatformDaily(_DailySales, Base):
    """Sales per local day and platform: exactly ``rollup_daily`` summed over hosts and products.

    Kept by the same refresh, so that what covers everything (an analyst's overview, freshness)
    reads one row per day and platform however many hosts and products the warehouse holds.
    """

    __tablename__ = "rollup_platform_daily"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # derived: no foreign key (0022)


class RollupSession(Base):
    """One row per live session: its traffic and the sales attributed to it (money in fen)."""

    __tablename__ = "rollup_session"
    __table_args__ = (
        # a county's league reads its hosts' sessions: on PostgreSQL an index-only scan (migration 0018)
        Index(None, "host_id", "day", postgresql_include=["platform_id", *_SESSION_MEASURES]),
        Index(None, "day"),
    )
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # derived: no foreign key (0022)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host_id: Mapped[str | None] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date)
    started_at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    live_minutes: Mapped[int] = mapped_column(Integer, default=0)
    online_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    viewers: Mapped[int] = mapped_column(BigInteger, default=0)
    peak_online: Mapped[int] = mapped_column(Integer, default=0)
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    new_followers: Mapped[int] = mapped_column(Integer, default=0)
    interacting_viewers: Mapped[int] = mapped_column(BigInteger, default=0)
    product_exposed_viewers: Mapped[int] = mapped_column(BigInteger, default=0)
    product_clickers: Mapped[int] = mapped_column(BigInteger, default=0)
    gmv_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    live_buyers: Mapped[int] = mapped_column(Integer, default=0)
    explain_gmv_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    explain_minutes: Mapped[int] = mapped_column(Integer, default=0)


class RollupMonthly(_DailySales, Base):
    """``rollup_daily`` summed per local month: ``day`` is the month's first day.

    Kept by the same refresh for every month a load touched. A period's whole months are read from
    here and only its partial months' days from ``rollup_daily``, so a year of a county's league or of
    everyone's top hosts reads twelve rows per host and product instead of 365."""

    __tablename__ = "rollup_monthly"
    __table_args__ = (Index(None, "host_key", "day"), Index(None, "product_key", "day"))
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)


class RollupSessionMonthly(Base):
    """``rollup_session`` summed per local month (``day``: the month's first day), platform and host
    (``''``: sessions of no known host): the number of sessions, the effective ones (at least 30
    minutes) and the sessions' measures (``peak_online``: the highest). Kept by the same refresh."""

    __tablename__ = "rollup_session_monthly"
    __table_args__ = (Index(None, "host_id", "day"),)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    effective_sessions: Mapped[int] = mapped_column(Integer, default=0)
    live_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    online_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    viewers: Mapped[int] = mapped_column(BigInteger, default=0)
    peak_online: Mapped[int] = mapped_column(Integer, default=0)
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    new_followers: Mapped[int] = mapped_column(BigInteger, default=0)
    interacting_viewers: Mapped[int] = mapped_column(BigInteger, default=0)
    product_exposed_viewers: Mapped[int] = mapped_column(BigInteger, default=0)
    product_clickers: Mapped[int] = mapped_column(BigInteger, default=0)
    gmv_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    live_buyers: Mapped[int] = mapped_column(BigInteger, default=0)
    explain_gmv_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    explain_minutes: Mapped[int] = mapped_column(BigInteger, default=0)


# --- forecasts -----------------------------------------------------------------------------


class _Refunds:
    """The measures of a refund rollup row: refunded amount (fen) and refunded lines."""

    refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_lines: Mapped[int] = mapped_column(Integer, default=0)


class _GeoSales(_Refunds):
    """The measures of a geo rollup row: GMV (fen), distinct orders, and the refunds."""

    gmv_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)


class RollupGeo(_GeoSales, Base):
    """Sales per local day, platform, product and buyer province (``''`` when unknown).

    Serves the county, product and overview maps of one platform without scanning ``order_line``
    (:class:`RollupGeoTotal` those of all platforms); a host's own provinces are read from
    ``order_line`` through its (host, time) index.
    """

    __tablename__ = "rollup_geo"
    # day: the primary key starts with it; on PostgreSQL a county's provinces are an index-only scan
    __table_args__ = (
        Index(
            None,
            "product_key",
            "day",
            postgresql_include=["platform_id", "province", "gmv_fen", "orders", "refund_fen", "refunded_lines"],
        ),
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # derived: no foreign key (0022)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    province: Mapped[str] = mapped_column(String(32), primary_key=True)


class RollupGeoHostMonthly(_GeoSales, Base):
    """Sales per local month (``day``: its first day), platform, host and buyer province (``''`` when
    unknown), of the lines credited to a host. A host's map over whole months reads it; the days of a
    period's partial months come from the host's own lines. Kept by the same refresh, which
    recomputes whole months."""

    __tablename__ = "rollup_geo_host_monthly"
    __table_args__ = (Index(None, "host_key", "day"),)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    province: Mapped[str] = mapped_column(String(32), primary_key=True)


class RollupGeoTotal(_GeoSales, Base):
    """``rollup_geo`` summed over platforms: sales per local day, product and buyer province.

    What provinces read when no platform is chosen. A county's 30 days hold at most days x products x
    provinces rows here, a bound a busier county reaches, where per platform the rows kept growing with
    the number of platforms selling to each province (docs/scaling.md)."""

    __tablename__ = "rollup_geo_total"
    # day: the primary key starts with it; on PostgreSQL a county's provinces are an index-only scan
    __table_args__ = (
        Index(
            None,
            "product_key",
            "day",
            postgresql_include=["province", "gmv_fen", "orders", "refund_fen", "refunded_lines"],
        ),
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    province: Mapped[str] = mapped_column(String(32), primary_key=True)


class RollupRefund(_Refunds, Base):
    """Refunded lines per local (order) day, platform, host, product, reason and whole days between
    shipment and refund (``transit_days = -1``: refunded before shipment). Refunds are a few percent
    of lines, so this stays small."""

    __tablename__ = "rollup_refund"
    __table_args__ = (Index(None, "host_key", "day"), Index(None, "product_key", "day"))  # day: the primary key
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # derived: no foreign key (0022)
    host_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    reason: Mapped[str] = mapped_column(String(256), primary_key=True)
    transit_days: Mapped[int] = mapped_column(Integer, primary_key=True)


class RollupRefundProduct(_Refunds, Base):
    """``rollup_refund`` summed over hosts: refunds per local day, platform, product, reason and days
    in transit. What a county, a product or everything reads, at a cost that does not grow with the
    number of hosts; kept by the same refresh."""

    __tablename__ = "rollup_refund_product"
    # day: the primary key starts with it; on PostgreSQL a county's refunds are an index-only scan
    __table_args__ = (
        Index(
            None,
            "product_key",
            "day",
            postgresql_include=["platform_id", "reason", "transit_days", "refund_fen", "refunded_lines"],
        ),
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # derived: no foreign key (0022)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    reason: Mapped[str] = mapped_column(String(256), primary_key=True)
    transit_days: Mapped[int] = mapped_column(Integer, primary_key=True)


class RollupGeoMonthly(_GeoSales, Base):
    """``rollup_geo`` summed per local month (``day``: its first day): a platform's provinces over
    whole months. Kept by the same refresh."""

    __tablename__ = "rollup_geo_monthly"
    __table_args__ = (Index(None, "product_key", "day"),)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    province: Mapped[str] = mapped_column(String(32), primary_key=True)


class RollupRefundProductMonthly(_Refunds, Base):
    """``rollup_refund_product`` summed per local month (``day``: its first day): a platform's refunds
    by product, reason and days in transit over whole months. Kept by the same refresh."""

    __tablename__ = "rollup_refund_product_monthly"
    __table_args__ = (Index(None, "product_key", "day"),)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    reason: Mapped[str] = mapped_column(String(256), primary_key=True)
    transit_days: Mapped[int] = mapped_column(Integer, primary_key=True)


class RollupRefundTotal(_Refunds, Base):
    """``rollup_refund_product`` summed over platforms and days in transit: refunds per local day,
    product and reason. What refunds by reason or by product read when no platform is chosen: at most
    days x products x reasons rows for a period, however busy the county."""

    __tablename__ = "rollup_refund_total"
    # day: the primary key starts with it; on PostgreSQL a county's refunds are an index-only scan
    __table_args__ = (Index(None, "product_key", "day", postgresql_include=["reason", "refund_fen", "refunded_lines"]),)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    product_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    reason: Mapped[str] = mapped_column(String(256), primary_key=True)


class ForecastRun(Base):
    """One forecasting run: when, how far ahead, with which settings (JSON) and from which data."""

    __tablename__ = "forecast_run"
    __table_args__ = (Index(None, "created_at_utc"),)
    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    horizon: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[str] = mapped_column(Text, default="{}")
    source: Mapped[str] = mapped_column(String(256))


class Forecast(Base):
    """A run's forecast of one series (a product's units per local day) on one day.

    ``cutoff`` is the last day of the history the forecast was made from; ``mean`` and the quantiles
    ``q10``/``q50``/``q90`` are units (of the product, per day); ``model`` is the selected rung.
    """

    __tablename__ = "forecast"
    __table_args__ = (Index(None, "unique_id", "ds"),)
    run_id: Mapped[str] = mapped_column(ForeignKey("forecast_run.run_id", ondelete="CASCADE"), primary_key=True)
    unique_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    ds: Mapped[date] = mapped_column(Date, primary_key=True)
    model: Mapped[str] = mapped_column(String(32))
    cutoff: Mapped[date] = mapped_column(Date)
    mean: Mapped[float] = mapped_column(Float)
    q10: Mapped[float | None] = mapped_column(Float)
    q50: Mapped[float | None] = mapped_column(Float)
    q90: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


class ForecastTotal(Base):
    """A run's forecast of the units of one series summed over its first ``days`` days (7, 14, 28 …).

    ``mean`` and ``q10``/``q50``/``q90`` are units over the whole span, calibrated on the backtest
    errors of the same sums (not sums of daily quantiles): what the stock to prepare is read from.
    """

    __tablename__ = "forecast_total"
    run_id: Mapped[str] = mapped_column(ForeignKey("forecast_run.run_id", ondelete="CASCADE"), primary_key=True)
    unique_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    model: Mapped[str] = mapped_column(String(32))
    mean: Mapped[float] = mapped_column(Float)
    q10: Mapped[float | None] = mapped_column(Float)
    q50: Mapped[float | None] = mapped_column(Float)
    q90: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


class BacktestMetric(Base):
    """A run's backtest errors of one model on one series and window (``cutoff``: the window's last training day).

    ``mase``/``rmsse`` are scaled by the in-sample naive error; ``wape`` a share; ``pinball`` the mean
    pinball loss of q10/q50/q90 in units; ``coverage`` the share of actuals inside [q10, q90].
    """

    __tablename__ = "backtest_metric"
    run_id: Mapped[str] = mapped_column(ForeignKey("forecast_run.run_id", ondelete="CASCADE"), primary_key=True)
    unique_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    model: Mapped[str] = mapped_column(String(32), primary_key=True)
    cutoff: Mapped[date] = mapped_column(Date, primary_key=True)
    mase: Mapped[float | None] = mapped_column(Float)
    rmsse: Mapped[float | None] = mapped_column(Float)
    wape: Mapped[float | None] = mapped_column(Float)
    pinball: Mapped[float | None] = mapped_column(Float)
    coverage: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


# --- users and access (issue 11) ----------------------------------------------------------


class AppUser(Base):
    """A person who logs in. ``role``: ``streamer`` (sees the hosts bound in ``app_user_host``),
    ``envoy`` (the counties in ``app_user_county``), ``analyst`` (everything, read-only) or ``admin``
    (everything, users and uploads). ``password_hash`` is argon2id (never the password)."""

    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint("role IN ('streamer','envoy','analyst','admin')", name="role"),)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AppUserHost(Base):
    """A streamer's host: the user sees this host's sessions and sales."""

    __tablename__ = "app_user_host"
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id", ondelete="CASCADE"), primary_key=True)
    host_id: Mapped[str] = mapped_column(String(128), primary_key=True)


class AppUserCounty(Base):
    """An envoy's county: the user sees its hosts and the sales of its products."""

    __tablename__ = "app_user_county"
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id", ondelete="CASCADE"), primary_key=True)
    county_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ApiToken(Base):
    """A JSON API token of a user: ``token_id`` is its public prefix, ``token_hash`` the SHA-256 of its
    secret part (the token itself is shown once and never stored)."""

    __tablename__ = "api_token"
    __table_args__ = (Index(None, "user_id"),)
    token_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64), default="")
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at_utc: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditLog(Base):
    """What happened, who did it, from where: logins (and failures, throttling), denials, uploads,
    exports, user changes. ``detail`` is JSON; user ids are not foreign keys so entries outlive users."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at_utc"), Index(None, "event", "at_utc"))
    audit_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(36))
    username: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[str | None] = mapped_column(Text)


# --- live sessions from schedules and platform session reports (issue 5) -------------------


class ScheduleShift(Base):
    """A host's scheduled shift (排班) as a 排班表 lists it, in UTC; natural key (platform, host, start).

    A shift that no known session of the same host and platform overlaps becomes a ``live_session``
    with ``source = 'schedule'`` and ``session_id`` as stored here (``sched:<host>:<local start>``).
    ``path``/``line`` name where the shift was first read, so a contradicting shift can be refused
    with both lines named. ``co_hosts`` lists the other names of a combo cell (``A+B``).
    """

    __tablename__ = "schedule_shift"
    __table_args__ = (
        CheckConstraint("ended_at_utc > started_at_utc", name="ends_after_start"),
        Index(None, "platform_id", "started_at_utc"),
    )
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.platform_id"), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("host.host_id"), primary_key=True)
    started_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    ended_at_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    session_id: Mapped[str] = mapped_column(String(128))
    host_name: Mapped[str | None] = mapped_column(String(128))
    co_hosts: Mapped[str | None] = mapped_column(String(256))
    controller: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(String(256))
    path: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_run.run_id"))


class SessionChannel(Base):
    """Traffic of a session by channel (Douyin compass 流量分析-渠道分析); the 整体 total row is not stored."""

    __tablename__ = "session_channel"
    __table_args__ = (
        ForeignKeyConstraint(
            ["platform_id", "session_id"],
            ["live_session.platform_id", "live_session.session_id"],
            ondelete="CASCADE",
        ),
    )
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(128), primary_key=True)
    viewers: Mapped[int | None] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)
    share: Mapped[float | None] = mapped_column(Float)
    gmv_fen: Mapped[int | None] = mapped_column(BigInteger)


class SessionProductStat(Base):
    """A product's figures in one session as the platform reports them (Douyin compass 商品明细).

    One row per product: SKU sub-rows are folded into their product row, never added to it.
    """

    __tablename__ = "session_product_stat"
    __table_args__ = (
        ForeignKeyConstraint(
            ["platform_id", "session_id"],
            ["live_session.platform_id", "live_session.session_id"],
            ondelete="CASCADE",
        ),
    )
    platform_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.product_id"), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(256))
    price_fen: Mapped[int | None] = mapped_column(BigInteger)
    exposed_viewers: Mapped[int | None] = mapped_column(BigInteger)
    clickers: Mapped[int | None] = mapped_column(BigInteger)
    orders: Mapped[int | None] = mapped_column(BigInteger)
    units: Mapped[int | None] = mapped_column(BigInteger)
    gmv_fen: Mapped[int | None] = mapped_column(BigInteger)
    explain_seconds: Mapped[int | None] = mapped_column(BigInteger)


# --- session plans (issue 10) ------------------------------------------------------------------


class SessionPlan(Base):
    """A planned live session of a host (the planner's proposal, saved), with its expected GMV (fen).

    ``gmv_low_fen``/``gmv_high_fen``: the 80% interval; ``based_on``: ``host`` or ``county`` (too little
    history of its own); ``status``: planned, done, cancelled; ``reasons``: JSON list of ``{en, zh}``.
    """

    __tablename__ = "session_plan"
    __table_args__ = (
        CheckConstraint("status IN ('planned','done','cancelled')", name="status"),
        CheckConstraint("planned_end_utc > planned_start_utc", name="ends_after_start"),
        Index(None, "host_id", "planned_start_utc"),
        Index(None, "county_id", "planned_start_utc"),
    )
    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("host.host_id"))
    county_id: Mapped[str | None] = mapped_column(ForeignKey("county.county_id"))
    platform_id: Mapped[str | None] = mapped_column(ForeignKey("platform.platform_id"))
    planned_start_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    planned_end_utc: Mapped[datetime] = mapped_column(UtcDateTime)
    slot: Mapped[str] = mapped_column(String(16))
    based_on: Mapped[str] = mapped_column(String(16), default="host")
    expected_gmv_fen: Mapped[int] = mapped_column(BigInteger)
    gmv_low_fen: Mapped[int] = mapped_column(BigInteger)
    gmv_high_fen: Mapped[int] = mapped_column(BigInteger)
    expected_profit_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reasons: Mapped[str] = mapped_column(Text, default="[]")


class SessionPlanItem(Base):
    """A product of a planned session: role (traffic, profit, in_season), price, units to prepare.

    ``units_p50``/``units_p90``: demand quantiles; ``units_to_prepare``: the newsvendor quantity;
    ``price_test``: the price is a test price; ``reasons``: JSON list of ``{en, zh}``.
    """

    __tablename__ = "session_plan_item"
    __table_args__ = (CheckConstraint("role IN ('traffic','profit','in_season')", name="role"),)
    plan_id: Mapped[str] = mapped_column(ForeignKey("session_plan.plan_id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.product_id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    price_test: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_units: Mapped[float] = mapped_column(Float)
    units_p50: Mapped[int] = mapped_column(Integer)
    units_p90: Mapped[int] = mapped_column(Integer)
    units_to_prepare: Mapped[int] = mapped_column(Integer)
    expected_gmv_fen: Mapped[int] = mapped_column(BigInteger)
    reasons: Mapped[str] = mapped_column(Text, default="[]")


class PlannerModel(Base):
    """The planner's demand model as fitted by a run (``livecommerce forecast run``), stored so that
    building a plan does not refit it on every host's sessions.

    ``stamp`` names the warehouse state it was fitted on (sessions, their last start, hosts,
    products): a model is used only while the warehouse still carries that stamp. ``payload`` is the
    model as JSON (:func:`livecommerce.planner.model_to_json`).
    """

    __tablename__ = "planner_model"
    __table_args__ = (Index(None, "stamp", "created_at_utc"),)
    model_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    stamp: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
