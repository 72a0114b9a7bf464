"""Placeholder; the invoices screens are being built."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("invoices", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("placeholder.html", area="invoices")
