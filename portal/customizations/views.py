"""Placeholder; the customizations screens are being built."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("customizations", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("placeholder.html", area="customizations")
