"""Who may see and do what, in one place.

- ``init_login_manager``: how a session becomes a user: through a login session
  (``lms.services.login_sessions``) that logging out, a password change or a deactivation ends.
- ``role_required``: route decorator; anonymous visitors go to the login page, other roles get 403,
  or 404 on a URL that names a record.
- The rule for refusals: on a URL that carries a record id, a visitor who may not see that record
  (or may see it but not do this) gets 404, the same answer as for an id that does not exist, so a
  refusal never confirms that a record exists (pages, files and the API alike). 403 is left for the
  areas of a role with no record in the URL (``/cohorts/``, ``/hours/``, ...).
- ``home_endpoint``: where each role lands.
- ``visible_*`` scopes: every query that lists people or their work starts from one of these.
- ``enrolment_or_404``: the load → check step of every page about one enrolment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, abort, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.sql.base import ExecutableOption

from lms import clock
from lms.extensions import db, login_manager
from lms.models import (
    Certificate,
    Cohort,
    CohortTrainer,
    Enrolment,
    EnrolmentStatus,
    Role,
    User,
)
from lms.services import login_sessions

F = TypeVar("F", bound=Callable[..., Any])

HOME_ENDPOINTS: dict[Role, str] = {
    Role.COORDINATOR: "dashboard.coordinator",
    Role.TRAINER: "dashboard.trainer",
    Role.PARTICIPANT: "dashboard.participant",
    Role.EMPLOYER: "dashboard.employer",
}


def init_login_manager(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def keep_login_session_alive() -> None:
        """Load the person at the start of the request, so a note that their session is still in use
        (written every few minutes) is committed before the view changes anything; a session or
        remember cookie that no longer works is dropped, so it is not looked up again."""
        if request.endpoint == "static" or request.blueprint == "api":
            return
        user = current_user._get_current_object()  # type: ignore[attr-defined]
        if user.is_authenticated:
            if user.login_session is not None and login_sessions.touch(
                user.login_session, at=clock.now(), ip_address=request.remote_addr or ""
            ):
                db.session.commit()
            return
        session.pop("_user_id", None)
        if app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
            session["_remember"] = "clear"  # Flask-Login deletes the cookie on the way out


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The session and the remember cookie hold the token of a login session: an unknown, ended or
    expired session, or an account that is no longer active, is nobody."""
    return login_sessions.load(token, at=clock.now())


def home_endpoint(user: User) -> str:
    return HOME_ENDPOINTS[user.role]


def role_required(*roles: Role) -> Callable[[F], F]:
    """Allow only logged-in users with one of ``roles``; others get 403, or 404 when the URL names a
    record (its id would otherwise be confirmed)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(404 if request.view_args else 403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def visible_cohorts(user: User) -> sa.Select[tuple[Cohort]]:
    """Cohorts the user may see: all for the coordinator, their own for a trainer, none otherwise
    (participants and employers reach their cohort through ``visible_enrolments``)."""
    query = sa.select(Cohort)
    if user.role is Role.COORDINATOR:
        return query
    if user.role is Role.TRAINER:
        return query.join(CohortTrainer, CohortTrainer.cohort_id == Cohort.id).where(
            CohortTrainer.trainer_id == user.id
        )
    return query.where(sa.false())


def calendar_cohorts(user: User) -> sa.Select[tuple[Cohort]]:
    """The cohorts whose year a person's calendar feed shows: the cohort of a participant's active
    enrolment, a trainer's open cohorts, the cohorts of an employer contact's employees (active
    enrolments), every open cohort for the coordinator. A subset of what they may see already."""
    query = sa.select(Cohort)
    if user.role is Role.COORDINATOR:
        return query.where(Cohort.closed_at.is_(None))
    if user.role is Role.TRAINER:
        return visible_cohorts(user).where(Cohort.closed_at.is_(None))
    active = sa.select(Enrolment.cohort_id).where(Enrolment.status == EnrolmentStatus.ACTIVE)
    if user.role is Role.PARTICIPANT:
        return query.where(Cohort.id.in_(active.where(Enrolment.participant_id == user.id)))
    if user.role is Role.EMPLOYER and user.employer_id is not None:
        return query.where(
            Cohort.id.in_(active.where(Enrolment.employer_id == user.employer_id)),
            Cohort.closed_at.is_(None),
        )
    return query.where(sa.false())


def visible_enrolments(user: User) -> sa.Select[tuple[Enrolment]]:
    """Enrolments the user may see: all (coordinator), in their cohorts (trainer), their own
    (participant), or of their company's employees (employer contact)."""
    query = sa.select(Enrolment)
    if user.role is Role.COORDINATOR:
        return query
    if user.role is Role.TRAINER:
        return query.join(CohortTrainer, CohortTrainer.cohort_id == Enrolment.cohort_id).where(
            CohortTrainer.trainer_id == user.id
        )
    if user.role is Role.PARTICIPANT:
        return query.where(Enrolment.participant_id == user.id)
    if user.role is Role.EMPLOYER and user.employer_id is not None:
        return query.where(Enrolment.employer_id == user.employer_id)
    return query.where(sa.false())


