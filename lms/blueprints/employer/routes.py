from flask import Blueprint

bp = Blueprint("employer", __name__, url_prefix="/employer")
