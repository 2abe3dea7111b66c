"""Progress reviews: the trainer records one; the participant and the employer's contact confirm they
have read it; everyone involved sees the history per participant."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from lms import clock
from lms.blueprints.reviews.forms import AcknowledgeForm, ReviewForm
from lms.extensions import db
from lms.models import Cohort, Enrolment, ProgressReview, Role
from lms.pagination import paginate
from lms.permissions import can_view_enrolment, enrolment_or_404, role_required
from lms.services import reviews as review_service

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


def _load_enrolment(enrolment_id: int) -> Enrolment:
    return enrolment_or_404(
        enrolment_id,
        options=(
            joinedload(Enrolment.participant),
            joinedload(Enrolment.employer),
            joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
        ),
    )


@bp.get("/")
@role_required(Role.PARTICIPANT, Role.EMPLOYER, Role.TRAINER, Role.COORDINATOR)
def index():  # type: ignore[no-untyped-def]
    """Reviews I may see, newest first; ``?open=1``: only those waiting for my acknowledgement."""
    only_open = request.args.get("open") == "1" and current_user.role in (
        Role.PARTICIPANT,
        Role.EMPLOYER,
    )
    query = (
        review_service.to_acknowledge_query(current_user)
        if only_open
        else review_service.visible_reviews(current_user)
    )
    query = (
        query.options(
            joinedload(ProgressReview.trainer),
            joinedload(ProgressReview.enrolment).joinedload(Enrolment.participant),
        )
        .order_by(None)
        .order_by(ProgressReview.held_on.desc(), ProgressReview.id.desc())
    )
    return render_template("reviews/index.html", page=paginate(query), only_open=only_open)


@bp.route("/enrolments/<int:enrolment_id>", methods=["GET", "POST"])
@login_required
def history(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = _load_enrolment(enrolment_id)
    may_record = review_service.may_record(current_user, enrolment)
    form = ReviewForm()
    if request.method == "POST":
        if not may_record:
            abort(404)  # not yours: the same answer as a missing record
        if form.validate_on_submit():
            try:
                review = review_service.record_review(
                    enrolment,
                    actor=current_user,
                    held_on=form.held_on.data,
                    summary=form.summary.data or "",
                    agreements=form.agreements.data or "",
                    today=clock.today(),
                )
            except review_service.ReviewError as error:
                db.session.rollback()
                form.form_errors.append(str(error))
            else:
                db.session.commit()
                flash(
                    _(
                        "The review is saved. %(name)s and the employer are asked to read it.",
                        name=enrolment.participant.full_name,
                    ),
                    "success",
                )
                return redirect(url_for("reviews.detail", review_id=review.id))
    elif not form.held_on.data:
        form.held_on.data = clock.today()
    reviews = db.session.scalars(
        db.select(ProgressReview)
        .where(ProgressReview.enrolment_id == enrolment.id)
        .options(
            joinedload(ProgressReview.trainer), joinedload(ProgressReview.employer_acknowledged_by)
        )
        .order_by(ProgressReview.held_on.desc(), ProgressReview.id.desc())
    ).all()
    return render_template(
        "reviews/history.html",
        enrolment=enrolment,
        reviews=reviews,
        form=form if may_record else None,
        acknowledge_form=AcknowledgeForm(formdata=None),
    )


def _load_review(review_id: int) -> ProgressReview:
    review = db.session.scalar(
        db.select(ProgressReview)
        .where(ProgressReview.id == review_id)
        .options(
            joinedload(ProgressReview.trainer),
            joinedload(ProgressReview.employer_acknowledged_by),
            joinedload(ProgressReview.enrolment).options(
                joinedload(Enrolment.participant),
                joinedload(Enrolment.employer),
                joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
            ),
        )
    )
    if review is None or not can_view_enrolment(current_user, review.enrolment):
        abort(404)
    return review


@bp.get("/<int:review_id>")
@login_required
def detail(review_id: int):  # type: ignore[no-untyped-def]
    review = _load_review(review_id)
    return render_template(
        "reviews/detail.html",
        review=review,
        may_acknowledge=review_service.may_acknowledge(current_user, review),
        form=AcknowledgeForm(),
    )


@bp.post("/<int:review_id>/acknowledge")
@role_required(Role.PARTICIPANT, Role.EMPLOYER)
def acknowledge(review_id: int):  # type: ignore[no-untyped-def]
    review = _load_review(review_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        changed = review_service.acknowledge(review, actor=current_user, at=clock.now())
    except review_service.ReviewError:
        db.session.rollback()
        abort(404)  # not yours: the same answer as a missing record
    db.session.commit()
    if changed:
        flash(_("Thank you. The trainer can see that you have read the review."), "success")
    else:
        flash(_("You had already confirmed that you read this review."), "info")
    return redirect(url_for("reviews.detail", review_id=review.id))
