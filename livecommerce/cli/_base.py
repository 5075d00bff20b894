"""Shared pieces of the CLI: the root group, the warehouse option, JSON and error rendering."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from livecommerce import __version__
from livecommerce.config import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)
#: tables that are the command's output go to standard output
out_console = Console(width=None if sys.stdout.isatty() else 140)


@dataclass
class AppContext:
    """What every command needs: settings (with ``--db`` applied) and a lazily made engine."""

    settings: Settings
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from livecommerce.warehouse import connect

            self._engine = connect(settings=self.settings)
        return self._engine


def _default(obj: Any) -> Any:
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def emit_json(doc: Any) -> None:
    """Print ``doc`` as one JSON document (UTF-8, Chinese kept readable)."""
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=_default))


def friendly_errors(func: F) -> F:
    """Turn the library's known errors into one-line hints and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from livecommerce.warehouse import DatabaseURLError

        try:
            return func(*args, **kwargs)
        except DatabaseURLError as exc:
            raise click.ClickException(str(exc)) from exc
        except OperationalError as exc:
            raise click.ClickException(
                f"cannot use the database: {exc.orig}. Check --db / LIVECOMMERCE_DB_URL and that the "
                f"server is running. / 无法使用数据库：请检查 --db 或 LIVECOMMERCE_DB_URL，并确认数据库已启动。"
            ) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="LIVECOMMERCE_DB_URL",
    help="Warehouse URL (overrides LIVECOMMERCE_DB_URL); default sqlite:///./data/livecommerce.db.",
)
@click.version_option(__version__, prog_name="livecommerce")
@click.pass_context
def main(ctx: click.Context, db_url: str | None) -> None:
    """livecommerce: livestream commerce analytics for rural producers.

    直播电商分析工具：导入平台订单与直播数据，计算指标，预测需求，建议价格与备货。
    """
    ctx.obj = AppContext(settings=load_settings().with_db(db_url))


pass_app = click.make_pass_decorator(AppContext)


def run() -> None:  # pragma: no cover - console entry
    main(prog_name="livecommerce")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
