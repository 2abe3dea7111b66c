"""Checklists: the participant's own, an enrolment's (trainer, employer, coordinator), signing off and
revoking, the employer's workplace observations, and the trainer's cohort matrix.

Who may do what: everyone who may see an enrolment (``can_view_enrolment``) sees its checklists; only a
trainer of the cohort signs off and revokes (the ledger service refuses anyone else as well); only a
contact of the participant's employer adds a workplace observation.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from lms import clock
from lms.blueprints.checklists.forms import (
    BulkSignOffForm,
    MatrixForm,
    ObservationForm,
    RevokeForm,
    SignOffForm,
    level_choices,
    read_cells,
)
from lms.extensions import db
from lms.models import (
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Programme,
    Role,
    SignOff,
    SignOffKind,
    User,
)
from lms.permissions import (
    enrolment_or_404,
    is_trainer_of,
    role_required,
    visible_cohorts,
    visible_enrolments,
)
from lms.services import checklists as checklist_service
from lms.services import signoff as signoff_service
from lms.services.certificates import certificate_status
from lms.services.progress import enrolment_progress

bp = Blueprint("checklists", __name__, url_prefix="/checklists")

# The participant's page for one assignment (portfolio blueprint), once it exists.
PORTFOLIO_ASSIGNMENT = "portfolio.assignment"


def _evidence_mode(trainer: bool) -> str:
    """How evidence links: to the assessment page (trainers of the cohort), to the participant's own
    assignment page (the participant, once that page exists), or not at all (code and title only)."""
    if trainer:
        return "assess"
    if current_user.role is Role.PARTICIPANT and PORTFOLIO_ASSIGNMENT in current_app.view_functions:
        return "portfolio"
    return ""


def _load_enrolment(enrolment_id: int) -> Enrolment:
    """The enrolment with what the pages show; 404 when it does not exist or is not yours to see."""
    return enrolment_or_404(
        enrolment_id,
        options=(
            joinedload(Enrolment.participant),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.cohort).options(
                joinedload(Cohort.programme), joinedload(Cohort.trainers)
            ),
        ),
    )


def _load_cohort(cohort_id: int) -> Cohort:
    cohort = db.session.scalar(
        db.select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(joinedload(Cohort.programme), selectinload(Cohort.trainers))
    )
    if cohort is None:
        abort(404)
    if not (current_user.role is Role.COORDINATOR or is_trainer_of(current_user, cohort)):
        abort(404)  # not yours: the same answer as a missing record
    return cohort


def _grouped_items(programme: Programme) -> list[tuple[ChecklistGroup, list[ChecklistItem]]]:
    return [(group, list(group.items)) for group in programme.checklist_groups]


# --- overview pages ---------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """Employer: my employees' checklists. Trainer and coordinator: cohorts with their matrix."""
    if current_user.role is Role.PARTICIPANT:
        return redirect(url_for("checklists.mine"))
    today = clock.today()
    if current_user.role is Role.EMPLOYER:
        enrolments = db.session.scalars(
            visible_enrolments(current_user)
            .where(Enrolment.status == EnrolmentStatus.ACTIVE)
            .join(Enrolment.participant)
            .options(joinedload(Enrolment.participant), joinedload(Enrolment.cohort))
            .order_by(User.sort_key, User.id)
        ).all()
        return render_template(
            "checklists/index.html",
            enrolments=enrolments,
            progress=enrolment_progress(enrolments, today),
            cohorts=None,
        )
    cohorts = db.session.scalars(
        visible_cohorts(current_user)
        .where(Cohort.closed_at.is_(None))
        .order_by(Cohort.start_date.desc(), Cohort.name)
    ).all()
    return render_template("checklists/index.html", enrolments=None, cohorts=cohorts, today=today)


