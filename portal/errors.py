"""Error pages. HTML for browsers; nothing ever shows a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.extensions import db

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your role does not give access to this page. Ask a firm admin."),
    404: ("Not found", "There is nothing here. It may have been removed, or the link is wrong."),
    405: ("Not allowed", "This action cannot be done that way."),
    409: ("Cannot change this record", "This record can no longer be changed."),
    413: ("Too large", "What you sent is larger than the portal accepts."),
    429: ("Slow down", "Too many attempts. Wait a minute and try again."),
    500: ("Something went wrong", "The error has been logged. Please try again."),
}


def render_error(status: int, detail: str | None = None):
    title, message = MESSAGES.get(status, ("Error", "The request failed."))
    return render_template("errors/error.html", status=status, title=title,
                           message=detail or message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(400, "Your form expired or was sent from elsewhere. "
                                 "Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        description = exc.description if exc.code == 409 else None
        return render_error(exc.code or 500, description)

    @app.errorhandler(Exception)
    def unhandled(exc: Exception):
        app.logger.exception("unhandled error")
        db.session.rollback()
        return render_error(500)
