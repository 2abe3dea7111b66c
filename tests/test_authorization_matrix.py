"""The authorization matrix: every URL rule of the application, for every kind of visitor.

The world (tests/scenarios.py) has one of each: a participant and another participant, the trainer of
their cohort and a trainer of another cohort, the contact of the participant's employer and of another
employer, and the coordinator. Every URL is filled in with the participant's records (their cohort,
enrolment, work, evidence, certificate, review, hours, ...), so a row reads "who may open this
participant's page".

Each visitor opens the URL with GET (POST with a valid CSRF token and no data when the route has no
GET) and the answer must be what the row says: 200, LOGIN (302 to the login page), 302 (a redirect
elsewhere), 403 or 404.

"Exists but not yours" is a 404: on a URL that carries a record id, every logged-in visitor who is
refused (whether their role never uses the route, or the record is not theirs to see, or they may see
it but not do this) gets 404, the answer for an id that does not exist, so a refusal never confirms
that the record exists. 403 is only for URLs without a record id (a role's own area such as /cohorts/
or /hours/), where it reveals nothing. A row with a record id that holds a 403 fails the test.

Where the row says a visitor is refused, a POST to a GET-and-POST route is
refused the same way, so a form cannot be sent where the page may not be seen. GET requests must not
write to the database (only the audit log), and no page may hold what the Content-Security-Policy
blocks (inline scripts, event handlers, style attributes). A route without a row makes the test fail
and says which row to add.

JSON API routes (/api/v1) authenticate with a token, not the session: they are listed as TOKEN (or
PUBLIC) here and their permissions per role are tested in tests/test_api.py. Here they only have to
refuse a logged-in browser session without a token.
"""

from __future__ import annotations

import re
import secrets

import pytest
import sqlalchemy as sa
from flask import Flask, has_request_context
from itsdangerous import URLSafeTimedSerializer

from lms.extensions import db as _db
from tests.factories import login_token
from tests.scenarios import World, build_world

LOGIN = "LOGIN"  # 302 to the login page
REDIRECT = 302  # 302 somewhere else
TOKEN = "TOKEN"  # JSON API, token-authenticated; see tests/test_api.py
PUBLIC_API = "PUBLIC_API"  # JSON API, no authentication

VISITORS = (
    "anonymous",
    "participant",
    "other_participant",
    "trainer",
    "other_trainer",
    "employer",
    "other_employer",
    "coordinator",
)
SKIP = {"static"}
CSP_BLOCKED = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b", re.I)

