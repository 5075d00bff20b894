"""`livecommerce recommend price | stock` on an empty warehouse: clear errors, no tracebacks."""

from __future__ import annotations

from click.testing import CliRunner

from livecommerce.cli import main


def test_recommend_commands_fail_with_hints(sqlite_warehouse) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = sqlite_warehouse.env
    both = runner.invoke(main, ["recommend", "stock", "--sku", "x", "--days", "7", "--session", "2024-12-18"], env=env)
    assert both.exit_code == 2 and "exactly one of --session DATE or --days N" in both.output
    unknown = runner.invoke(main, ["recommend", "stock", "--sku", "nope", "--days", "7", "--json"], env=env)
    assert unknown.exit_code == 1 and "unknown product 'nope'" in unknown.output
    price = runner.invoke(main, ["recommend", "price", "--sku", "nope", "--json"], env=env)
    assert price.exit_code == 1 and "Traceback" not in price.output
