"""The coordinator's address book: employers and their contacts, trainers, participants."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.blueprints.people.forms import ConfirmForm, EmployerForm, PersonForm
from lms.extensions import db
from lms.models import Employer, Region, Role, User
from lms.pagination import paginate, search_term
from lms.permissions import role_required
from lms.services import people

bp = Blueprint("people", __name__, url_prefix="/people")


# --- helpers -----------------------------------------------------------------------------------


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _employer_or_404(employer_id: int) -> Employer:
    employer = db.session.get(Employer, employer_id)
    if employer is None:
        abort(404)
    return employer


def _person_or_404(user_id: int) -> User:
    """A person in the address book (contact, trainer or participant); coordinators are not in it."""
    user = db.session.get(User, user_id)
    if user is None or user.role not in people.ADDRESS_BOOK_ROLES:
        abort(404)
    return user


def _show_error(form: Any, error: people.PeopleError) -> None:
    """Put a refused change's message next to its field, or above the form."""
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def _region_arg() -> Region | None:
    try:
        return Region(request.args.get("region", ""))
    except ValueError:
        return None


def _list_endpoint(user: User) -> str:
    return {Role.TRAINER: "people.trainers", Role.PARTICIPANT: "people.participants"}.get(
        user.role, "people.employers"
    )


def _back_url(user: User) -> str:
    if user.role is Role.EMPLOYER and user.employer_id is not None:
        return url_for("people.employer_detail", employer_id=user.employer_id)
    return url_for(_list_endpoint(user))


# --- employers ---------------------------------------------------------------------------------


@bp.get("/employers/")
@role_required(Role.COORDINATOR)
def employers():  # type: ignore[no-untyped-def]
    term, region = search_term(), _region_arg()
    page = paginate(people.employer_search(term, region))
    return render_template(
        "people/employers.html",
        page=page,
        term=term,
        region=region,
        regions=list(Region),
        employees=people.employees_in_programme(employer.id for employer in page.items),
    )


@bp.route("/employers/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def employer_create():  # type: ignore[no-untyped-def]
    form = EmployerForm()
    if form.validate_on_submit():
        try:
            employer = people.create_employer(form.to_data(), actor=_actor())
        except people.PeopleError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s has been added.", name=employer.name), "success")
            return redirect(url_for("people.employer_detail", employer_id=employer.id))
    return render_template("people/employer_form.html", form=form, employer=None)


@bp.get("/employers/<int:employer_id>")
@role_required(Role.COORDINATOR)
def employer_detail(employer_id: int):  # type: ignore[no-untyped-def]
    employer = _employer_or_404(employer_id)
    overview = people.employer_overview(employer)
    return render_template(
        "people/employer_detail.html",
        employer=employer,
        overview=overview,
        invitations=people.last_invitations(contact.id for contact in overview.contacts),
        account_state=people.account_state,
    )


@bp.route("/employers/<int:employer_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def employer_edit(employer_id: int):  # type: ignore[no-untyped-def]
    employer = _employer_or_404(employer_id)
    form = EmployerForm(obj=employer)
    if form.validate_on_submit():
        try:
            changes = people.update_employer(employer, form.to_data(), actor=_actor())
        except people.PeopleError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            if changes:
                flash(_("The details of %(name)s have been saved.", name=employer.name), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("people.employer_detail", employer_id=employer.id))
    return render_template("people/employer_form.html", form=form, employer=employer)


@bp.route("/employers/<int:employer_id>/contacts/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def contact_create(employer_id: int):  # type: ignore[no-untyped-def]
    employer = _employer_or_404(employer_id)
    form = PersonForm()
    if form.validate_on_submit():
        try:
            contact = people.add_contact(employer, form.to_data(), actor=_actor())
        except people.PeopleError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s has been added. An invitation to choose a password is on its way to %(email)s.",
                    name=contact.full_name,
                    email=contact.email,
                ),
                "success",
            )
            return redirect(url_for("people.employer_detail", employer_id=employer.id))
    return render_template(
        "people/person_form.html",
        form=form,
        title=_("New contact person at %(name)s", name=employer.name),
        intro=_(
            "The contact person (praktijkopleider) follows the employees of this company. "
            "They get an e-mail with a link to choose a password."
        ),
        cancel_url=url_for("people.employer_detail", employer_id=employer.id),
    )


# --- trainers ----------------------------------------------------------------------------------


@bp.get("/trainers/")
@role_required(Role.COORDINATOR)
def trainers():  # type: ignore[no-untyped-def]
    term = search_term()
    page = paginate(people.trainer_search(term))
    return render_template(
        "people/trainers.html",
        page=page,
        term=term,
        account_state=people.account_state,
    )


@bp.route("/trainers/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def trainer_create():  # type: ignore[no-untyped-def]
    form = PersonForm()
    if form.validate_on_submit():
        try:
            trainer = people.add_trainer(form.to_data(), actor=_actor())
        except people.PeopleError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s has been added. An invitation to choose a password is on its way to %(email)s.",
                    name=trainer.full_name,
                    email=trainer.email,
                ),
                "success",
            )
            return redirect(url_for("people.person_detail", user_id=trainer.id))
    return render_template(
        "people/person_form.html",
        form=form,
        title=_("New trainer"),
        intro=_(
            "The trainer gets an e-mail with a link to choose a password. Assign cohorts on the cohort page."
        ),
        cancel_url=url_for("people.trainers"),
    )


