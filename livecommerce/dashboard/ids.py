"""Component ids shared by the page layouts and the callbacks: one constant per component.

Ids are prefixed by the page that owns them (``host-``, ``county-`` …); the frame's ids (language,
filters, location) have no prefix. Pattern-matching ids are dicts built by the helpers below.
"""

from __future__ import annotations

# --- the frame: built once, present on every page -------------------------------------------
URL = "url"
LANG = "lang"
DATES = "dates"
PLATFORM = "platform"
NAV = "nav"
TEXT = "text"  # pattern-matching type of every translated text node

# --- overview -------------------------------------------------------------------------------
OVERVIEW_DATA = "overview-data"
OVERVIEW_KPIS = "overview-kpis"
OVERVIEW_TREND = "overview-trend"
OVERVIEW_HOSTS = "overview-hosts"
OVERVIEW_PRODUCTS = "overview-products"
OVERVIEW_FRESHNESS = "overview-freshness"

# --- host -----------------------------------------------------------------------------------
HOST_PICK = "host-pick"
HOST_DATA = "host-data"
HOST_KPIS = "host-kpis"
HOST_HINTS = "host-hints"
HOST_SESSIONS = "host-sessions"
HOST_FUNNEL = "host-funnel"
HOST_HEATMAP = "host-heatmap"
HOST_PRODUCTS = "host-products"
HOST_PROVINCES = "host-provinces"
HOST_REFUNDS = "host-refunds"
SESSION_PICK = "session-pick"
SESSION_DATA = "session-data"
SESSION_WANTED = "session-wanted"
SESSION_REPLAY = "session-replay"
SESSION_KPIS = "session-kpis"

# --- county ---------------------------------------------------------------------------------
COUNTY_PICK = "county-pick"
COUNTY_DATA = "county-data"
COUNTY_KPIS = "county-kpis"
COUNTY_LEAGUE = "county-league"
COUNTY_PRODUCTS = "county-products"
COUNTY_TREND = "county-trend"
COUNTY_PROVINCES = "county-provinces"
COUNTY_REFUND_REASONS = "county-refund-reasons"
COUNTY_REFUND_PROVINCES = "county-refund-provinces"

# --- product & forecast ---------------------------------------------------------------------
PRODUCT_PICK = "product-pick"
PRODUCT_HORIZON = "product-horizon"
PRODUCT_DATA = "product-data"
PRODUCT_FAN = "product-fan"
PRODUCT_ACCURACY = "product-accuracy"
PRODUCT_PRICE = "product-price"
PRODUCT_PROFIT = "product-profit"
PRODUCT_STOCK = "product-stock"
PRODUCT_NOTE = "product-note"
PRODUCT_CSV_BUTTON = "product-csv-button"
PRODUCT_CSV = "product-csv"

# --- data -----------------------------------------------------------------------------------
DATA_RUNS_STORE = "data-runs-store"
DATA_RUNS = "data-runs"
DATA_RUN_PICK = "data-run-pick"
DATA_REJECTS = "data-rejects"
DATA_UPLOAD = "data-upload"
DATA_UPLOAD_RESULT = "data-upload-result"


# --- plan (issue 10) ------------------------------------------------------------------------
PLAN_COUNTY = "plan-county"
PLAN_HOST = "plan-host"
PLAN_START = "plan-start"
PLAN_DAYS = "plan-days"
PLAN_BUILD = "plan-build"
PLAN_DATA = "plan-data"
PLAN_LIST = "plan-list"
PLAN_PICKED = "plan-picked"
PLAN_MESSAGE = "plan-message"
PLAN_SESSIONS = "plan-sessions"
PLAN_SESSION_PICK = "plan-session-pick"
PLAN_EDIT_START = "plan-edit-start"
PLAN_EDIT_PRODUCTS = "plan-edit-products"
PLAN_ITEMS = "plan-items"
PLAN_APPLY = "plan-apply"
PLAN_EXPECTED = "plan-expected"
PLAN_REASONS = "plan-reasons"
PLAN_SAVE = "plan-save"
PLAN_SAVED = "plan-saved"
PLAN_SAVED_PICK = "plan-saved-pick"
PLAN_ACTUAL = "plan-actual"
PLAN_CSV_BUTTON = "plan-csv-button"
PLAN_ICS_BUTTON = "plan-ics-button"
PLAN_DOWNLOAD = "plan-download"


def text(key: str) -> dict[str, str]:
    """Return the pattern-matching id of a translated text node showing string ``key``."""
    return {"type": TEXT, "key": key}


def kpi_value(page: str, name: str) -> str:
    """Return the id of the element showing KPI ``name`` on ``page`` (the browser tests read it)."""
    return f"{page}-kpi-{name}"
