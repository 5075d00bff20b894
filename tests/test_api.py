"""The JSON API checked against its OpenAPI file (``docs/openapi.yaml``) with schemathesis: generated
requests (valid and invalid parameters, missing or wrong tokens) to every operation, each answer
validated against the documented status codes, content types and schemas, and no server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from test_security import build_world

from livecommerce import auth
from livecommerce.api import PREFIX
from livecommerce.config import load_settings
from livecommerce.dashboard import create_app
from livecommerce.warehouse import init
from livecommerce.warehouse.engine import make_engine

OPENAPI = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The server over the awkward world (with one stored forecast), an analyst's and an envoy's tokens."""
    mp = pytest.MonkeyPatch()
    mp.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'w.db'}"
    engine = make_engine(url)
    init(engine)
    build_world(engine)
    _store_forecast(engine)
    auth.add_user(engine, "analyst", "analyst-password", "analyst")
    auth.add_user(engine, "envoy", "envoy-password", "envoy", counties=["north"])
    app = create_app(load_settings({"LIVECOMMERCE_DB_URL": url, "LIVECOMMERCE_SECRET_KEY": "k" * 48}), engine)
    yield {
        "server": app.server,
        "engine": engine,
        "analyst": auth.create_token(engine, "analyst"),
        "envoy": auth.create_token(engine, "envoy"),
    }
    engine.dispose()
    mp.undo()


def _store_forecast(engine: Any) -> None:
    import datetime as dt

    import polars as pl

    from livecommerce.forecast.store import save_run

    days = [dt.date(2024, 11, 10) + dt.timedelta(days=i) for i in range(3)]
    frame = pl.DataFrame(
        {
            "unique_id": ["P1"] * 3 + ["P3"] * 3,
            "ds": days * 2,
            "model": ["seasonal_naive"] * 6,
            "mean": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "q0.1": [0.0] * 6,
            "q0.5": [1.0] * 6,
            "q0.9": [9.0] * 6,
        }
    )
    save_run(engine, frame, horizon=3, source="test")


def test_every_route_is_documented(api: dict[str, Any]) -> None:
    documented = set(yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))["paths"])
    served = {r.rule for r in api["server"].url_map.iter_rules() if r.rule.startswith(PREFIX)}
    assert served == documented


def test_forecasts_and_recommendations_follow_the_scope(api: dict[str, Any]) -> None:
    client = api["server"].test_client()
    envoy = {"Authorization": f"Bearer {api['envoy']}"}
    analyst = {"Authorization": f"Bearer {api['analyst']}"}
    mine = client.get(f"{PREFIX}/forecasts", headers=envoy).get_json()
    assert {r["product_id"] for r in mine["data"]} == {"P1"} and mine["total"] == 3
    every = client.get(f"{PREFIX}/forecasts", headers=analyst).get_json()
    assert {r["product_id"] for r in every["data"]} == {"P1", "P3"}
    assert client.get(f"{PREFIX}/forecasts?product=P3", headers=envoy).status_code == 403
    stock = client.get(f"{PREFIX}/recommendations/stock?days=7", headers=envoy).get_json()
    assert {r["product_id"] for r in stock["data"]} == {"P1", "P2"}
    csv = client.get(f"{PREFIX}/forecasts?format=csv", headers=envoy)
    assert csv.mimetype == "text/csv" and csv.headers["X-Total-Count"] == "3"
    assert csv.get_data(as_text=True).splitlines()[0].startswith("product_id,ds,model,mean")


def test_the_api_conforms_to_its_openapi_file(api: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_path(OPENAPI)
    schema.app = api["server"]
    token = api["envoy"]

    @schema.auth()
    class Token:
        def get(self, case: Any, context: Any) -> str:
            return token

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4
    for operation in operations:
        examples = 15 if "recommendations" in operation.label else 40

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case: Any) -> None:
            response = case.call_and_validate()
            assert response.status_code < 500

        conforms()