@bp.get("/mine")
@role_required(Role.PARTICIPANT)
def mine():  # type: ignore[no-untyped-def]
    enrolment = db.session.scalar(
        visible_enrolments(current_user)
        .order_by(
            (Enrolment.status == EnrolmentStatus.ACTIVE).desc(),
            Enrolment.enrolled_on.desc(),
            Enrolment.id.desc(),
        )
        .limit(1)
        .options(
            joinedload(Enrolment.participant),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.cohort).options(
                joinedload(Cohort.programme), joinedload(Cohort.trainers)
            ),
        )
    )
    if enrolment is None:
        return render_template("checklists/enrolment.html", enrolment=None, own=True)
    return _render_checklist(enrolment, own=True)


@bp.get("/enrolments/<int:enrolment_id>")
@login_required
def enrolment(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = _load_enrolment(enrolment_id)
    return _render_checklist(enrolment, own=current_user.id == enrolment.participant_id)


def _render_checklist(enrolment: Enrolment, *, own: bool):  # type: ignore[no-untyped-def]
    trainer = is_trainer_of(current_user, enrolment.cohort)
    status = certificate_status([enrolment], clock.today())[enrolment.id]
    return render_template(
        "checklists/enrolment.html",
        enrolment=enrolment,
        own=own,
        checklist=checklist_service.build_checklist(enrolment),
        progress=status.progress,
        certificate_state=status.state,
        can_sign=trainer and enrolment.is_active,
        can_revoke=trainer,
        can_observe=checklist_service.may_observe(current_user, enrolment),
        evidence_mode=_evidence_mode(trainer),
        ChecklistKind=ChecklistKind,
        SignOffKind=SignOffKind,
    )


# --- signing off ------------------------------------------------------------------------------


@bp.route("/enrolments/<int:enrolment_id>/sign-off", methods=["GET", "POST"])
@role_required(Role.TRAINER)
def sign(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = _load_enrolment(enrolment_id)
    if not is_trainer_of(current_user, enrolment.cohort):
        abort(404)  # not yours: the same answer as a missing record
    if not enrolment.is_active:
        flash(_("This enrolment has ended: its items can no longer be signed off."), "warning")
        return redirect(url_for("checklists.enrolment", enrolment_id=enrolment.id))
    checklist = checklist_service.build_checklist(enrolment)
    submissions = checklist_service.approved_submissions(enrolment)
    items = {
        item.id: item for group in checklist.programme.checklist_groups for item in group.items
    }
    form = SignOffForm()
    form.items.choices = [SelectChoice(item_id, item.code) for item_id, item in items.items()]
    form.level.choices = level_choices(checklist.levels)
    form.evidence.choices = [SelectChoice(s.id, s.assignment.code) for s in submissions]
    if request.method == "GET":
        form.items.data = [i for i in request.args.getlist("item", type=int) if i in items]
    if form.validate_on_submit():
        chosen = {s.id: s for s in submissions}
        try:
            records = signoff_service.sign_off_items(
                enrolment=enrolment,
                items=[items[item_id] for item_id in form.items.data],
                level=form.level.data,
                actor=current_user,
                at=clock.now(),
                note=form.note.data or "",
                evidence=[chosen[submission_id] for submission_id in form.evidence.data or []],
            )
        except signoff_service.SignOffError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d item signed off for %(name)s.",
                    "%(num)d items signed off for %(name)s.",
                    len(records),
                    name=enrolment.participant.full_name,
                ),
                "success",
            )
            return redirect(
                url_for(
                    "checklists.enrolment",
                    enrolment_id=enrolment.id,
                    _anchor=f"item-{records[0].checklist_item_id}",
                )
            )
    return render_template(
        "checklists/sign.html",
        enrolment=enrolment,
        checklist=checklist,
        submissions=submissions,
        form=form,
    )


