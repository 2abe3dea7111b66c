"""Mailed action links: an employer's contact confirms work, acknowledges a review or approves a week
of hours without logging in. The link names one action on one record; opening it changes nothing
(mail scanners open links), the button on the page does, once."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from lms import clock
from lms.blueprints.employer.forms import ConfirmationForm, NotCarriedOutForm
from lms.blueprints.hours.forms import DecisionForm
from lms.blueprints.reviews.forms import AcknowledgeForm
from lms.extensions import db, limiter
from lms.models import (
    ActionLink,
    Attempt,
    Enrolment,
    LinkAction,
    ProgressReview,
    Submission,
    WorkplaceHours,
)
from lms.services import action_links, audit, workplace
from lms.services import hours as hours_service
from lms.services import reviews as review_service

bp = Blueprint("links", __name__, url_prefix="/l")

FORMS = {
    LinkAction.CONFIRM_WORKPLACE: ConfirmationForm,
    LinkAction.ACKNOWLEDGE_REVIEW: AcknowledgeForm,
    LinkAction.APPROVE_HOURS: DecisionForm,
}


def _subject(link: ActionLink):  # type: ignore[no-untyped-def]
    """The record the link is about, if it still belongs to the contact's company."""
    if link.action is LinkAction.CONFIRM_WORKPLACE:
        subject = db.session.scalar(
            db.select(Submission)
            .where(Submission.id == link.subject_id)
            .options(
                joinedload(Submission.enrolment).joinedload(Enrolment.participant),
                joinedload(Submission.assignment),
                selectinload(Submission.attempts).selectinload(Attempt.evidence_files),
                selectinload(Submission.workplace_confirmations),
            )
        )
    elif link.action is LinkAction.ACKNOWLEDGE_REVIEW:
        subject = db.session.scalar(
            db.select(ProgressReview)
            .where(ProgressReview.id == link.subject_id)
            .options(
                joinedload(ProgressReview.trainer),
                joinedload(ProgressReview.enrolment).joinedload(Enrolment.participant),
            )
        )
    else:
        subject = db.session.scalar(
            db.select(WorkplaceHours)
            .where(WorkplaceHours.id == link.subject_id)
            .options(joinedload(WorkplaceHours.enrolment).joinedload(Enrolment.participant))
        )
    if subject is None or subject.enrolment.employer_id != link.user.employer_id:
        return None
    return subject


def _refused(message: str, status: int):  # type: ignore[no-untyped-def]
    return render_template("links/refused.html", message=message), status


def _already_done(link: ActionLink, subject: object) -> str | None:
    """If what the link asks is already done (in the app, or by a colleague), say so."""
    if link.action is LinkAction.CONFIRM_WORKPLACE and subject.workplace_confirmation:  # type: ignore[attr-defined]
        return _("This work has already been confirmed. Nothing more to do.")
    if (
        link.action is LinkAction.CONFIRM_WORKPLACE
        and subject.workplace_denial  # type: ignore[attr-defined]
        and not subject.workplace_answer_pending  # type: ignore[attr-defined]
    ):
        return _(
            "Your company already said that this work was not carried out at your workplace. Nothing more to do."
        )
    if link.action is LinkAction.ACKNOWLEDGE_REVIEW and subject.employer_acknowledged_at:  # type: ignore[attr-defined]
        return _(
            "Someone of your company already confirmed reading this review. Nothing more to do."
        )
    if link.action is LinkAction.APPROVE_HOURS and subject.status.value != "submitted":  # type: ignore[attr-defined]
        return _("These hours have already been dealt with. Nothing more to do.")
    return None


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def use(token: str):  # type: ignore[no-untyped-def]
    now = clock.now()
    link = action_links.find(token, lock=request.method == "POST")
    try:
        action_links.check_usable(link, now)
    except action_links.LinkRefused as refused:
        return _refused(str(refused), 404 if link is None else 410)
    subject = _subject(link)
    if subject is None:
        return _refused(_("This link is not valid any more."), 410)
    done = _already_done(link, subject)
    if done:
        if request.method == "POST":
            action_links.mark_used(link, now)
            db.session.commit()
        return render_template("links/done.html", message=done)
    # Confirming work also offers the other answer, "not carried out here", with its own button.
    denying = link.action is LinkAction.CONFIRM_WORKPLACE and "deny" in request.form
    if denying:
        form, deny_form = ConfirmationForm(formdata=None), NotCarriedOutForm()
    else:
        form, deny_form = FORMS[link.action](), NotCarriedOutForm(formdata=None)
    posted = deny_form if denying else form
    if request.method == "POST" and posted.validate_on_submit():
        contact = link.user
        try:
            message = _perform(link, subject, posted, now)
        except (
            workplace.WorkplaceError,
            review_service.ReviewError,
            hours_service.HoursError,
        ) as error:
            db.session.rollback()
            posted.form_errors.append(str(error))
        else:
            action_links.mark_used(link, now)
            audit.record(
                "action_link.use",
                contact,
                link,
                link_action=link.action.value,
                subject_id=link.subject_id,
                ip_address=request.remote_addr or "",
            )
            db.session.commit()
            return render_template("links/done.html", message=message)
    return render_template(
        "links/action.html",
        link=link,
        subject=subject,
        form=form,
        deny_form=deny_form,
        contact=link.user,
    )


def _perform(link: ActionLink, subject, form, now) -> str:  # type: ignore[no-untyped-def]
    contact = link.user
    name = subject.enrolment.participant.full_name
    if isinstance(form, NotCarriedOutForm):
        workplace.deny_workplace(subject, actor=contact, remark=form.reason.data or "", at=now)
        return _(
            "Thank you. The trainer and %(name)s now know that %(code)s was not carried out at your workplace.",
            name=name,
            code=subject.assignment.code,
        )
    if link.action is LinkAction.CONFIRM_WORKPLACE:
        workplace.confirm_workplace(subject, actor=contact, remark=form.remark.data or "", at=now)
        return _(
            "Thank you. You confirmed that %(name)s carried out %(code)s at your workplace.",
            name=name,
            code=subject.assignment.code,
        )
    if link.action is LinkAction.ACKNOWLEDGE_REVIEW:
        review_service.acknowledge(subject, actor=contact, at=now, link=link)
        return _("Thank you. The trainer can see that you have read the review.")
    if form.send_back.data:
        hours_service.send_back_hours(
            subject, actor=contact, remark=form.remark.data or "", link=link
        )
        return _("The hours of %(name)s were sent back with your remark.", name=name)
    hours_service.approve_hours(
        subject, actor=contact, at=now, remark=form.remark.data or "", link=link
    )
    return _("Approved: the hours of %(name)s.", name=name)
