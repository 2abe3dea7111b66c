"""Contract test: schemathesis generates requests from /api/v1/openapi.json and checks every answer
against the document: no server errors, only documented status codes, content types, headers and
bodies that match their schemas. Valid requests (positive) and invalid ones (negative, which must be
refused with a 4xx)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lms.models import ApiTokenScope
from lms.services import school_calendar
from tests.api_helpers import World, build_world, make_key

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 20
NEGATIVE_EXAMPLES_PER_OPERATION = 8


def _isolated(app: Any) -> Any:
    """The app as a WSGI callable with an application context (and database session) per request,
    as in production, apart from the test's own."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        with app.app_context():
            return list(app(environ, start_response))

    return wsgi


def _run(
    operation: Any,
    headers: dict[str, str],
    mode: GenerationMode = GenerationMode.POSITIVE,
    **fixed: Any,
) -> int:
    calls = 0
    negative = mode is GenerationMode.NEGATIVE
    checks = [*CHECKS, negative_data_rejection] if negative else CHECKS

    @settings(
        max_examples=NEGATIVE_EXAMPLES_PER_OPERATION if negative else EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def check(case: Any) -> None:
        nonlocal calls
        calls += 1
        case.call_and_validate(headers=headers, checks=checks)

    check()
    return calls


def _world() -> World:
    """The API's world, with the school years loaded (so the calendars have holidays to show)."""
    school_calendar.load_calendar_files(school_calendar.calendar_files())
    return build_world()


def test_every_operation_keeps_to_the_openapi_document(app, db) -> None:
    world = _world()
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
        "GET /cohorts/{cohort_id}/attendance",
        "GET /cohorts/{cohort_id}/calendar",
        "GET /enrolments/{enrolment_id}/attendance",
        "GET /school-calendars",
    }
    for operation in operations:
        assert _run(operation, headers) > 0, operation.label
        names = {parameter.name for parameter in operation.path_parameters}
        if names:  # once more with ids that exist, so the 200 answers are checked too
            fixed = {name: real_ids[name] for name in names}
            assert _run(operation, headers, path_parameters=fixed) > 0, operation.label


def test_invalid_requests_are_refused_as_the_document_says(app, db) -> None:
    world = _world()
    _token, headers = make_key(world.coordinator, ApiTokenScope.READ_WRITE)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _isolated(app))
    for result in schema.get_all_operations():
        operation = result.ok()
        assert _run(operation, headers, GenerationMode.NEGATIVE) > 0, operation.label


def test_walking_the_cursor_lists_keeps_to_the_document(app, db) -> None:
    """Every page of the lists paged by cursor, first to last through next_cursor, with the real
    cursors the API gives out (generated cursors are only ever refused)."""
    world = build_world()
    _token, headers = make_key(world.coordinator)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _isolated(app))
    for path, expected in {
        "/enrolments": 3,
        "/submissions": 2,
        "/signoffs": 3,
    }.items():
        operation = schema[path]["GET"]
        query: dict[str, Any] = {"per_page": 1}
        pages = 0
        while True:
            response = operation.Case(query=query).call_and_validate(headers=headers, checks=CHECKS)
            assert response.status_code == 200, path
            pages += 1
            cursor = response.json()["meta"]["next_cursor"]
            if cursor is None:
                break
            query = {"per_page": 1, "after": cursor}
        assert pages == expected, path