def can_view_enrolment(user: User, enrolment: Enrolment) -> bool:
    """The same rule as ``visible_enrolments``, for one enrolment already loaded."""
    if user.role is Role.COORDINATOR:
        return True
    if user.role is Role.TRAINER:
        return any(trainer.id == user.id for trainer in enrolment.cohort.trainers)
    if user.role is Role.PARTICIPANT:
        return enrolment.participant_id == user.id
    if user.role is Role.EMPLOYER:
        return user.employer_id is not None and enrolment.employer_id == user.employer_id
    return False


def enrolment_or_404(
    enrolment_id: int,
    *,
    options: Sequence[ExecutableOption] = (),
) -> Enrolment:
    """Load → check for the pages of one enrolment: the enrolment with ``options`` (eager loads), if
    ``current_user`` may see it (``visible_enrolments``); 404 when it does not exist or is not theirs
    to see (the same answer, so its existence is not confirmed)."""
    enrolment = db.session.scalar(
        visible_enrolments(current_user).where(Enrolment.id == enrolment_id).options(*options)
    )
    if enrolment is None:
        abort(404)
    return enrolment


def is_trainer_of(user: User, cohort: Cohort) -> bool:
    return user.role is Role.TRAINER and any(trainer.id == user.id for trainer in cohort.trainers)


def visible_certificates(user: User) -> sa.Select[tuple[Certificate]]:
    """Certificates of the enrolments the user may see (``visible_enrolments``): all for the
    coordinator, their cohorts' for a trainer, their own for a participant, their employees' for an
    employer. Only the coordinator issues, revokes or reissues (``can_manage_certificates``)."""
    enrolment_ids = visible_enrolments(user).with_only_columns(Enrolment.id)
    return sa.select(Certificate).where(Certificate.enrolment_id.in_(enrolment_ids))


def can_manage_certificates(user: User) -> bool:
    return user.role is Role.COORDINATOR


def can_take_credential(user: User, certificate: Certificate) -> bool:
    """The digital badge of a certificate (``visible_certificates`` first) is the holder's, while the
    certificate is valid; the coordinator may take any, revoked included (to check it)."""
    if can_manage_certificates(user):
        return True
    return not certificate.is_revoked and certificate.enrolment.participant_id == user.id


def cohort_or_404(cohort_id: int, *, options: Sequence[ExecutableOption] = ()) -> Cohort:
    """Load → check for the pages of one cohort: the cohort if ``current_user`` may see it
    (``visible_cohorts``: the coordinator any, a trainer their own); 404 otherwise."""
    cohort = db.session.scalar(
        visible_cohorts(current_user).where(Cohort.id == cohort_id).options(*options)
    )
    if cohort is None:
        abort(404)
    return cohort


def can_record_attendance(user: User, cohort: Cohort) -> bool:
    """Attendance is recorded by the cohort's own trainers; the coordinator sees it (read only)."""
    return is_trainer_of(user, cohort)


def can_view_attendance(user: User, cohort: Cohort) -> bool:
    """A cohort's attendance as a whole: its trainers and the coordinator. A participant's own
    attendance follows ``visible_enrolments`` (themselves, their employer's contacts, ...)."""
    return user.role is Role.COORDINATOR or is_trainer_of(user, cohort)
