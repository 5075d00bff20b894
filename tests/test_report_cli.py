"""``livecommerce report``: JSON keyed by KPI names with money in yuan, CSV, daily text, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from test_queries import tiny  # noqa: F401  (fixture)

from livecommerce import queries as q
from livecommerce.cli import main
from livecommerce.scope import Scope


def _invoke(warehouse, *args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, list(args), env=warehouse.env)
    return result


def test_host_report_json_equals_queries_in_yuan(warehouse, tiny) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    result = _invoke(warehouse, "report", "host", "H1", "--from", "2025-10-01", "--to", "2025-10-01", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    expected = q.kpi_report(tiny, Scope.everything(), "host", "H1", q.Filters(*(2 * [q.dt.date(2025, 10, 1)])))
    row = expected.row(0, named=True)
    for key in (
        "gmv",
        "net_gmv",
        "orders",
        "units",
        "buyers",
        "aov",
        "refund_rate_amount",
        "refund_rate_orders",
        "views",
        "viewers",
        "gpm",
        "uv_value",
    ):
        assert key in doc["kpis"], key
    assert doc["kpis"]["gmv"] == pytest.approx(row["gmv"] / 100) == pytest.approx(230.0)
    assert doc["kpis"]["gpm"] == pytest.approx(row["gpm"] / 100)
    assert doc["kpis"]["orders"] == row["orders"] == 3
    assert doc["previous"]["gmv"] == 0 and doc["labels"]["gmv"]["zh"] == "成交金额"


def test_csv_and_table_formats(warehouse, tiny) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    result = _invoke(warehouse, "report", "county", "lixian", "--format", "csv")
    rows = {r["kpi"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert float(rows["gmv"]["value"]) == pytest.approx(330.0) and rows["gmv"]["label_en"] == "GMV"
    table = _invoke(warehouse, "report", "session", "douyin:S1")
    assert table.exit_code == 0 and "¥230.00" in table.output


def test_daily_text_in_chinese_and_english(warehouse, tiny) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    zh = _invoke(warehouse, "report", "daily", "--host", "H1", "--date", "2025-10-01")
    assert zh.exit_code == 0, zh.output
    assert "【礼县·H1 日报】2025-10-01" in zh.output and "成交金额：¥230.00" in zh.output
    assert "净成交金额：¥80.00" in zh.output and "直播场次：1" in zh.output
    en = _invoke(warehouse, "report", "daily", "--host", "H1", "--date", "2025-10-01", "--lang", "en", "--json")
    assert "GMV: ¥230.00" in json.loads(en.output)["text"]


def test_unknown_ids_are_errors_not_zeros(warehouse, tiny) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for args in (("report", "host", "nobody"), ("report", "daily", "--host", "nobody", "--date", "2025-10-01")):
        result = _invoke(warehouse, *args)
        assert result.exit_code == 1 and "Traceback" not in result.output