# fmt: off
#                                               anon   part  part2  train  trai2   empl  empl2  coord
# (part2, trai2, empl2: another participant, a trainer of another cohort, a contact of another employer)
MATRIX: dict[str, tuple[object, ...] | str] = {
    "main.index":                             (LOGIN,   302,   302,   302,   302,   302,   302,   302),  # /
    "api_tokens.index":                       (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /api/keys/
    "api_tokens.revoke":                      (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /api/keys/<int:token_id>/revoke
    "api_tokens.create":                      (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /api/keys/new
    "api.index":                              PUBLIC_API,  # /api/v1/
    "api.certificates":                       TOKEN,  # /api/v1/certificates
    "api.verify_certificate":                 PUBLIC_API,  # /api/v1/certificates/<code>
    "api.cohorts":                            TOKEN,  # /api/v1/cohorts
    "api.cohort":                             TOKEN,  # /api/v1/cohorts/<int:cohort_id>
    "api.cohort_attendance":                  TOKEN,  # /api/v1/cohorts/<int:cohort_id>/attendance — per role: tests/test_api_attendance.py
    "api.cohort_calendar":                    TOKEN,  # /api/v1/cohorts/<int:cohort_id>/calendar — per role: tests/test_api_attendance.py
    "api.reference":                          PUBLIC_API,  # /api/v1/docs
    "api.enrolments":                         TOKEN,  # /api/v1/enrolments
    "api.create_enrolment":                   TOKEN,  # /api/v1/enrolments
    "api.enrolment":                          TOKEN,  # /api/v1/enrolments/<int:enrolment_id>
    "api.enrolment_assignments":              TOKEN,  # /api/v1/enrolments/<int:enrolment_id>/assignments
    "api.enrolment_attendance":               TOKEN,  # /api/v1/enrolments/<int:enrolment_id>/attendance — per role: tests/test_api_attendance.py
    "api.openapi_document":                   PUBLIC_API,  # /api/v1/openapi.json
    "api.school_calendars":                   TOKEN,  # /api/v1/school-calendars
    "api.signoffs":                           TOKEN,  # /api/v1/signoffs
    "api.submissions":                        TOKEN,  # /api/v1/submissions
    "attendance.mine":                        (LOGIN,   200,   200,   403,   403,   403,   403,   403),  # /attendance/
    "attendance.cohort":                      (LOGIN,   404,   404,   200,   404,   404,   404,   200),  # /attendance/cohorts/<int:cohort_id>
    "attendance.session":                     (LOGIN,   404,   404,   200,   404,   404,   404,   200),  # /attendance/cohorts/<int:cohort_id>/<day> — the coordinator sees, the trainer records
    "attendance.enrolment":                   (LOGIN,   200,   404,   200,   404,   200,   404,   200),  # /attendance/enrolments/<int:enrolment_id>
    "assessment.index":                       (LOGIN,   403,   403,   200,   200,   403,   403,   403),  # /assessment/
    "assessment.queue":                       (LOGIN,   403,   403,   200,   200,   403,   403,   403),  # /assessment/queue
    "assessment.assess":                      (LOGIN,   404,   404,   200,   404,   404,   404,   404),  # /assessment/submissions/<int:submission_id>
    "assessment.participant":                 (LOGIN,   404,   404,   200,   404,   404,   404,   200),  # /assessment/participants/<int:enrolment_id>
    "assessment.correct":                     (LOGIN,   404,   404,   200,   404,   404,   404,   404),  # /assessment/submissions/<int:submission_id>/correct
    "calendar.index":                         (LOGIN,   200,   200,   200,   200,   200,   200,   200),  # /calendar/
    "calendar.create":                        (LOGIN,   200,   200,   200,   200,   200,   200,   200),  # /calendar/new — shows the new link once
    "calendar.revoke":                        (LOGIN,   200,   200,   200,   200,   200,   200,   200),  # /calendar/revoke — everyone made a link at /calendar/new just before (without one: back to /calendar/, tests/test_calendar_feeds.py)
    "calendar.feed":                          (  200,   200,   200,   200,   200,   200,   200,   200),  # /calendar/<secret>.ics — the participant's link: the secret is the credential
    "certificates.index":                     (LOGIN,   200,   200,   200,   200,   200,   200,   200),  # /certificates/
    "certificates.download":                  (LOGIN,   200,   404,   200,   404,   200,   404,   200),  # /certificates/<int:certificate_id>/download
    "certificates.reissue":                   (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /certificates/<int:certificate_id>/reissue
    "certificates.revoke":                    (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /certificates/<int:certificate_id>/revoke
    "certificates.credential_json":           (LOGIN,   200,   404,   404,   404,   404,   404,   200),  # /certificates/<int:certificate_id>/credential.json — the holder's own
    "certificates.credential_jwt":            (LOGIN,   200,   404,   404,   404,   404,   404,   200),  # /certificates/<int:certificate_id>/credential.jwt — the holder's own
    "certificates.cohort":                    (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /certificates/cohort/<int:cohort_id>
    "certificates.cohort_zip":                (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /certificates/cohort/<int:cohort_id>/certificates.zip
    "certificates.issue_cohort":              (LOGIN,   404,   404,   404,   404,   404,   404,   302),  # /certificates/cohort/<int:cohort_id>/issue
    "certificates.enrolment":                 (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /certificates/enrolment/<int:enrolment_id>
    "certificates.issue":                     (LOGIN,   404,   404,   404,   404,   404,   404,   302),  # /certificates/enrolment/<int:enrolment_id>/issue
    "certificates.progress_report":           (LOGIN,   200,   404,   200,   404,   200,   404,   200),  # /certificates/enrolment/<int:enrolment_id>/progress-report.pdf
    "checklists.index":                       (LOGIN,   302,   302,   200,   200,   200,   200,   200),  # /checklists/
    "checklists.matrix":                      (LOGIN,   404,   404,   200,   404,   404,   404,   200),  # /checklists/cohorts/<int:cohort_id>
    "checklists.bulk":                        (LOGIN,   404,   404,   200,   404,   404,   404,   404),  # /checklists/cohorts/<int:cohort_id>/bulk
    "checklists.enrolment":                   (LOGIN,   200,   404,   200,   404,   200,   404,   200),  # /checklists/enrolments/<int:enrolment_id>
    "checklists.item":                        (LOGIN,   200,   404,   200,   404,   200,   404,   200),  # /checklists/enrolments/<int:enrolment_id>/items/<int:item_id> — one cell of the matrix
    "checklists.observe":                     (LOGIN,   404,   404,   404,   404,   200,   404,   404),  # /checklists/enrolments/<int:enrolment_id>/observations
    "checklists.sign":                        (LOGIN,   404,   404,   200,   404,   404,   404,   404),  # /checklists/enrolments/<int:enrolment_id>/sign-off
    "checklists.mine":                        (LOGIN,   200,   200,   403,   403,   403,   403,   403),  # /checklists/mine
    "checklists.revoke":                      (LOGIN,   404,   404,   200,   404,   404,   404,   404),  # /checklists/signoffs/<int:signoff_id>/revoke
    "cohorts.index":                          (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /cohorts/
    "cohorts.detail":                         (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>
    "cohorts.close":                          (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/close
    "cohorts.edit":                           (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/edit
    "cohorts.enrol":                          (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/enrol
    "cohorts.transfer":                       (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/transfer
    "cohorts.withdraw":                       (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/withdraw
    "cohorts.import_participants":            (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/import
    "cohorts.confirm_import":                 (LOGIN,   404,   404,   404,   404,   404,   404,   302),  # /cohorts/<int:cohort_id>/import/confirm
    "cohorts.import_example":                 (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/import/example.csv
    "cohorts.add_exception":                  (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/exceptions/new
    "cohorts.remove_exception":               (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/exceptions/<int:closure_id>/remove
    "cohorts.move_training_day":              (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/training-days/move
    "cohorts.undo_training_day_move":         (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /cohorts/<int:cohort_id>/training-days/moves/<int:move_id>/undo
    "cohorts.reopen":                         (LOGIN,   404,   404,   404,   404,   404,   404,   302),  # /cohorts/<int:cohort_id>/reopen
    "cohorts.create":                         (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /cohorts/new
    "dashboard.coordinator":                  (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /dashboard/coordinator
    "dashboard.employer":                     (LOGIN,   403,   403,   403,   403,   200,   200,   403),  # /dashboard/employer
    "dashboard.participant":                  (LOGIN,   200,   200,   403,   403,   403,   403,   403),  # /dashboard/participant
    "dashboard.trainer":                      (LOGIN,   403,   403,   200,   200,   403,   403,   403),  # /dashboard/trainer
    "employer.index":                         (LOGIN,   403,   403,   403,   403,   200,   200,   403),  # /employer/
    "employer.confirmations":                 (LOGIN,   403,   403,   403,   403,   200,   200,   403),  # /employer/confirmations
    "employer.confirm":                       (LOGIN,   404,   404,   404,   404,   200,   404,   404),  # /employer/confirmations/<int:submission_id> — the participant's employer only
    "badges.did_document":                    (  200,   200,   200,   200,   200,   200,   200,   200),  # /.well-known/did.json
    "badges.status_list":                     (  200,   200,   200,   200,   200,   200,   200,   200),  # /badges/status/<int:list_id>
    "badges.status_list_jwt":                 (  200,   200,   200,   200,   200,   200,   200,   200),  # /badges/status/<int:list_id>.jwt
    "badges.ledger_checkpoint":               (  200,   200,   200,   200,   200,   200,   200,   200),  # /ledger/checkpoint.json
    "auth.forgot_password":                   (  200,   200,   200,   200,   200,   200,   200,   200),  # /forgot-password
    "main.healthz":                           (  200,   200,   200,   200,   200,   200,   200,   200),  # /healthz
    "hours.mine":                             (LOGIN,   200,   200,   403,   403,   403,   403,   403),  # /hours/
    "hours.approve_weeks":                    (LOGIN,   403,   403,   403,   403,   302,   302,   403),  # /hours/approve-weeks
    "hours.decide":                           (LOGIN,   404,   404,   404,   404,   302,   404,   404),  # /hours/<int:hours_id>/decide
    "hours.enrolment":                        (LOGIN,   404,   404,   200,   404,   200,   404,   200),  # /hours/enrolments/<int:enrolment_id>
    "hours.to_approve":                       (LOGIN,   403,   403,   403,   403,   200,   200,   403),  # /hours/to-approve
    "links.use":                              (  200,   200,   200,   200,   200,   200,   200,   200),  # /l/<token> — the mailed secret is the credential
    "main.set_language":                      (  302,   302,   302,   302,   302,   302,   302,   302),  # /language
    "auth.login":                             (  200,   302,   302,   302,   302,   302,   302,   302),  # /login
    "auth.logout":                            (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),  # /logout
    "notifications.index":                    (LOGIN,   200,   200,   200,   200,   200,   200,   200),  # /notifications/
    "notifications.open_notification":        (LOGIN,   302,   404,   404,   404,   404,   404,   404),  # /notifications/<int:notification_id>/open
    "notifications.read":                     (LOGIN,   302,   404,   404,   404,   404,   404,   404),  # /notifications/<int:notification_id>/read
    "notifications.read_all":                 (LOGIN,   302,   302,   302,   302,   302,   302,   302),  # /notifications/read-all
    "outbox.retry":                           (LOGIN,   404,   404,   404,   404,   404,   404,   302),  # /outbox/<int:message_id>/retry
    "outbox.failed":                          (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /outbox/failed
    "people.person_detail":                   (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /people/<int:user_id>
    "people.person_deactivate":               (LOGIN,   404,   404,   404,   404,   404,   404,   404),  # /people/<int:user_id>/deactivate — participants leave by withdrawal, not deactivation
    "people.person_edit":                     (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /people/<int:user_id>/edit
    "people.invitation_resend":               (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /people/<int:user_id>/invitation
    "people.person_reactivate":               (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /people/<int:user_id>/reactivate
    "people.employers":                       (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /people/employers/
    "people.employer_detail":                 (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /people/employers/<int:employer_id>
    "people.contact_create":                  (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /people/employers/<int:employer_id>/contacts/new
    "people.employer_edit":                   (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /people/employers/<int:employer_id>/edit
    "people.employer_create":                 (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /people/employers/new
    "people.participants":                    (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /people/participants/
    "people.trainers":                        (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /people/trainers/
    "people.trainer_create":                  (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /people/trainers/new
    "portfolio.index":                        (LOGIN,   200,   200,   403,   403,   403,   403,   403),  # /portfolio/
    "portfolio.assignment":                   (LOGIN,   200,   200,   404,   404,   404,   404,   404),  # /portfolio/assignments/<code>
    "portfolio.evidence":                     (LOGIN,   200,   404,   200,   404,   200,   404,   200),  # /portfolio/evidence/<int:file_id>
    "portfolio.delete_evidence":              (LOGIN,   302,   404,   404,   404,   404,   404,   404),  # /portfolio/evidence/<int:file_id>/delete — handed-in work: back to the assignment
    "portfolio.export":                       (LOGIN,   200,   404,   200,   404,   404,   404,   404),  # /portfolio/export/<int:enrolment_id> — the coordinator uses the privacy export
    "privacy.my_export":                      (LOGIN,   200,   200,   200,   200,   200,   200,   200),  # /privacy/mine/export
    "privacy.erase":                          (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /privacy/people/<int:user_id>/erase
    "privacy.export":                         (LOGIN,   404,   404,   404,   404,   404,   404,   200),  # /privacy/people/<int:user_id>/export
    "auth.profile":                           (LOGIN,   200,   200,   200,   200,   200,   200,   200),  # /profile
    "auth.end_session":                       (LOGIN,   302,   404,   404,   404,   404,   404,   404),  # /profile/sessions/<int:session_id>/end — the participant's other device
    "auth.end_all_sessions":                  (LOGIN,   200,   200,   200,   200,   200,   200,   200),  # /profile/sessions/end-all
    "auth.mail_preference":                   (LOGIN,   400,   400,   400,   400,   400,   400,   400),  # /profile/mail-preference
    "reports.cohort":                         (LOGIN,   404,   404,   200,   404,   404,   404,   200),  # /reports/cohorts/<int:cohort_id>
    "reports.programme":                      (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /reports/programme
    "reports.programme_csv":                  (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /reports/programme.csv
    "reports.programme_pdf":                  (LOGIN,   403,   403,   403,   403,   403,   403,   200),  # /reports/programme.pdf
    "reviews.index":                          (LOGIN,   200,   200,   200,   200,   200,   200,   200),  # /reviews/
    "reviews.detail":                         (LOGIN,   200,   404,   200,   404,   200,   404,   200),  # /reviews/<int:review_id>
    "reviews.acknowledge":                    (LOGIN,   302,   404,   404,   404,   302,   404,   404),  # /reviews/<int:review_id>/acknowledge
    "reviews.history":                        (LOGIN,   200,   404,   200,   404,   200,   404,   200),  # /reviews/enrolments/<int:enrolment_id>
    "auth.set_password":                      (  404,   404,   404,   404,   404,   404,   404,   404),  # /set-password/<token> — an unknown token
    "verify.credential":                      (  200,   200,   200,   200,   200,   200,   200,   200),  # /verify/credential
    "verify.show":                            (  200,   200,   200,   200,   200,   200,   200,   200),  # /verify/<code>
    "verify.show_json":                       (  200,   200,   200,   200,   200,   200,   200,   200),  # /verify/<code>.json
}
# fmt: on


# What each URL argument is filled in with.
def url_values(world: World) -> dict[str, object]:
    return {
        "cohort_id": world.cohort.id,
        "enrolment_id": world.enrolment.id,
        "submission_id": world.handed_in.id,
        "file_id": world.evidence.id,
        "user_id": world.participant.id,
        "employer_id": world.employer.id,
        "signoff_id": world.signoff.id,
        "item_id": world.signoff.checklist_item_id,
        "code": world.assignment.code,
        "certificate_id": world.certificate.id,
        "review_id": world.review.id,
        "hours_id": world.hours.id,
        "notification_id": world.notification.id,
        "message_id": world.failed_mail.id,
        "token_id": world.api_token.id,
        "token": world.link_secret,
        "secret": world.calendar_secret,  # the participant's calendar feed link
        "filename": "css/app.css",
        "list_id": 1,  # the Open Badges status list
        "session_id": world.login_session.id,  # the participant logged in on another device
        # Read from the identity: a request may have removed the exception (no reload).
        "closure_id": sa.inspect(world.closure).identity[0],
        "move_id": sa.inspect(world.move).identity[0],  # a request may have undone it
        "day": world.training_day.isoformat(),  # a training day of the cohort, in the past
    }


def fill(rule, world: World) -> str:  # type: ignore[no-untyped-def]
    values = url_values(world)
    if rule.endpoint.startswith("verify.") or rule.endpoint == "api.verify_certificate":
        values["code"] = world.certificate.verification_code
    if rule.endpoint == "auth.set_password":
        values["token"] = "not-a-real-token"
    missing = [argument for argument in rule.arguments if argument not in values]
    assert not missing, (
        f"{rule.rule}: add a value for {missing} to url_values() in tests/test_authorization_matrix.py"
    )
    return rule.build(
        {argument: values[argument] for argument in rule.arguments}, append_unknown=False
    )[1]


class Visitor:
    """A browser for one kind of visitor: its session is set before every request (so a logout or a
    login by an earlier request does not carry over), with a valid CSRF token."""

    def __init__(self, app: Flask, user) -> None:  # type: ignore[no-untyped-def]
        self.client = app.test_client()
        self.user = user
        # What Flask-WTF keeps in the session, and the signed form of it that a form carries.
        self.raw = secrets.token_hex(20)
        self.token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(self.raw)

    def _reset(self) -> None:
        # A new login session for every request: an earlier one may have logged out.
        token = login_token(self.user) if self.user is not None else None
        _db.session.commit()
        with self.client.session_transaction() as state:
            state.clear()
            state["csrf_token"] = self.raw
            if token is not None:
                state["_user_id"] = token
                state["_fresh"] = True

    def get(self, url: str):  # type: ignore[no-untyped-def]
        self._reset()
        return self.client.get(url)

    def post(self, url: str):  # type: ignore[no-untyped-def]
        self._reset()
        return self.client.post(url, data={"csrf_token": self.token})


def answer(response) -> object:  # type: ignore[no-untyped-def]
    if response.status_code == 302:
        location = response.headers.get("Location", "")
        return LOGIN if location.split("?")[0].endswith("/login") else REDIRECT
    return response.status_code


def row_text(endpoint: str, row: tuple[object, ...]) -> str:
    cells = ", ".join("LOGIN" if cell == LOGIN else str(cell) for cell in row)
    return f'    "{endpoint}": ({cells}),'


class WriteWatch:
    """The tables a request wrote to."""

    def __init__(self) -> None:
        self.tables: set[str] = set()

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not has_request_context():
            return  # the test itself (a visitor's login before the request), not the request
        words = statement.lstrip().split(None, 3)
        verb = words[0].upper() if words else ""
        if verb in ("INSERT", "UPDATE", "DELETE"):
            table = words[2] if verb in ("INSERT", "DELETE") else words[1]
            self.tables.add(table.strip('"').lower())


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    from lms import clock
    from lms.services.badge_keys import ensure_key, key_dir

    ensure_key(key_dir(), clock.now())  # the Open Badges signing key (`lms badges keygen`)
    return build_world()


def test_every_route_answers_every_visitor_as_the_matrix_says(app, world) -> None:
    users = world.visitors()
    visitors = {name: Visitor(app, users[name]) for name in VISITORS}
    watch = WriteWatch()
    sa.event.listen(_db.engine, "before_cursor_execute", watch)
    missing, wrong, writes, inline = [], [], [], []
    try:
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if rule.endpoint in SKIP:
                continue
            expected = MATRIX.get(rule.endpoint)
            url = fill(rule, world)
            methods = rule.methods or set()
            if expected in (TOKEN, PUBLIC_API):
                response = (
                    visitors["coordinator"].get(url)
                    if "GET" in methods
                    else visitors["coordinator"].post(url)
                )
                if expected == TOKEN and response.status_code != 401:
                    wrong.append(
                        f"{rule.rule}: a session without a token got {response.status_code}, not 401"
                    )
                continue
            observed = []
            for name in VISITORS:
                visitor = visitors[name]
                watch.tables.clear()
                if "GET" in methods:
                    response = visitor.get(url)
                    written = watch.tables - {"audit_events"}
                    if written:
                        writes.append(f"GET {url} as {name} wrote to {sorted(written)}")
                    if response.status_code == 200 and response.mimetype == "text/html":
                        found = CSP_BLOCKED.search(response.get_data(as_text=True))
                        if found:
                            inline.append(f"GET {url} as {name}: {found.group(0)!r}")
                else:
                    response = visitor.post(url)
                observed.append(answer(response))
            observed_row = tuple(observed)
            if expected is None:
                missing.append(row_text(rule.endpoint, observed_row) + f"  # {rule.rule} — check!")
                continue
            if observed_row != expected:
                wrong.append(
                    f"{rule.rule} ({rule.endpoint}):\n  expected {expected}\n  observed {observed_row}"
                )
            # A refused visitor is refused a POST as well.
            if "GET" in methods and "POST" in methods:
                for name, cell in zip(VISITORS, expected, strict=True):
                    if cell in (LOGIN, 403, 404):
                        got = answer(visitors[name].post(url))
                        if got != cell:
                            wrong.append(f"POST {url} as {name}: expected {cell}, got {got}")
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", watch)
    message = []
    if missing:
        message.append(
            "Routes without an entry in MATRIX (tests/test_authorization_matrix.py). Decide who may use"
            " each one, then add its row (the answers seen now are filled in: check every cell, do not"
            " copy blindly). Columns: " + ", ".join(VISITORS) + "\n" + "\n".join(missing)
        )
    if wrong:
        message.append("Answers that differ from the matrix:\n" + "\n".join(wrong))
    if writes:
        message.append(
            "GET requests that changed the database (use a POST form):\n" + "\n".join(writes)
        )
    assert not message, "\n\n".join(message)


def test_every_row_of_the_matrix_is_a_route(app) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    stale = sorted(set(MATRIX) - endpoints)
    assert stale == [], f"rows for routes that no longer exist; remove them from MATRIX: {stale}"
    for endpoint, row in MATRIX.items():
        assert row in (TOKEN, PUBLIC_API) or len(row) == len(VISITORS), (
            f"{endpoint}: one cell per visitor"
        )


def test_no_url_with_a_record_id_answers_403(app) -> None:
    """A 403 on /things/<id> would tell a visitor that thing <id> exists: refuse with 404 instead."""
    confirming = sorted(
        f"{rule.endpoint} ({rule.rule})"
        for rule in app.url_map.iter_rules()
        if rule.arguments
        and isinstance(MATRIX.get(rule.endpoint), tuple)
        and 403 in MATRIX[rule.endpoint]  # type: ignore[operator]
    )
    assert confirming == [], f"403 on a URL with a record id (make it 404): {confirming}"
