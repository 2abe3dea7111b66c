"""The coordinator's side: cohorts, their seats and trainers, and enrolling, withdrawing and
transferring participants. The rules live in ``lms.services.cohorts`` and ``lms.services.enrolment``."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from lms import clock
from lms.blueprints.cohorts.forms import (
    CohortExceptionForm,
    CohortForm,
    ConfirmForm,
    EmptyForm,
    EnrolForm,
    NewCohortForm,
    TrainingDayMoveForm,
    TransferForm,
    WithdrawForm,
)
from lms.extensions import db
from lms.i18n import day_with_weekday
from lms.models import (
    CalendarClosure,
    Cohort,
    Employer,
    Enrolment,
    EnrolmentStatus,
    IntakeType,
    Programme,
    Region,
    Role,
    TrainingDayMove,
    User,
)
from lms.names import fold
from lms.pagination import contains, paginate, search_term
from lms.permissions import role_required, visible_cohorts
from lms.services import attendance as attendance_service
from lms.services import cohorts as cohort_service
from lms.services import enrolment as enrolment_service
from lms.services import school_calendar

MONDAY = 0

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")

# Selects on the enrol and transfer pages show at most this many options; a search narrows them.
MAX_OPTIONS = 200


# --- helpers -----------------------------------------------------------------------------------


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _cohort_or_404(cohort_id: int) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


def _enrolment_or_404(cohort: Cohort, enrolment_id: int) -> Enrolment:
    enrolment = db.session.scalar(
        sa.select(Enrolment)
        .where(Enrolment.id == enrolment_id, Enrolment.cohort_id == cohort.id)
        .options(joinedload(Enrolment.participant), joinedload(Enrolment.employer))
    )
    if enrolment is None:
        abort(404)
    return enrolment


def _region_arg() -> Region | None:
    try:
        return Region(request.args.get("region", ""))
    except ValueError:
        return None


def _show_error(form: Any, error: Exception) -> None:
    """Undo the refused change and put its message next to its field, or above the form."""
    db.session.rollback()
    name = getattr(error, "field", None)
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def _trainer_choices(current: list[User] | None = None) -> list[SelectChoice]:
    """Active trainer accounts, plus the ones already assigned (even if their account was closed)."""
    trainers = db.session.scalars(
        sa.select(User)
        .where(User.role == Role.TRAINER, User.is_active_account)
        .order_by(User.sort_key, User.id)
    ).all()
    listed = {trainer.id for trainer in trainers}
    extra = [trainer for trainer in current or [] if trainer.id not in listed]
    return [SelectChoice(trainer.id, trainer.full_name) for trainer in [*trainers, *extra]]


def _chosen_trainers(ids: list[int]) -> list[User]:
    if not ids:
        return []
    return list(
        db.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.sort_key, User.id))
    )


def _seats_taken_by_cohort(cohort_ids: list[int]) -> dict[int, int]:
    if not cohort_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Enrolment.cohort_id, sa.func.count())
            .where(Enrolment.cohort_id.in_(cohort_ids), Enrolment.status == EnrolmentStatus.ACTIVE)
            .group_by(Enrolment.cohort_id)
        ).all()
    )


def _programme_label(programme: Programme) -> str:
    return _(
        "%(code)s version %(version)d — %(title)s (%(weeks)d weeks)",
        title=programme.title,
        code=programme.code,
        version=programme.version,
        weeks=programme.duration_weeks,
    )


# --- cohorts -----------------------------------------------------------------------------------


@bp.get("/")
@role_required(Role.COORDINATOR)
def index():  # type: ignore[no-untyped-def]
    term, region = search_term(), _region_arg()
    query = visible_cohorts(current_user).options(
        joinedload(Cohort.programme), selectinload(Cohort.trainers)
    )
    if term:
        query = query.where(contains(Cohort.name, term))
    if region is not None:
        query = query.where(Cohort.region == region)
    # Open cohorts first, the newest on top.
    page = paginate(
        query.order_by(Cohort.closed_at.is_not(None), Cohort.start_date.desc(), Cohort.name)
    )
    totals = {
        "participants": db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Enrolment)
            .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        ),
        "employers": db.session.scalar(sa.select(sa.func.count()).select_from(Employer)),
        "trainers": db.session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(User.role == Role.TRAINER, User.is_active_account)
        ),
    }
    programmes = db.session.scalars(
        sa.select(Programme).order_by(Programme.code, Programme.version)
    ).all()
    return render_template(
        "cohorts/index.html",
        page=page,
        term=term,
        region=region,
        regions=list(Region),
        seats_taken=_seats_taken_by_cohort([cohort.id for cohort in page.items]),
        totals=totals,
        programmes=programmes,
        filtered=bool(term or region),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def create():  # type: ignore[no-untyped-def]
    programmes = db.session.scalars(
        sa.select(Programme).order_by(Programme.code, Programme.version.desc())
    ).all()
    form = NewCohortForm()
    form.programme.choices = [SelectChoice(None, _("Choose a programme version"))] + [
        SelectChoice(programme.id, _programme_label(programme)) for programme in programmes
    ]
    form.trainers.choices = _trainer_choices()
    if request.method == "GET":
        form.training_days.data = [MONDAY]  # the start date's weekday: change it to the real day
    if request.method == "GET" and programmes:
        form.programme.data = max(programmes, key=lambda p: p.loaded_at).id
    if programmes and form.validate_on_submit():
        programme = db.session.get(Programme, form.programme.data)
        try:
            cohort = cohort_service.create_cohort(
                name=form.name.data,
                region=Region(form.region.data),
                programme=programme,
                start_date=form.start_date.data,
                capacity=form.capacity.data,
                trainers=_chosen_trainers(form.trainers.data),
                training_weekdays=form.training_days.data,
                actor=_actor(),
            )
        except cohort_service.CohortError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Cohort %(name)s has been created.", name=cohort.name), "success")
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    return render_template(
        "cohorts/form.html",
        form=form,
        cohort=None,
        has_programmes=bool(programmes),
        max_capacity=cohort_service.MAX_CAPACITY,
    )


@bp.get("/<int:cohort_id>")
@role_required(Role.COORDINATOR)
def detail(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = db.session.scalar(
        sa.select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(
            joinedload(Cohort.programme).options(
                selectinload(Programme.periods), selectinload(Programme.assignments)
            ),
            selectinload(Cohort.trainers),
        )
    )
    if cohort is None:
        abort(404)
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id)
        .options(
            joinedload(Enrolment.participant),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.transferred_from).joinedload(Enrolment.cohort),
        )
    ).all()
    active = sorted(
        (e for e in enrolments if e.status is EnrolmentStatus.ACTIVE),
        key=lambda e: (e.participant.sort_key, e.id),
    )
    ended = sorted(
        (e for e in enrolments if e.status is not EnrolmentStatus.ACTIVE),
        key=lambda e: (e.ended_on, e.id),
        reverse=True,
    )
    transferred_ids = [e.id for e in ended if e.status is EnrolmentStatus.TRANSFERRED]
    successors: dict[int, Enrolment] = {}
    if transferred_ids:
        successors = {
            e.transferred_from_id: e
            for e in db.session.scalars(
                sa.select(Enrolment)
                .where(Enrolment.transferred_from_id.in_(transferred_ids))
                .options(joinedload(Enrolment.cohort))
            )
        }
    closures = school_calendar.closures_between(cohort.start_date, cohort.end_date, cohort.id)
    moves = db.session.scalars(
        sa.select(TrainingDayMove)
        .where(TrainingDayMove.cohort_id == cohort.id)
        .order_by(TrainingDayMove.moved_from)
    ).all()
    employers: dict[int, tuple[Employer, int]] = {}
    for enrolment in active:
        employer, count = employers.get(enrolment.employer_id, (enrolment.employer, 0))
        employers[enrolment.employer_id] = (employer, count + 1)
    return render_template(
        "cohorts/detail.html",
        cohort=cohort,
        active=active,
        free_seats=max(cohort.capacity - len(active), 0),
        ended=ended,
        successors=successors,
        employers=sorted(employers.values(), key=lambda pair: fold(pair[0].name)),
        unrecognised=sorted(
            (employer for employer, _count in employers.values() if not employer.is_recognised),
            key=lambda employer: fold(employer.name),
        ),
        plan=school_calendar.year_plan(cohort, closures, moves),
        exceptions=[closure for closure in closures if closure.cohort_id == cohort.id],
        moves=moves,
        missing_years=school_calendar.missing_school_years(cohort.start_date, cohort.end_date),
        today=clock.today(),
        reopen_form=EmptyForm(),
    )


@bp.route("/<int:cohort_id>/exceptions/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def add_exception(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    form = CohortExceptionForm()
    if form.validate_on_submit():
        try:
            school_calendar.add_exception(
                cohort,
                name=form.name.data,
                first_day=form.first_day.data,
                last_day=form.last_day.data,
                actor=_actor(),
            )
        except school_calendar.CalendarError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "The exception is added; the weeks and due dates of %(name)s follow it.",
                    name=cohort.name,
                ),
                "success",
            )
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id, _anchor="year-title"))
    return render_template("cohorts/exception.html", form=form, cohort=cohort)


@bp.route("/<int:cohort_id>/exceptions/<int:closure_id>/remove", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def remove_exception(cohort_id: int, closure_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    closure = db.session.get(CalendarClosure, closure_id)
    if closure is None or closure.cohort_id != cohort.id:
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        school_calendar.remove_exception(closure, actor=_actor())
        db.session.commit()
        flash(_("The exception is removed; the weeks are counted again without it."), "success")
        return redirect(url_for("cohorts.detail", cohort_id=cohort.id, _anchor="year-title"))
    return render_template(
        "cohorts/remove_exception.html", form=form, cohort=cohort, closure=closure
    )


@bp.route("/<int:cohort_id>/training-days/move", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def move_training_day(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    form = TrainingDayMoveForm()
    movable = attendance_service.movable_training_dates(cohort)
    form.moved_from.choices = [("", _("Choose a training day"))] + [
        (day.isoformat(), day_with_weekday(day)) for day in movable
    ]
    if not form.is_submitted():  # the next training day, the one most often moved
        today = clock.today()
        form.moved_from.data = next((d.isoformat() for d in movable if d >= today), "")
    if form.validate_on_submit():
        try:
            move = attendance_service.move_training_day(
                cohort,
                moved_from=date.fromisoformat(form.moved_from.data),
                moved_to=form.moved_to.data,
                reason=form.reason.data,
                actor=_actor(),
            )
        except attendance_service.MoveError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "The training day of %(from)s is held on %(to)s.",
                    **{
                        "from": day_with_weekday(move.moved_from),
                        "to": day_with_weekday(move.moved_to),
                    },
                ),
                "success",
            )
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id, _anchor="year-title"))
    return render_template(
        "cohorts/move_training_day.html", form=form, cohort=cohort, has_days=bool(movable)
    )


@bp.route("/<int:cohort_id>/training-days/moves/<int:move_id>/undo", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def undo_training_day_move(cohort_id: int, move_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    move = db.session.get(TrainingDayMove, move_id)
    if move is None or move.cohort_id != cohort.id:
        abort(404)
    form = EmptyForm()
    problem = attendance_service.undo_problem(move)
    if problem is None and form.validate_on_submit():
        attendance_service.undo_move(move, actor=_actor())
        db.session.commit()
        flash(
            _(
                "The training day is held on %(date)s again.",
                date=day_with_weekday(move.moved_from),
            ),
            "success",
        )
        return redirect(url_for("cohorts.detail", cohort_id=cohort.id, _anchor="year-title"))
    return render_template(
        "cohorts/undo_training_day_move.html",
        form=form,
        cohort=cohort,
        move=move,
        problem=problem,
    )


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def edit(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    form = CohortForm(
        data={
            "name": cohort.name,
            "region": Region(cohort.region).value,
            "start_date": cohort.start_date,
            "capacity": cohort.capacity,
            "trainers": [trainer.id for trainer in cohort.trainers],
            "training_days": list(cohort.training_weekdays),
        }
    )
    form.trainers.choices = _trainer_choices(cohort.trainers)
    if form.validate_on_submit():
        try:
            changes = cohort_service.update_cohort(
                cohort,
                name=form.name.data,
                region=Region(form.region.data),
                start_date=form.start_date.data,
                capacity=form.capacity.data,
                trainers=_chosen_trainers(form.trainers.data),
                training_weekdays=form.training_days.data,
                actor=_actor(),
            )
        except cohort_service.CohortError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            if changes:
                flash(_("Cohort %(name)s has been saved.", name=cohort.name), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    return render_template(
        "cohorts/form.html",
        form=form,
        cohort=cohort,
        seats_taken=enrolment_service.seats_taken(cohort),
        max_capacity=cohort_service.MAX_CAPACITY,
    )


@bp.route("/<int:cohort_id>/close", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def close(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    if cohort.is_closed:
        flash(_("Cohort %(name)s is already closed.", name=cohort.name), "info")
        return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            cohort_service.close_cohort(cohort, actor=_actor(), now=clock.now())
        except cohort_service.CohortError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Cohort %(name)s has been closed.", name=cohort.name), "success")
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    return render_template(
        "cohorts/close.html",
        form=form,
        cohort=cohort,
        seats_taken=enrolment_service.seats_taken(cohort),
    )


@bp.post("/<int:cohort_id>/reopen")
@role_required(Role.COORDINATOR)
def reopen(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        cohort_service.reopen_cohort(cohort, actor=_actor())
    except cohort_service.CohortError as error:
        db.session.rollback()
        flash(str(error), "info")
    else:
        db.session.commit()
        flash(_("Cohort %(name)s is open again.", name=cohort.name), "success")
    return redirect(url_for("cohorts.detail", cohort_id=cohort_id))


# --- enrolment ---------------------------------------------------------------------------------


def _participant_options(term: str) -> tuple[list[SelectChoice], bool]:
    """Participant accounts without an active enrolment (matching ``term``), and whether the list
    was cut off."""
    query = sa.select(User).where(
        User.role == Role.PARTICIPANT,
        User.is_active_account,
        ~sa.exists().where(
            Enrolment.participant_id == User.id, Enrolment.status == EnrolmentStatus.ACTIVE
        ),
    )
    if term:
        query = query.where(
            sa.or_(
                contains(User.first_name, term),
                contains(User.last_name, term),
                contains(User.email, term),
            )
        )
    people = db.session.scalars(query.order_by(User.sort_key, User.id).limit(MAX_OPTIONS + 1)).all()
    options = [SelectChoice(None, _("Choose a participant"))]
    options += [
        SelectChoice(person.id, f"{person.sort_name} ({person.email})")
        for person in people[:MAX_OPTIONS]
    ]
    return options, len(people) > MAX_OPTIONS


def _employer_options(term: str, placeholder: str) -> tuple[list[SelectChoice], bool]:
    query = sa.select(Employer)
    if term:
        query = query.where(
            sa.or_(
                contains(Employer.name, term),
                contains(Employer.city, term),
                contains(Employer.kvk_number, term),
            )
        )
    employers = db.session.scalars(
        query.order_by(Employer.name, Employer.id).limit(MAX_OPTIONS + 1)
    ).all()
    options = [SelectChoice(None, placeholder)]
    options += [
        SelectChoice(
            employer.id, f"{employer.name} ({employer.city})" if employer.city else employer.name
        )
        for employer in employers[:MAX_OPTIONS]
    ]
    return options, len(employers) > MAX_OPTIONS


def _enrolled_message(
    done: enrolment_service.Enrolled, *, name: str, email: str, cohort: Cohort
) -> str:
    if done.outcome is enrolment_service.EnrolOutcome.REACTIVATED:
        return _(
            "%(name)s is enrolled in %(cohort)s again; the earlier work has been kept.",
            name=name,
            cohort=cohort.name,
        )
    if done.outcome is enrolment_service.EnrolOutcome.UNCHANGED:
        return _(
            "%(name)s is already enrolled in %(cohort)s; nothing has been changed.",
            name=name,
            cohort=cohort.name,
        )
    if done.invited:
        return _(
            "%(name)s has been enrolled in %(cohort)s. An invitation to choose a password "
            "is on its way to %(email)s.",
            name=name,
            cohort=cohort.name,
            email=email,
        )
    return _("%(name)s has been enrolled in %(cohort)s.", name=name, cohort=cohort.name)


@bp.route("/<int:cohort_id>/enrol", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def enrol(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    term = search_term()
    employer_term = request.args.get("employer_q", "").strip()[:100]
    form = EnrolForm()
    form.participant.choices, participants_cut = _participant_options(term)
    if form.is_submitted() and form.participant.data is not None:
        # Not offered, but a repeated form names them: the service answers that nothing changed.
        here = enrolment_service.active_enrolment_in(cohort, form.participant.data)
        if here is not None:
            person = here.participant
            form.participant.choices.append(
                SelectChoice(person.id, f"{person.sort_name} ({person.email})")
            )
    form.employer.choices, employers_cut = _employer_options(employer_term, _("Choose an employer"))
    if request.method == "GET":
        form.enrolled_on.data = clock.today()
        if len(form.participant.choices) == 1 and not term:
            form.person.data = EnrolForm.NEW
    status = 200
    if form.validate_on_submit():
        new_person = None
        participant = None
        if form.person.data == EnrolForm.NEW:
            new_person = enrolment_service.NewPerson(
                email=form.email.data,
                first_name=form.first_name.data,
                name_prefix=form.name_prefix.data or "",
                last_name=form.last_name.data,
            )
        else:
            participant = db.session.get(User, form.participant.data)
        try:
            done = enrolment_service.enrol(
                cohort=cohort,
                employer=db.session.get(Employer, form.employer.data),
                intake_type=IntakeType(form.intake_type.data),
                actor=_actor(),
                enrolled_on=form.enrolled_on.data,
                participant=participant,
                new_person=new_person,
            )
        except enrolment_service.EnrolmentError as error:
            _show_error(form, error)
            status = 409
        else:
            name, email = done.enrolment.participant.full_name, done.enrolment.participant.email
            db.session.commit()
            flash(_enrolled_message(done, name=name, email=email, cohort=cohort), "success")
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    taken = enrolment_service.seats_taken(cohort)
    return (
        render_template(
            "cohorts/enrol.html",
            form=form,
            cohort=cohort,
            seats_taken=taken,
            is_full=taken >= cohort.capacity,
            max_capacity=cohort_service.MAX_CAPACITY,
            term=term,
            employer_term=employer_term,
            participants_cut=participants_cut,
            employers_cut=employers_cut,
        ),
        status,
    )


@bp.route("/<int:cohort_id>/enrolments/<int:enrolment_id>/withdraw", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def withdraw(cohort_id: int, enrolment_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    enrolment = _enrolment_or_404(cohort, enrolment_id)
    if not enrolment.is_active:
        flash(_("This enrolment has already ended."), "info")
        return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    form = WithdrawForm()
    if request.method == "GET":
        form.ended_on.data = clock.today()
    status = 200
    if form.validate_on_submit():
        try:
            enrolment_service.withdraw(
                enrolment, on=form.ended_on.data, reason=form.reason.data, actor=_actor()
            )
        except enrolment_service.EnrolmentError as error:
            _show_error(form, error)
            status = 409
        else:
            name = enrolment.participant.full_name
            db.session.commit()
            flash(
                _("%(name)s has been withdrawn from %(cohort)s.", name=name, cohort=cohort.name),
                "success",
            )
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    return render_template(
        "cohorts/withdraw.html", form=form, cohort=cohort, enrolment=enrolment
    ), status


def _transfer_targets(cohort: Cohort) -> list[SelectChoice]:
    """Open cohorts with the same programme version (so the work done moves along), with free seats."""
    targets = db.session.scalars(
        sa.select(Cohort)
        .where(
            Cohort.id != cohort.id,
            Cohort.programme_id == cohort.programme_id,
            Cohort.closed_at.is_(None),
        )
        .order_by(Cohort.start_date.desc(), Cohort.name)
    ).all()
    taken = _seats_taken_by_cohort([target.id for target in targets])
    options = [SelectChoice(None, _("Choose a cohort"))]
    for target in targets:
        free = max(target.capacity - taken.get(target.id, 0), 0)
        options.append(
            SelectChoice(
                target.id,
                _(
                    "%(name)s (%(free)d of %(capacity)d seats free)",
                    name=target.name,
                    free=free,
                    capacity=target.capacity,
                ),
            )
        )
    return options


@bp.route("/<int:cohort_id>/enrolments/<int:enrolment_id>/transfer", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def transfer(cohort_id: int, enrolment_id: int):  # type: ignore[no-untyped-def]
    cohort = _cohort_or_404(cohort_id)
    enrolment = _enrolment_or_404(cohort, enrolment_id)
    if not enrolment.is_active:
        flash(_("This enrolment has already ended."), "info")
        return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    employer_term = request.args.get("employer_q", "").strip()[:100]
    form = TransferForm()
    form.to_cohort.choices = _transfer_targets(cohort)
    form.employer.choices, employers_cut = _employer_options(
        employer_term, _("Keep the current employer (%(name)s)", name=enrolment.employer.name)
    )
    if request.method == "GET":
        form.ended_on.data = clock.today()
    status = 200
    if form.validate_on_submit():
        to_cohort = db.session.get(Cohort, form.to_cohort.data)
        new_employer = db.session.get(Employer, form.employer.data) if form.employer.data else None
        try:
            new = enrolment_service.transfer(
                enrolment,
                to_cohort=to_cohort,
                on=form.ended_on.data,
                reason=form.reason.data,
                actor=_actor(),
                employer=new_employer,
            )
        except enrolment_service.EnrolmentError as error:
            _show_error(form, error)
            status = 409
        else:
            name, target_name, target_id = (
                enrolment.participant.full_name,
                to_cohort.name,
                new.cohort_id,
            )
            db.session.commit()
            flash(
                _(
                    "%(name)s has moved to %(cohort)s, with the work done so far.",
                    name=name,
                    cohort=target_name,
                ),
                "success",
            )
            return redirect(url_for("cohorts.detail", cohort_id=target_id))
    return (
        render_template(
            "cohorts/transfer.html",
            form=form,
            cohort=cohort,
            enrolment=enrolment,
            has_targets=len(form.to_cohort.choices) > 1,
            employer_term=employer_term,
            employers_cut=employers_cut,
        ),
        status,
    )
