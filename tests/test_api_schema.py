"""schemathesis against /api/v1/openapi.json: no 5xx for any generated input, and every response
(status, content type, body) matches the document — on both databases."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.failures import FailureGroup
from starlette.applications import Starlette

from tests.cliutil import yq
from tests.conftest import T0
from yuqing.api import Api
from yuqing.db.session import Database

# "No 5xx, every response as documented". Not positive_data_acceptance: schema-valid input may still
# name a unit that does not exist, and the API rightly answers 400 for it.
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_schema_conformance]


def test_every_operation_conforms_to_the_document(database: Database, tmp_path):
    url = database.url
    secret = yq(url, "tokens", "add", "fuzz", "--role", "admin").out.strip()
    assert yq(url, "incident", "add", "--title", "渑池县燃气爆燃", "--unit", "渑池县", "--no-classify").code == 0
    api = Api(lambda: database, preset="sanmenxia-2017", evidence_dir=tmp_path / "evidence",
              clock=lambda: T0.replace(microsecond=0))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", Starlette(routes=api.routes()))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

        conforms()


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/triage"])
def test_schema_checks_catch_a_wrong_answer(database: Database, tmp_path, path: str):
    # The checks are not vacuous: an endpoint answering a shape the document does not allow fails.
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    api = Api(lambda: database, preset="sanmenxia-2017", evidence_dir=tmp_path / "evidence")
    routes = [r for r in api.routes() if r.path != path]
    routes.append(Route(path, lambda _: JSONResponse({"not": "a list"}), methods=["GET"]))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", Starlette(routes=routes))
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().path == path and r.ok().method == "get")
    case = operation.Case()
    with pytest.raises(FailureGroup) as failure:
        case.call_and_validate(checks=CHECKS)
    assert any("violates schema" in str(e) for e in failure.value.exceptions)
