"""Placeholder; the time screens are being built."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("time", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("placeholder.html", area="time")
