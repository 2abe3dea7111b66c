"""The OpenAPI 3.1 document of /api/v1, kept beside the code it describes.

``tests/test_api_contract.py`` runs schemathesis against it: every answer must match this document.
``operations()`` feeds the rendered reference page (``/api/v1/docs``).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from lms.blueprints.api.body import MAX_DEPTH
from lms.blueprints.api.idempotency import WAIT
from lms.blueprints.api.params import MAX_CURSOR_LENGTH, MAX_PER_PAGE
from lms.services.idempotency_keys import KEEP_FOR
from lms.services.school_calendar import PlanKind

API_VERSION = "1.2.0"
_WAIT_SECONDS = int(WAIT.total_seconds())
_KEEP_HOURS = int(KEEP_FOR.total_seconds() // 3600)
MAX_ID = 2**31 - 1

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    result = dict(schema)
    result["type"] = [schema["type"], "null"]
    if "enum" in schema:  # an enum holds every value allowed, null included
        result["enum"] = [*schema["enum"], None]
    return result


def obj(properties: dict[str, Schema], description: str = "", **extra: Any) -> Schema:
    schema: Schema = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    schema.update(extra)
    return schema


INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
COUNT = {"type": "integer", "minimum": 0}
PERCENT = {"type": "integer", "minimum": 0, "maximum": 100}
REGION = {"type": "string", "enum": ["parkstad", "westelijke_mijnstreek", "maastricht_heuvelland"]}
ENROLMENT_STATUS = {"type": "string", "enum": ["active", "completed", "withdrawn", "transferred"]}
SUBMISSION_STATUS = {"type": "string", "enum": ["draft", "submitted", "needs_revision", "approved"]}
INTAKE = {"type": "string", "enum": ["side_entrant", "employed"]}
ATTENDANCE_STATUS = {"type": "string", "enum": ["present", "late", "absent"]}
ABSENCE_REASON = {"type": "string", "enum": ["sick", "authorised", "unauthorised"]}
WEEKDAY = {"type": "string", "enum": ["monday", "tuesday", "wednesday", "thursday", "friday"]}
SCHOOL_HOLIDAY = {"type": "string", "enum": ["autumn", "christmas", "spring", "may", "summer"]}
CLOSURE_KIND = {"type": "string", "enum": [*SCHOOL_HOLIDAY["enum"], "closed", "cohort"]}
PLAN_KIND = {"type": "string", "enum": [kind.value for kind in PlanKind]}
SCHOOL_YEAR_PATTERN = "^[0-9]{4}-[0-9]{4}$"

SCHEMAS: dict[str, Schema] = {
    "Problem": {
        "type": "object",
        "description": "An error (RFC 9457, application/problem+json).",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {
                "type": "string",
                "description": "about:blank, or /api/v1/docs#problem-<kind> (see Problems below).",
            },
            "title": STR,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "What went wrong, in plain words."},
            "instance": STR,
            "errors": {
                "type": "array",
                "description": "Per field: what is wrong with it.",
                "items": obj({"field": STR, "message": STR}),
            },
        },
    },
    "PageMeta": obj(
        {"page": ID, "per_page": ID, "total": COUNT, "pages": ID},
        "Where this page is. The Link header has first, prev, next and last.",
    ),
    "CursorMeta": obj(
        {
            "per_page": ID,
            "next_cursor": {
                **nullable(STR),
                "description": "The after value of the next page; null on the last page.",
            },
            "next": {
                **nullable(STR),
                "description": (
                    "The address of the next page (this request with after=next_cursor); null on "
                    "the last page."
                ),
            },
        },
        "Where the next page starts. No total: the list is not counted. The Link header has first "
        "and (except on the last page) next.",
    ),
    "Person": obj({"id": ID, "name": STR}),
    "Participant": obj({"id": ID, "name": STR, "email": STR}),
    "Employer": obj({"id": ID, "name": STR, "kvk_number": STR}),
    "CohortRef": obj({"id": ID, "name": STR, "region": REGION}),
    "Cohort": obj(
        {
            "id": ID,
            "name": STR,
            "region": REGION,
            "status": {"type": "string", "enum": ["open", "closed"]},
            "programme": obj(
                {"id": ID, "code": STR, "version": ID, "title": STR},
                "The programme version the cohort follows (pinned for its whole life).",
            ),
            "start_date": DATE,
            "end_date": DATE,
            "capacity": ID,
            "seats_taken": COUNT,
            "closed_at": nullable(DATETIME),
            "trainers": {"type": "array", "items": ref("Person")},
            "created_at": DATETIME,
        }
    ),
    "AssignmentCounts": obj(
        {
            "total": COUNT,
            "approved": COUNT,
            "submitted": {**COUNT, "description": "Handed in, waiting for assessment."},
            "needs_revision": COUNT,
            "draft": COUNT,
            "overdue": COUNT,
            "percent_approved": PERCENT,
        }
    ),
    "ItemProgress": obj(
        {
            "signed": {**COUNT, "description": "Signed off at (or above) the required level."},
            "required": COUNT,
            "percent": PERCENT,
        }
    ),
    "Progress": obj(
        {
            "week": {**COUNT, "description": "Week of the programme today (0 before the start)."},
            "assignments": ref("AssignmentCounts"),
            "technical": ref("ItemProgress"),
            "skills": ref("ItemProgress"),
            "items_overdue": COUNT,
            "expected_assignments": COUNT,
            "expected_percent": PERCENT,
            "behind": BOOL,
            "certificate_due": BOOL,
        },
        "Progress on today's date, computed the same way as on every page.",
    ),
    "Enrolment": obj(
        {
            "id": ID,
            "cohort": ref("CohortRef"),
            "participant": ref("Participant"),
            "employer": ref("Employer"),
            "intake_type": INTAKE,
            "status": ENROLMENT_STATUS,
            "enrolled_on": DATE,
            "ended_on": nullable(DATE),
            "transferred_from_id": nullable(ID),
            "created_at": DATETIME,
            "updated_at": DATETIME,
            "progress": ref("Progress"),
        }
    ),
    "NewPerson": {
        "type": "object",
        "required": ["first_name", "last_name", "email"],
        "properties": {
            "first_name": {"type": "string", "minLength": 1, "maxLength": 80},
            "name_prefix": {"type": "string", "maxLength": 20},
            "last_name": {"type": "string", "minLength": 1, "maxLength": 80},
            "email": {"type": "string", "format": "email", "maxLength": 254},
        },
        "additionalProperties": False,
    },
    "NewEnrolment": {
        "type": "object",
        "description": (
            "Give participant_id (an existing participant) or participant (a new person, who gets an "
            "account and an invitation by e-mail), not both."
        ),
        "required": ["cohort_id", "employer_id", "intake_type"],
        "properties": {
            "cohort_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "employer_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "intake_type": INTAKE,
            "enrolled_on": {**DATE, "description": "Default: today."},
            "participant_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "participant": ref("NewPerson"),
        },
        "additionalProperties": False,
    },
    "AssignmentRef": obj({"id": ID, "code": STR, "title": STR, "due_week": ID}),
    "AssignmentStatus": obj(
        {
            "assignment": ref("AssignmentRef"),
            "due_date": DATE,
            "status": {
                "type": "string",
                "enum": ["not_started", "draft", "submitted", "needs_revision", "approved"],
            },
            "overdue": BOOL,
            "submission_id": nullable(ID),
            "submitted_at": nullable(DATETIME),
            "approved_at": nullable(DATETIME),
            "updated_at": nullable(DATETIME),
        }
    ),
    "Submission": obj(
        {
            "id": ID,
            "enrolment_id": ID,
            "assignment": ref("AssignmentRef"),
            "status": SUBMISSION_STATUS,
            "submitted_at": nullable(DATETIME),
            "approved_at": nullable(DATETIME),
            "created_at": DATETIME,
            "updated_at": DATETIME,
        }
    ),
    "SignOff": obj(
        {
            "id": ID,
            "sequence": ID,
            "kind": {"type": "string", "enum": ["sign_off", "revocation"]},
            "enrolment_id": ID,
            "checklist_item": obj(
                {
                    "id": ID,
                    "code": STR,
                    "title": STR,
                    "kind": {"type": "string", "enum": ["technical", "skill21"]},
                    "required_level": {"type": "integer", "minimum": 1, "maximum": 4},
                }
            ),
            "level": {"type": "integer", "minimum": 1, "maximum": 4},
            "note": STR,
            "revokes_id": nullable(ID),
            "revoked": {**BOOL, "description": "A later ledger record revokes this one."},
            "signed_by": ref("Person"),
            "signed_at": DATETIME,
        },
        "A record of the append-only sign-off ledger.",
    ),
    "Certificate": obj(
        {
            "id": ID,
            "number": STR,
            "enrolment_id": ID,
            "participant": ref("Person"),
            "status": {"type": "string", "enum": ["valid", "revoked"]},
            "issued_at": DATETIME,
            "revoked_at": nullable(DATETIME),
            "revocation_reason": nullable(STR),
            "replaces_id": nullable(ID),
            "verification_code": STR,
        }
    ),
    "AttendanceMark": obj(
        {
            "enrolment_id": ID,
            "status": {
                **ATTENDANCE_STATUS,
                "description": "present, late (counts as attended) or absent (with a reason).",
            },
            "reason": {
                **nullable(ABSENCE_REASON),
                "description": "Why the participant was absent; null unless absent.",
            },
            "note": {"type": "string", "description": "The trainer's short note (may be empty)."},
        },
        "One participant on one training day.",
    ),
    "AttendanceSession": obj(
        {
            "id": ID,
            "cohort_id": ID,
            "held_on": {**DATE, "description": "The training day."},
            "recorded_at": DATETIME,
            "recorded_by": {
                **nullable(ref("Person")),
                "description": "The trainer who recorded it; null when that account is gone.",
            },
            "updated_at": {
                **nullable(DATETIME),
                "description": "When it was last recorded again; null when never changed.",
            },
            "updated_by": nullable(ref("Person")),
            "counts": obj(
                {"present": COUNT, "late": COUNT, "absent": COUNT},
                "How many participants were present, late and absent.",
            ),
            "records": {
                "type": "array",
                "items": ref("AttendanceMark"),
                "description": "One per participant of the day, by enrolment id.",
            },
        },
        "A training day of a cohort whose attendance has been recorded.",
    ),
    "AttendanceFigures": obj(
        {
            "sessions": {**COUNT, "description": "Training days recorded for the participant."},
            "attended": {**COUNT, "description": "present + late."},
            "present": COUNT,
            "late": COUNT,
            "absent": {**COUNT, "description": "sick + authorised + unauthorised."},
            "sick": COUNT,
            "authorised": COUNT,
            "unauthorised": COUNT,
            "percent": {
                **nullable(PERCENT),
                "description": (
                    "attended over sessions, rounded (arriving late counts as attending); null "
                    "when nothing has been recorded."
                ),
            },
        },
        "A participant's attendance over every training day recorded for them, as the pages "
        "show it. Training days not recorded yet do not count.",
    ),
    "AttendanceRecord": obj(
        {
            "session_id": ID,
            "held_on": {**DATE, "description": "The training day."},
            "enrolment_id": ID,
            "status": ATTENDANCE_STATUS,
            "reason": {
                **nullable(ABSENCE_REASON),
                "description": "Why the participant was absent; null unless absent.",
            },
            "note": {"type": "string", "description": "The trainer's short note (may be empty)."},
        },
        "The participant on one training day.",
    ),
    "PeriodRef": obj({"id": ID, "code": STR, "title": STR, "start_week": ID, "end_week": ID}),
    "PlanLine": obj(
        {
            "kind": {
                **PLAN_KIND,
                "description": (
                    "start, period (a period of the programme), closed (a school holiday, a closed "
                    "day of the programme or the cohort's own exception), due (an assignment's due "
                    "date), review (a progress review is due), end."
                ),
            },
            "first_day": DATE,
            "last_day": {
                **nullable(DATE),
                "description": "For a period or a closure: its last day; otherwise null.",
            },
            "title": {
                "type": "string",
                "description": "The period, assignment or closure; empty for start, review and end.",
            },
            "week": {
                **nullable(ID),
                "description": "The programme week it falls in; null for a closure.",
            },
            "period": {**nullable(ref("PeriodRef")), "description": "For kind period."},
            "assignment": {**nullable(ref("AssignmentRef")), "description": "For kind due."},
            "closure_kind": {
                **nullable(CLOSURE_KIND),
                "description": (
                    "For kind closed: the school holiday (autumn ... summer), closed (a closed day "
                    "of the programme) or cohort (the cohort's own exception)."
                ),
            },
            "moved_from": {
                **nullable(DATE),
                "description": (
                    "For kind moved: the training day held on first_day instead (the line's title "
                    "says why)."
                ),
            },
        },
        "One line of the cohort's year plan.",
    ),
    "TeachingWeek": obj(
        {
            "week": ID,
            "starts_on": {**DATE, "description": "The Monday of programme week `week`."},
        }
    ),
    "CohortCalendar": obj(
        {
            "cohort": ref("CohortRef"),
            "start_date": DATE,
            "end_date": {**DATE, "description": "The Friday of the last programme week."},
            "training_weekdays": {
                "type": "array",
                "items": WEEKDAY,
                "description": "The weekdays the group spends with the trainer.",
            },
            "teaching_weeks": {
                "type": "array",
                "items": ref("TeachingWeek"),
                "description": (
                    "Every programme week: week N is the Nth week that is not a holiday (a week "
                    "counts unless all its working days are closed)."
                ),
            },
            "training_dates": {
                "type": "array",
                "items": DATE,
                "description": (
                    "Every training day from start to end: the training weekdays, less holiday "
                    "weeks and public holidays. Attendance is recorded on these days."
                ),
            },
            "missing_school_years": {
                "type": "array",
                "items": {"type": "string", "pattern": SCHOOL_YEAR_PATTERN},
                "description": (
                    "School years the cohort runs through whose calendar is not loaded yet: their "
                    "holidays still count as programme weeks."
                ),
            },
            "plan": {
                "type": "array",
                "items": ref("PlanLine"),
                "description": "The year in date order, as the cohort page shows it.",
            },
        },
        "A cohort's year by the school calendar.",
    ),
    "Closure": obj(
        {
            "kind": {
                **CLOSURE_KIND,
                "description": "A school holiday (autumn ... summer) or closed (the programme's).",
            },
            "name": STR,
            "first_day": DATE,
            "last_day": DATE,
        }
    ),
    "SchoolCalendar": obj(
        {
            "school_year": {"type": "string", "pattern": SCHOOL_YEAR_PATTERN},
            "region": {"type": "string", "description": "The holiday region (zuid)."},
            "first_day": DATE,
            "last_day": {**DATE, "description": "The last day of its summer holiday."},
            "source": {"type": "string", "description": "Where the dates come from."},
            "closures": {
                "type": "array",
                "items": ref("Closure"),
                "description": "The school holidays and the programme's closed days, by date.",
            },
            "public_holidays": {
                "type": "array",
                "items": DATE,
                "description": "The public holidays from first_day to last_day (no programme).",
            },
        },
        "A school year: the days the programme does not run.",
    ),
    "CertificateVerification": obj(
        {
            "status": {"type": "string", "enum": ["valid", "revoked", "replaced"]},
            "name": STR,
            "programme": STR,
            "issued_on": DATE,
        },
        "The same facts as the public verification page, and nothing more.",
    ),
}


def list_of(name: str, meta: str = "PageMeta") -> Schema:
    return obj({"data": {"type": "array", "items": ref(name)}, "meta": ref(meta)})


# Small lists are paged by number; the big ones by cursor (keyset: the 100th page costs what the first does).
NUMBERED_LISTS = ("Cohort", "Certificate", "AttendanceSession", "SchoolCalendar")
CURSOR_LISTS = ("Enrolment", "Submission", "SignOff")
for _name in NUMBERED_LISTS:
    SCHEMAS[f"{_name}List"] = list_of(_name)
for _name in CURSOR_LISTS:
    SCHEMAS[f"{_name}List"] = list_of(_name, "CursorMeta")
SCHEMAS["EnrolmentAssignments"] = obj(
    {"enrolment_id": ID, "data": {"type": "array", "items": ref("AssignmentStatus")}}
)
SCHEMAS["EnrolmentAttendance"] = obj(
    {
        "enrolment_id": ID,
        "figures": ref("AttendanceFigures"),
        "data": {"type": "array", "items": ref("AttendanceRecord")},
        "meta": ref("PageMeta"),
    },
    "A page of the participant's records, with the figures over all of them (not only this page "
    "or the dates asked for).",
)


def query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def path_id(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "description": description,
    }


PARAMETERS: dict[str, Schema] = {
    "page": query(
        "page", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "Page number (from 1)."
    ),
    "per_page": query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        f"Items per page (default 25, at most {MAX_PER_PAGE}).",
    ),
    "after": query(
        "after",
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_CURSOR_LENGTH,
            "pattern": "^[A-Za-z0-9_-]+$",
        },
        "Continue after the previous page: the next_cursor of that page (or follow its next link). "
        "Leave it out for the first page. The cursor is opaque and belongs to one list; anything "
        "else is a 400. The order is fixed (by id, sign-offs by sequence), so rows added during a "
        "walk come at its end and nothing is seen twice. Page numbers (page) are refused here.",
    ),
    "cohort": query(
        "cohort", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "Only this cohort (id)."
    ),
    "region": query("region", REGION, "Only cohorts in this region."),
    "enrolment": query(
        "enrolment",
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "Only this enrolment (id).",
    ),
    "from": query("from", DATE, "Only training days on or after this date (2026-09-14)."),
    "to": query("to", DATE, "Only training days on or before this date (on or after from)."),
    "updated_since": query(
        "updated_since",
        DATETIME,
        "Only what changed at or after this moment (RFC 3339; without an offset: UTC).",
    ),
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
        "description": (
            "Makes sending again safe (a lost answer, a time-out): a key you choose for this one "
            "request, such as a UUID, of at most 255 printable ASCII characters (as it is, or as a "
            'quoted string: "abc" is the key abc). The same key with the same request (method, '
            "address and body) changes nothing and gets the first answer again, with "
            "Idempotent-Replayed: true. The same key with another request: 422. While the first is "
            f"still being handled, a repeat waits for it (at most {_WAIT_SECONDS} seconds, then "
            f"409). Only a success is kept, for {_KEEP_HOURS} hours; after an error you may send "
            "the corrected request with "
            "the same key. Keys belong to the API key that sent them. Without this header the "
            "request is handled as it comes."
        ),
    },
}


def p(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def problem_response(description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }


RESPONSES: dict[str, Schema] = {
    "BadRequest": problem_response(
        "A query parameter has a value that cannot be used (an empty value included, an after "
        "cursor this list did not give out, or page on a list paged by cursor), the body "
        f"cannot be read (not a JSON object, nested more than {MAX_DEPTH} levels, or holding a NUL "
        "character), or the Idempotency-Key header is not valid (invalid-idempotency-key)."
    ),
    "Unauthorized": {
        **problem_response("No API key, or one that is unknown, expired or revoked."),
        "headers": {"WWW-Authenticate": {"schema": STR}},
    },
    "Forbidden": problem_response(
        "The key may not do this: a read-only key, or the key's user may not (as on the pages)."
    ),
    "NotFound": problem_response(
        "There is nothing with this id that the key's user may see (whether it exists for someone "
        "else is not said)."
    ),
}

LINK_HEADER = {
    "Link": {
        "description": "RFC 8288 links: first, prev, next, last.",
        "schema": STR,
    }
}
CURSOR_LINK_HEADER = {
    "Link": {
        "description": "RFC 8288 links: first, and next unless this is the last page.",
        "schema": STR,
    }
}


def ok(schema_name: str, description: str, *, paged: bool = False, cursor: bool = False) -> Schema:
    response: Schema = {
        "description": description,
        "content": {"application/json": {"schema": ref(schema_name)}},
    }
    if paged:
        response["headers"] = CURSOR_LINK_HEADER if cursor else LINK_HEADER
    return response


def r(name: str) -> Schema:
    return {"$ref": f"#/components/responses/{name}"}


AUTH_ERRORS = {"401": r("Unauthorized"), "403": r("Forbidden")}
# One record by id: a record the key's user may not see is a 404, never a 403.
RECORD_ERRORS = {"401": r("Unauthorized"), "404": r("NotFound")}
LIST_ERRORS = {"400": r("BadRequest"), **AUTH_ERRORS}
PAGING = [p("page"), p("per_page")]
# One record's list by id: its parameters can be wrong (400), the record missing or not the key's
# user's to see (404).
SUBLIST_ERRORS = {"400": r("BadRequest"), **RECORD_ERRORS}
CURSOR_PAGING = [p("after"), p("per_page")]


def _operation(
    op_id: str,
    summary: str,
    description: str,
    tag: str,
    responses: dict[str, Schema],
    *,
    parameters: list[Schema] | None = None,
    public: bool = False,
    body: Schema | None = None,
) -> Schema:
    operation: Schema = {
        "operationId": op_id,
        "summary": summary,
        "description": description,
        "tags": [tag],
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if public:
        operation["security"] = []
    if body is not None:
        operation["requestBody"] = body
    return operation


PATHS: dict[str, dict[str, Schema]] = {
    "/cohorts": {
        "get": _operation(
            "listCohorts",
            "List cohorts",
            "The cohorts the key's user may see: every cohort for a coordinator, their own for a trainer.",
            "Cohorts",
            {"200": ok("CohortList", "A page of cohorts, by id.", paged=True), **LIST_ERRORS},
            parameters=[
                p("region"),
                query(
                    "status",
                    {"type": "string", "enum": ["open", "closed"]},
                    "Open or closed cohorts.",
                ),
                *PAGING,
            ],
        )
    },
    "/cohorts/{cohort_id}": {
        "get": _operation(
            "getCohort",
            "One cohort",
            "A cohort with its programme, seats and trainers.",
            "Cohorts",
            {"200": ok("Cohort", "The cohort."), **RECORD_ERRORS},
            parameters=[path_id("cohort_id", "The cohort's id.")],
        )
    },
    "/cohorts/{cohort_id}/attendance": {
        "get": _operation(
            "listCohortAttendance",
            "Attendance of a cohort",
            "The cohort's recorded training days, oldest first, each with who recorded it, the "
            "counts and every participant's record (status, reason when absent, note). For whoever "
            "sees the cohort's attendance page: its trainers and the coordinator. Training days not "
            "recorded yet are not listed (training_dates of the cohort's calendar lists them all).",
            "Attendance",
            {
                "200": ok("AttendanceSessionList", "A page of training days, by date.", paged=True),
                **SUBLIST_ERRORS,
            },
            parameters=[
                path_id("cohort_id", "The cohort's id."),
                p("from"),
                p("to"),
                *PAGING,
            ],
        )
    },
    "/cohorts/{cohort_id}/calendar": {
        "get": _operation(
            "getCohortCalendar",
            "The year of a cohort",
            "The cohort's year as its page plans it by the school calendar: start, periods, "
            "holidays and closed days (the cohort's own exceptions included), due dates, review "
            "moments and end, with its programme weeks, training weekdays and training dates.",
            "Calendar",
            {"200": ok("CohortCalendar", "The cohort's year."), **RECORD_ERRORS},
            parameters=[path_id("cohort_id", "The cohort's id.")],
        )
    },
    "/enrolments": {
        "get": _operation(
            "listEnrolments",
            "List enrolments with progress",
            "The enrolments the key's user may see (as on the pages), each with its progress today. "
            "updated_since finds enrolments whose own data or progress changed (work saved, handed "
            "in or assessed, sign-offs, hours, certificates).",
            "Enrolments",
            {
                "200": ok(
                    "EnrolmentList",
                    "A page of enrolments, by id; meta.next leads to the next page.",
                    paged=True,
                    cursor=True,
                ),
                **LIST_ERRORS,
            },
            parameters=[
                p("cohort"),
                p("region"),
                query("status", ENROLMENT_STATUS, "Only enrolments with this status."),
                p("updated_since"),
                *CURSOR_PAGING,
            ],
        ),
        "post": _operation(
            "createEnrolment",
            "Enrol a participant",
            "With the same rules as the coordinator's enrol page: the cohort must be open, have a free "
            "seat (at most twelve) and the participant may have only one active enrolment. A "
            "participant who withdrew from this cohort gets that enrolment back, with the work in it "
            "(200). Sending the same enrolment again (already active here, same employer and intake) "
            "changes nothing and answers 200 with the enrolment. Needs a read-write key of a "
            "coordinator.",
            "Enrolments",
            {
                "200": {
                    **ok(
                        "Enrolment",
                        "Enrolled again: the participant's withdrawn enrolment in this cohort is "
                        "active again, or they were already enrolled here (nothing changed).",
                    ),
                    "headers": {"Location": {"description": "The enrolment.", "schema": STR}},
                },
                "201": {
                    **ok("Enrolment", "Enrolled."),
                    "headers": {"Location": {"description": "The new enrolment.", "schema": STR}},
                },
                "400": r("BadRequest"),
                **AUTH_ERRORS,
                "409": problem_response(
                    "Refused: the cohort is full (cohort-full), or the participant already has an "
                    "active enrolment (already-enrolled), also when the same new e-mail address was "
                    "enrolled into another cohort at the same moment."
                ),
                "415": problem_response("The body is not JSON."),
                "422": problem_response(
                    "Refused: a field is missing or wrong (see errors), or the rules do not allow it "
                    "(a closed cohort, a date after the cohort's end, an account that is not a "
                    "participant's, a participant who completed this cohort)."
                ),
            },
            body={
                "required": True,
                "content": {"application/json": {"schema": ref("NewEnrolment")}},
            },
        ),
    },
    "/enrolments/{enrolment_id}": {
        "get": _operation(
            "getEnrolment",
            "One enrolment with progress",
            "The enrolment and its progress today.",
            "Enrolments",
            {"200": ok("Enrolment", "The enrolment."), **RECORD_ERRORS},
            parameters=[path_id("enrolment_id", "The enrolment's id.")],
        )
    },
    "/enrolments/{enrolment_id}/assignments": {
        "get": _operation(
            "getEnrolmentAssignments",
            "Assignments and where the work stands",
            "Every assignment of the enrolment's programme, in programme order, with its due date and "
            "the status of the participant's submission (not_started when there is none).",
            "Enrolments",
            {
                "200": ok("EnrolmentAssignments", "The assignments."),
                **RECORD_ERRORS,
            },
            parameters=[path_id("enrolment_id", "The enrolment's id.")],
        )
    },
    "/enrolments/{enrolment_id}/attendance": {
        "get": _operation(
            "getEnrolmentAttendance",
            "Attendance of a participant",
            "The participant's attendance as their attendance page shows it: the figures over every "
            "recorded training day, and the records (status, reason when absent, the trainer's "
            "note), oldest first. For whoever may see the enrolment: the participant, their "
            "employer's contacts, the cohort's trainers and the coordinator.",
            "Attendance",
            {
                "200": ok(
                    "EnrolmentAttendance",
                    "The figures and a page of records, by date.",
                    paged=True,
                ),
                **SUBLIST_ERRORS,
            },
            parameters=[
                path_id("enrolment_id", "The enrolment's id."),
                p("from"),
                p("to"),
                *PAGING,
            ],
        )
    },
    "/submissions": {
        "get": _operation(
            "listSubmissions",
            "List submissions",
            "The status of participants' work on assignments, for the enrolments the key's user may see.",
            "Submissions",
            {
                "200": ok(
                    "SubmissionList",
                    "A page of submissions, by id; meta.next leads to the next page.",
                    paged=True,
                    cursor=True,
                ),
                **LIST_ERRORS,
            },
            parameters=[
                p("cohort"),
                p("region"),
                p("enrolment"),
                query("status", SUBMISSION_STATUS, "Only submissions with this status."),
                p("updated_since"),
                *CURSOR_PAGING,
            ],
        )
    },
    "/signoffs": {
        "get": _operation(
            "listSignOffs",
            "List checklist sign-offs",
            "The sign-off ledger (sign-offs and revocations) for the enrolments the key's user may "
            "see, in ledger order. updated_since compares with signed_at.",
            "Sign-offs",
            {
                "200": ok(
                    "SignOffList",
                    "A page of ledger records, by sequence; meta.next leads to the next page.",
                    paged=True,
                    cursor=True,
                ),
                **LIST_ERRORS,
            },
            parameters=[
                p("cohort"),
                p("region"),
                p("enrolment"),
                p("updated_since"),
                *CURSOR_PAGING,
            ],
        )
    },
    "/certificates": {
        "get": _operation(
            "listCertificates",
            "List certificates",
            "Certificates of the enrolments the key's user may see. updated_since finds certificates "
            "issued or revoked since.",
            "Certificates",
            {
                "200": ok("CertificateList", "A page of certificates, by id.", paged=True),
                **LIST_ERRORS,
            },
            parameters=[
                p("cohort"),
                p("region"),
                p("enrolment"),
                query(
                    "status", {"type": "string", "enum": ["valid", "revoked"]}, "Valid or revoked."
                ),
                p("updated_since"),
                *PAGING,
            ],
        )
    },
    "/school-calendars": {
        "get": _operation(
            "listSchoolCalendars",
            "List school years",
            "The school years whose calendar is loaded, with the school holidays of region Zuid, "
            "the programme's closed days and the public holidays: the days the programme does not "
            "run. The same for every key.",
            "Calendar",
            {
                "200": ok("SchoolCalendarList", "A page of school years, by year.", paged=True),
                **LIST_ERRORS,
            },
            parameters=[
                query(
                    "school_year",
                    {"type": "string", "pattern": SCHOOL_YEAR_PATTERN},
                    "Only this school year: two years in a row, such as 2026-2027.",
                ),
                *PAGING,
            ],
        )
    },
    "/certificates/{code}": {
        "get": _operation(
            "verifyCertificate",
            "Verify a certificate (public)",
            "No key needed: the same facts as the public verification page for the code printed on "
            "the certificate.",
            "Certificates",
            {
                "200": ok("CertificateVerification", "What the certificate says."),
                "404": r("NotFound"),
                "429": problem_response(
                    "Too many checks from this address; wait a minute (the same limit as the "
                    "verification page)."
                ),
            },
            parameters=[
                {
                    "name": "code",
                    "in": "path",
                    "required": True,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 64,
                        "pattern": "^[A-Za-z0-9_-]+$",
                    },
                    "description": "The verification code.",
                }
            ],
            public=True,
        )
    },
}


REPLAYED_HEADER = {
    "description": (
        "true: the stored answer to an earlier request with the same Idempotency-Key; nothing changed."
    ),
    "schema": {"type": "string", "enum": ["true"]},
}
# What Idempotency-Key adds to the refusals of every POST.
IDEMPOTENCY_REFUSALS = {
    "409": "A request with the same Idempotency-Key is still being handled "
    "(idempotency-key-in-use): send it again in a moment.",
    "422": "The Idempotency-Key was used before for another request (idempotency-key-reused).",
}


def _idempotent(operation: Schema) -> Schema:
    """Every POST takes Idempotency-Key (``idempotency.py``): the header, the replay's header on its
    successes, and its refusals."""
    operation["parameters"] = [*operation.get("parameters", []), p("IdempotencyKey")]
    responses = operation["responses"]
    responses.setdefault("400", r("BadRequest"))
    for code, response in responses.items():
        if code.startswith("2"):
            response["headers"] = {
                **response.get("headers", {}),
                "Idempotent-Replayed": REPLAYED_HEADER,
            }
    for code, sentence in IDEMPOTENCY_REFUSALS.items():
        refusal = responses.get(code)
        if refusal is None:
            responses[code] = problem_response(sentence)
        else:
            also = f"Also: {sentence[0].lower()}{sentence[1:]}"
            responses[code] = {**refusal, "description": f"{refusal['description']} {also}"}
    responses["409"]["headers"] = {
        "Retry-After": {"description": "Seconds to wait (idempotency-key-in-use).", "schema": STR}
    }
    operation["responses"] = dict(sorted(responses.items()))
    return operation


for _methods in PATHS.values():
    if "post" in _methods:
        _methods["post"] = _idempotent(_methods["post"])


def document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vakkracht LMS API",
            "version": API_VERSION,
            "summary": (
                "Cohorts, enrolments with progress, work, sign-offs, certificates, attendance and "
                "the school calendar."
            ),
            "description": (
                "A JSON API for training partners' and employers' own systems. Send a personal access "
                "key as `Authorization: Bearer <key>`; a coordinator makes and revokes keys on the "
                "API keys page. A key acts as the user who made it and sees what that user sees on the "
                "pages. Lists come in pages in a stable order, with a Link header: enrolments, "
                "submissions and sign-offs by cursor (`after`: follow `meta.next` or the next "
                "link; no total is counted, so every page costs the same), the other lists by "
                "number (`page`, `per_page`, with a total). "
                "Every POST accepts an `Idempotency-Key` header, so a request can be sent again "
                "safely: it changes the data once and answers every copy with the first answer. "
                "Errors are `application/problem+json`."
            ),
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "security": [{"bearerAuth": []}],
        "paths": deepcopy(PATHS),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access key (vkapi_…).",
                }
            },
            "schemas": deepcopy(SCHEMAS),
            "parameters": deepcopy(PARAMETERS),
            "responses": deepcopy(RESPONSES),
        },
    }


def operations() -> list[dict[str, Any]]:
    """The operations in document order, with their parameters resolved, for the reference page."""
    result = []
    for path, methods in PATHS.items():
        for method, operation in methods.items():
            parameters = [
                PARAMETERS[item["$ref"].rsplit("/", 1)[-1]] if "$ref" in item else item
                for item in operation.get("parameters", [])
            ]
            responses = []
            for code, response in operation["responses"].items():
                if "$ref" in response:
                    response = RESPONSES[response["$ref"].rsplit("/", 1)[-1]]
                content = response.get("content", {})
                media_type = next(iter(content), "")
                schema_ref = content.get(media_type, {}).get("schema", {}).get("$ref", "")
                responses.append(
                    {
                        "code": code,
                        "description": response["description"],
                        "media_type": media_type,
                        "schema": schema_ref.rsplit("/", 1)[-1],
                    }
                )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            result.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": operation["operationId"],
                    "summary": operation["summary"],
                    "description": operation["description"],
                    "tag": operation["tags"][0],
                    "public": operation.get("security") == [],
                    "parameters": parameters,
                    "body_schema": body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1],
                    "responses": responses,
                }
            )
    return result


def schema_fields(name: str) -> list[dict[str, Any]]:
    """The properties of a component schema, for the reference page."""
    schema = SCHEMAS[name]
    required = set(schema.get("required", []))
    fields = []
    for field, spec in schema.get("properties", {}).items():
        fields.append(
            {
                "name": field,
                "type": type_text(spec),
                "required": field in required,
                "description": spec.get("description", ""),
            }
        )
    return fields


def type_text(spec: Schema) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in spec:
        return " | ".join(type_text(part) for part in spec["anyOf"])
    kind = spec.get("type", "")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    if kind == "array" or (isinstance(spec.get("type"), str) and spec["type"] == "array"):
        return f"array of {type_text(spec.get('items', {}))}"
    text = kind
    if "format" in spec:
        text += f" ({spec['format']})"
    if "enum" in spec:
        text += ": " + ", ".join("null" if value is None else str(value) for value in spec["enum"])
    return text