# --- participants ------------------------------------------------------------------------------


@bp.get("/participants/")
@role_required(Role.COORDINATOR)
def participants():  # type: ignore[no-untyped-def]
    term = search_term()
    page = paginate(people.participant_search(term))
    return render_template(
        "people/participants.html",
        page=page,
        term=term,
        current=people.current_enrolments(user.id for user in page.items),
    )


# --- one person: contact, trainer or participant -----------------------------------------------


@bp.get("/<int:user_id>")
@role_required(Role.COORDINATOR)
def person_detail(user_id: int):  # type: ignore[no-untyped-def]
    person = _person_or_404(user_id)
    return render_template(
        "people/person.html",
        person=person,
        state=people.account_state(person),
        last_invitation=people.last_invitations([person.id]).get(person.id),
        enrolments=people.enrolment_history(person) if person.role is Role.PARTICIPANT else [],
        cohorts=people.cohorts_of_trainer(person) if person.role is Role.TRAINER else [],
        can_deactivate=person.role in people.DEACTIVATABLE_ROLES,
        back_url=_back_url(person),
    )


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def person_edit(user_id: int):  # type: ignore[no-untyped-def]
    person = _person_or_404(user_id)
    form = PersonForm(obj=person)
    if form.validate_on_submit():
        try:
            changes = people.update_person(person, form.to_data(), actor=_actor())
        except people.PeopleError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            if not changes:
                flash(_("Nothing was changed."), "info")
            else:
                flash(
                    _("The details of %(name)s have been saved.", name=person.full_name), "success"
                )
                if (
                    "email" in changes
                    and people.account_state(person) is people.AccountState.INVITED
                ):
                    flash(
                        _(
                            "%(name)s has not chosen a password yet. Send a new invitation, so that it "
                            "reaches the new e-mail address.",
                            name=person.full_name,
                        ),
                        "warning",
                    )
            return redirect(url_for("people.person_detail", user_id=person.id))
    return render_template(
        "people/person_form.html",
        form=form,
        title=_("Edit %(name)s", name=person.full_name),
        intro=None,
        cancel_url=url_for("people.person_detail", user_id=person.id),
    )


def _confirm(person: User, action: Any, page: dict[str, Any], done: str):  # type: ignore[no-untyped-def]
    """GET shows what will happen and asks to confirm; POST (with the form's token) does it."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            action(person, actor=_actor())
        except people.PeopleError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(done, "success")
        return redirect(url_for("people.person_detail", user_id=person.id))
    return render_template("people/confirm.html", form=form, person=person, **page)


@bp.route("/<int:user_id>/deactivate", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def person_deactivate(user_id: int):  # type: ignore[no-untyped-def]
    person = _person_or_404(user_id)
    if person.role not in people.DEACTIVATABLE_ROLES:
        abort(404)
    return _confirm(
        person,
        people.deactivate,
        {
            "title": _("Deactivate %(name)s?", name=person.full_name),
            "consequences": [
                _(
                    "%(name)s can no longer log in; if they are logged in now, that ends at once.",
                    name=person.full_name,
                ),
                _("Links they received to choose a password stop working."),
                _("Everything they did stays in the system. You can reactivate the account later."),
            ],
            "cohorts": people.cohorts_of_trainer(person) if person.role is Role.TRAINER else [],
            "button": _("Deactivate"),
            "danger": True,
        },
        _("%(name)s has been deactivated and can no longer log in.", name=person.full_name),
    )


@bp.route("/<int:user_id>/reactivate", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def person_reactivate(user_id: int):  # type: ignore[no-untyped-def]
    person = _person_or_404(user_id)
    return _confirm(
        person,
        people.reactivate,
        {
            "title": _("Reactivate %(name)s?", name=person.full_name),
            "consequences": [
                _("%(name)s can log in again with the password they had.", name=person.full_name),
                _("If they never chose a password, send them a new invitation afterwards."),
            ],
            "cohorts": [],
            "button": _("Reactivate"),
            "danger": False,
        },
        _("%(name)s has been reactivated.", name=person.full_name),
    )


@bp.route("/<int:user_id>/invitation", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def invitation_resend(user_id: int):  # type: ignore[no-untyped-def]
    person = _person_or_404(user_id)
    return _confirm(
        person,
        people.resend_invitation,
        {
            "title": _("Send a new invitation to %(name)s?", name=person.full_name),
            "consequences": [
                _(
                    "An e-mail with a new link to choose a password goes to %(email)s.",
                    email=person.email,
                ),
                _("Links sent earlier stop working."),
            ],
            "cohorts": [],
            "button": _("Send new invitation"),
            "danger": False,
        },
        _("A new invitation is on its way to %(email)s.", email=person.email),
    )
