"""The coordinator's address book: employers and their contacts, trainers, participants."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")
