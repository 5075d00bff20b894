"""The CLI: init / info on both databases, JSON output, errors as hints, every command documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from livecommerce.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run(warehouse, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, **warehouse.env}
    return subprocess.run(
        [sys.executable, "-m", "livecommerce", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_init_then_info_json_in_a_subprocess(bare_warehouse) -> None:  # type: ignore[no-untyped-def]
    done = _run(bare_warehouse, "init", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(_run(bare_warehouse, "info", "--json").stdout)
    assert doc["schema_version"] == doc["schema_head"] and doc["up_to_date"] is True
    assert doc["dialect"] == bare_warehouse.dialect
    assert doc["tables"]["platform"] == 4 and doc["tables"]["order_line"] == 0


def test_db_option_overrides_environment_and_masks_password(tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    db = tmp_path / "x" / "wh.db"
    env = {"LIVECOMMERCE_DB_URL": "postgresql+psycopg://u:hunter2@127.0.0.1:1/none"}
    result = runner.invoke(main, ["--db", f"sqlite:///{db}", "init", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["url"] == f"sqlite:///{db}" and db.exists()
    result = runner.invoke(main, ["info", "--json"], env=env)
    assert result.exit_code == 1
    assert "hunter2" not in result.output and "数据库" in result.output


def test_unknown_database_is_a_hint_not_a_traceback() -> None:
    result = CliRunner().invoke(main, ["--db", "mysql://root@localhost/x", "info"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "SQLite" in result.output and "不支持" in result.output


def _commands(group: click.Group, prefix: str = "livecommerce") -> list[str]:
    found = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            found.extend(_commands(cmd, path))
        else:
            found.append(path)
    return found


def test_every_cli_command_is_documented() -> None:
    docs = (ROOT / "README.md").read_text(encoding="utf-8")
    docs += "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))
    missing = [c for c in _commands(main) if f"`{c}" not in docs]
    assert not missing, f"document these commands in README.md or docs/: {missing}"


def test_every_reporting_command_takes_json() -> None:
    lacking = []

    def walk(group: click.Group, prefix: str) -> None:
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix} {name}")
            elif not any("--json" in p.opts for p in cmd.params if isinstance(p, click.Option)):
                if not getattr(cmd.callback, "no_json", False):
                    lacking.append(f"{prefix} {name}")

    walk(main, "livecommerce")
    assert not lacking, f"these commands report something but take no --json: {lacking}"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = readme.splitlines()
    marker = lines.index("<!-- test-command -->")
    command = lines[marker + 2]
    assert "pytest" in command and "pip install" in command
    assert "<!-- test-command -->" in ci
    assert readme.count("<!-- run-command -->") == 1 and readme.count("<!-- test-command -->") == 1