@bp.route("/signoffs/<int:signoff_id>/revoke", methods=["GET", "POST"])
@role_required(Role.TRAINER)
def revoke(signoff_id: int):  # type: ignore[no-untyped-def]
    record = db.session.scalar(
        db.select(SignOff)
        .where(SignOff.id == signoff_id, SignOff.kind == SignOffKind.SIGN_OFF)
        .options(
            joinedload(SignOff.checklist_item),
            joinedload(SignOff.signed_by),
            joinedload(SignOff.enrolment),
        )
    )
    if record is None:
        abort(404)
    # Revoked from the checklist of this enrolment: the record's own, or a later one in its transfer chain.
    enrolment = _load_enrolment(request.args.get("enrolment", record.enrolment_id, type=int))
    if not is_trainer_of(current_user, enrolment.cohort):
        abort(404)  # not yours: the same answer as a missing record
    checklist = checklist_service.build_checklist(enrolment)
    if record.enrolment_id not in checklist.chain:
        abort(404)
    back = url_for(
        "checklists.enrolment",
        enrolment_id=enrolment.id,
        _anchor=f"item-{record.checklist_item_id}",
    )
    row = checklist.item(record.checklist_item_id)
    if row is not None and record.id in row.revocations:
        flash(_("This sign-off has already been revoked."), "info")
        return redirect(back)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            signoff_service.revoke(
                record=record,
                actor=current_user,
                at=clock.now(),
                reason=form.reason.data,
                enrolment=enrolment,
            )
        except signoff_service.SignOffError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(
                _(
                    "The sign-off of %(code)s has been revoked. It stays visible in the history.",
                    code=record.checklist_item.code,
                ),
                "success",
            )
            return redirect(back)
    return render_template(
        "checklists/revoke.html",
        record=record,
        enrolment=enrolment,
        levels=checklist.levels,
        form=form,
        back=back,
    )


# --- workplace observations -------------------------------------------------------------------


