"""Sandbox UI pages for customers: list, detail, edit and merge (routes on ``ui.bp``)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for

from . import service
from .core import current_sandbox
from .errors import QboFault
from .merge import merge_customers
from .ui import bp, company_or_404, fault_messages, login_required, names, ref_name, render

# Fault element -> the customer form field it belongs to
CUSTOMER_FIELDS = {
    "DisplayName": "display_name",
    "GivenName": "given_name",
    "FamilyName": "family_name",
    "CompanyName": "company_name",
    "PrimaryEmailAddr": "email",
    "PrimaryEmailAddr.Address": "email",
    "PrimaryPhone": "phone",
    "PrimaryPhone.FreeFormNumber": "phone",
    "SyncToken": "sync_token",
}
NAME_CODES = {"6240": "display_name", "6080": "display_name"}


# -- customers -----------------------------------------------------------------------------------
@bp.get("/company/<realm>/customers")
@login_required
def customers(realm: str) -> Any:
    company_or_404(realm)
    q = request.args.get("q", "").strip()
    status = request.args.get("status", "active")
    rows = current_sandbox().store.list_entities(realm, "Customer")
    if status == "active":
        rows = [c for c in rows if c.get("Active") is not False]
    elif status == "inactive":
        rows = [c for c in rows if c.get("Active") is False]
    if q:
        needle = q.casefold()
        rows = [
            c
            for c in rows
            if any(
                needle in str(c.get(k) or "").casefold()
                for k in ("DisplayName", "CompanyName", "GivenName", "FamilyName")
            )
        ]
    rows.sort(key=lambda c: str(c.get("FullyQualifiedName") or c["DisplayName"]).casefold())
    return render("ui/customers.html", realm, customers=rows, q=q, status=status)


def _customer_form(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "sync_token": doc.get("SyncToken", ""),
        "display_name": doc.get("DisplayName", ""),
        "given_name": doc.get("GivenName", ""),
        "family_name": doc.get("FamilyName", ""),
        "company_name": doc.get("CompanyName", ""),
        "email": (doc.get("PrimaryEmailAddr") or {}).get("Address", ""),
        "phone": (doc.get("PrimaryPhone") or {}).get("FreeFormNumber", ""),
        "active": doc.get("Active") is not False,
    }


def _customer_page(realm: str, doc: dict[str, Any], form: dict[str, Any], **extra: Any) -> str:
    store = current_sandbox().store
    lookup = names(realm, "Employee", "Vendor", "Item")
    invoices = [
        i
        for i in store.list_entities(realm, "Invoice")
        if (i.get("CustomerRef") or {}).get("value") == doc["Id"]
    ]
    times = [
        t
        for t in store.list_entities(realm, "TimeActivity")
        if (t.get("CustomerRef") or {}).get("value") == doc["Id"]
    ]
    others = [
        c
        for c in store.list_entities(realm, "Customer")
        if c["Id"] != doc["Id"] and c.get("Active") is not False
    ]
    others.sort(key=lambda c: str(c["DisplayName"]).casefold())
    return render(
        "ui/customer.html",
        realm,
        customer=doc,
        form=form,
        invoices=invoices,
        times=times,
        others=others,
        lookup=lookup,
        ref_name=ref_name,
        errors=extra.get("errors", []),
        field_errors=extra.get("field_errors", {}),
    )


@bp.get("/company/<realm>/customers/<cid>")
@login_required
def customer(realm: str, cid: str) -> Any:
    company_or_404(realm)
    doc = service.Ctx(current_sandbox(), realm).load("Customer", cid) or abort(404)
    return _customer_page(realm, doc, _customer_form(doc))


@bp.post("/company/<realm>/customers/<cid>")
@login_required
def customer_save(realm: str, cid: str) -> Any:
    company_or_404(realm)
    sb = current_sandbox()
    doc = service.Ctx(sb, realm).load("Customer", cid) or abort(404)
    f = request.form
    form = {k: f.get(k, "").strip() for k in _customer_form(doc) if k != "active"}
    form["active"] = f.get("active") == "on"
    payload = {
        "Id": doc["Id"],
        "SyncToken": form["sync_token"],
        "sparse": True,
        "DisplayName": form["display_name"] or None,
        "GivenName": form["given_name"] or None,
        "FamilyName": form["family_name"] or None,
        "CompanyName": form["company_name"] or None,
        "PrimaryEmailAddr": {"Address": form["email"]} if form["email"] else None,
        "PrimaryPhone": {"FreeFormNumber": form["phone"]} if form["phone"] else None,
        "Active": form["active"],
    }
    try:
        saved = service.write(sb, realm, "Customer", payload, "update")["Customer"]
    except QboFault as exc:
        field_errors = {}
        for err in exc.errors:
            name = NAME_CODES.get(err.code) or CUSTOMER_FIELDS.get(err.element)
            if name:
                field_errors[name] = err.detail or err.message
        return _customer_page(
            realm, doc, form, errors=fault_messages(exc), field_errors=field_errors
        ), 400
    flash(f"Saved {saved['DisplayName']} (SyncToken {saved['SyncToken']}).", "ok")
    return redirect(url_for("ui.customer", realm=realm, cid=cid))


@bp.post("/company/<realm>/customers/<cid>/merge")
@login_required
def customer_merge(realm: str, cid: str) -> Any:
    company_or_404(realm)
    sb = current_sandbox()
    into = request.form.get("into", "")
    try:
        source = service.Ctx(sb, realm).load("Customer", cid) or abort(404)
        survivor = merge_customers(sb, realm, cid, into)
    except QboFault as exc:
        for message in fault_messages(exc):
            flash(message, "error")
        return redirect(url_for("ui.customer", realm=realm, cid=cid))
    flash(
        f"Merged {source['DisplayName']} into {survivor['DisplayName']}; "
        f"{source['DisplayName']} is now inactive.",
        "ok",
    )
    return redirect(url_for("ui.customer", realm=realm, cid=survivor["Id"]))
