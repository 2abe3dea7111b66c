"""Contract test: schemathesis generates requests from /api/v1/openapi.json and checks every answer
against the document: no server errors, only documented status codes, content types, headers and
bodies that match their schemas."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lms.models import ApiTokenScope
from tests.api_helpers import build_world, make_key

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 20


def _isolated(app: Any) -> Any:
    """The app as a WSGI callable with an application context (and database session) per request,
    as in production, apart from the test's own."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        with app.app_context():
            return list(app(environ, start_response))

    return wsgi


def _run(operation: Any, headers: dict[str, str], **fixed: Any) -> int:
    calls = 0

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(**fixed))
    def check(case: Any) -> None:
        nonlocal calls
        calls += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
    return calls


def test_every_operation_keeps_to_the_openapi_document(app, db) -> None:
    world = build_world()
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _isolated(app))
    real_ids = {
        "cohort_id": world.cohort_a.id,
        "enrolment_id": world.a1.id,
        "code": world.certificate.verification_code,
    }
    results = list(schema.get_all_operations())
    assert all(
        isinstance(result, Ok) for result in results
    )  # every operation in the document loads
    operations = [result.ok() for result in results]
    assert {op.label for op in operations} >= {
        "GET /cohorts",
        "GET /enrolments",
        "POST /enrolments",
        "GET /certificates/{code}",
    }
    for operation in operations:
        assert _run(operation, headers) > 0, operation.label
        names = {parameter.name for parameter in operation.path_parameters}
        if names:  # once more with ids that exist, so the 200 answers are checked too
            fixed = {name: real_ids[name] for name in names}
            assert _run(operation, headers, path_parameters=fixed) > 0, operation.label