@bp.route("/enrolments/<int:enrolment_id>/observations", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def observe(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = _load_enrolment(enrolment_id)
    if not checklist_service.may_observe(current_user, enrolment):
        abort(404)  # not yours: the same answer as a missing record
    programme = checklist_service.load_programme(enrolment.cohort.programme_id)
    groups = _grouped_items(programme)
    items = {item.id: item for _, group_items in groups for item in group_items}
    form = ObservationForm()
    form.item.choices = [  # an <optgroup> per group
        SelectChoice(item.id, f"{item.code} · {item.title}", optgroup=group.title)
        for group, group_items in groups
        for item in group_items
    ]
    if request.method == "GET" and request.args.get("item", type=int) in items:
        form.item.data = request.args.get("item", type=int)
    if form.validate_on_submit():
        try:
            checklist_service.add_observation(
                enrolment=enrolment,
                item=items[form.item.data],
                actor=current_user,
                note=form.note.data,
                at=clock.now(),
            )
        except checklist_service.ObservationError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(
                _(
                    "Thank you. The trainer sees your observation on %(code)s.",
                    code=items[form.item.data].code,
                ),
                "success",
            )
            return redirect(
                url_for(
                    "checklists.enrolment",
                    enrolment_id=enrolment.id,
                    _anchor=f"item-{form.item.data}",
                )
            )
    return render_template("checklists/observe.html", enrolment=enrolment, form=form)


# --- the cohort matrix and bulk sign-off ------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>", methods=["GET", "POST"])
@role_required(Role.TRAINER, Role.COORDINATOR)
def matrix(cohort_id: int):  # type: ignore[no-untyped-def]
    """The cohort's levels, a selection of groups at a time; a trainer of the cohort types or picks a new
    level in any cells and saves them at once. What stands behind a cell is on the cell's own page."""
    cohort = _load_cohort(cohort_id)
    can_sign = is_trainer_of(current_user, cohort)
    if request.method == "POST" and not can_sign:
        abort(404)  # not yours: the same answer as a missing record
    catalogue = checklist_service.programme_items(cohort.programme_id)
    show, groups = catalogue.select(request.args.get("show"))
    grid = checklist_service.build_matrix(cohort, groups)
    form = MatrixForm()
    cells = read_cells(
        request.form if request.method == "POST" else {},
        ((e.id, item.id) for e in grid.enrolments for item in grid.items),
        grid.levels,
    )
    if form.validate_on_submit():
        if cells.error:
            form.form_errors.append(cells.error)
        elif not cells.chosen:
            form.form_errors.append(_("Choose a level in at least one cell."))
        else:
            try:
                records = signoff_service.sign_off_cells(
                    cohort=cohort,
                    cells=[
                        signoff_service.Cell(enrolment, item, level)
                        for enrolment in grid.enrolments
                        for item in grid.items
                        if (level := cells.chosen.get((enrolment.id, item.id)))
                    ],
                    actor=current_user,
                    at=clock.now(),
                    note=form.note.data or "",
                    attach_evidence=form.attach_evidence.data,
                )
            except signoff_service.SignOffError as error:
                db.session.rollback()
                form.form_errors.append(str(error))
            else:
                db.session.commit()
                if records:
                    flash(
                        ngettext(
                            "%(num)d sign-off saved.", "%(num)d sign-offs saved.", len(records)
                        ),
                        "success",
                    )
                else:
                    flash(
                        _("Nothing changed: the chosen levels are the levels already reached."),
                        "info",
                    )
                return redirect(url_for("checklists.matrix", cohort_id=cohort.id, show=show))
    return render_template(
        "checklists/matrix.html",
        cohort=cohort,
        programme=cohort.programme,
        catalogue=catalogue,
        grid=grid,
        form=form,
        cells=cells,
        show=show,
        can_sign=can_sign,
        ChecklistKind=ChecklistKind,
    )


@bp.get("/enrolments/<int:enrolment_id>/items/<int:item_id>")
@login_required
def item(enrolment_id: int, item_id: int):  # type: ignore[no-untyped-def]
    """One cell of the matrix (one item of one participant's checklist): where it stands, who signed it
    off with which note and evidence, the history, the employer's observations and the approved work."""
    enrolment = _load_enrolment(enrolment_id)
    detail = checklist_service.item_detail(enrolment, item_id)
    if detail is None:
        abort(404)
    trainer = is_trainer_of(current_user, enrolment.cohort)
    return render_template(
        "checklists/item.html",
        enrolment=enrolment,
        detail=detail,
        row=detail.standing,
        can_sign=trainer and enrolment.is_active,
        can_revoke=trainer,
        can_observe=checklist_service.may_observe(current_user, enrolment),
        back_to_matrix=trainer or current_user.role is Role.COORDINATOR,
        evidence_mode=_evidence_mode(trainer),
        SignOffKind=SignOffKind,
    )


@bp.route("/cohorts/<int:cohort_id>/bulk", methods=["GET", "POST"])
@role_required(Role.TRAINER)
def bulk(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = _load_cohort(cohort_id)
    if not is_trainer_of(current_user, cohort):
        abort(404)  # not yours: the same answer as a missing record
    programme = checklist_service.load_programme(cohort.programme_id)
    groups = _grouped_items(programme)
    items = {item.id: item for _, group_items in groups for item in group_items}
    item_id = request.values.get("item", type=int)
    item = items.get(item_id) if item_id is not None else None
    if item is None:  # first choose the item
        return render_template("checklists/bulk.html", cohort=cohort, groups=groups, item=None)
    enrolments = checklist_service.active_enrolments(cohort)
    levels = signoff_service.current_levels(enrolments)
    form = BulkSignOffForm()
    form.item.data = str(item.id)
    form.level.choices = level_choices(checklist_service.scale(programme))
    form.participants.choices = [SelectChoice(e.id, e.participant.full_name) for e in enrolments]
    if form.validate_on_submit():
        by_id = {e.id: e for e in enrolments}
        try:
            records = signoff_service.bulk_sign_off(
                cohort=cohort,
                item=item,
                level=form.level.data,
                enrolments=[by_id[enrolment_id] for enrolment_id in form.participants.data],
                actor=current_user,
                at=clock.now(),
                note=form.note.data or "",
            )
        except signoff_service.SignOffError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(code)s signed off for %(num)d participant.",
                    "%(code)s signed off for %(num)d participants.",
                    len(records),
                    code=item.code,
                ),
                "success",
            )
            return redirect(
                url_for("checklists.matrix", cohort_id=cohort.id, show=f"group-{item.group.code}")
            )
    return render_template(
        "checklists/bulk.html",
        cohort=cohort,
        groups=groups,
        item=item,
        enrolments=enrolments,
        levels=levels,
        scale=checklist_service.scale(programme),
        form=form,
    )
