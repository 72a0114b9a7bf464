"""Form fuzz: every form the portal renders, posted with hostile values; no 500, no half-saves.

The forms are found, not listed: every GET page of the URL map is rendered for an admin of the
security sweep's world (tests/test_security_routes.py), every ``<form method="post">`` is parsed
with its inputs, selects, textareas and named buttons, and each form is posted a fixed number of
times with seeded-random values (10k-character strings, any unicode, control characters, NUL,
negative/huge numbers, ``1e309``, ``NaN``, impossible dates, SQL-ish text, missing and duplicated
fields, an unknown extra field). A new form is fuzzed the day it is added.

For every submission:
- never a 5xx; a NUL anywhere -> 400;
- a refusal (4xx, the form shown again with 200, or a redirect to a page whose flash is a
  warning/danger) leaves every row of every table as it was: nothing half-saved.

Every POST route must be reachable through a rendered form, or be listed in ``NOT_FUZZED`` with
the reason (the Connect QuickBooks button leaves the site for Intuit's consent page).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from portal.models import (
    BillableCategory,
    BillableType,
    Client,
    Invoice,
    InvoiceLine,
    QboConnection,
    StripeConnection,
    TimeEntry,
    User,
)
from tests.conftest import PASSWORD, Browser
from tests.test_security_routes import (  # noqa: F401 - `world` is a fixture used below
    methods_of,
    portal_rules,
    signed_in,
    snapshot,
    url_for_rule,
    world,
)

RUNS_PER_FORM = 16  # 0: as rendered; 1: one NUL; 2-3: plausible but odd; 4-15: hostile
# POST routes the fuzz leaves alone, with why. Everything else must be reached through a form.
NOT_FUZZED = {
    "/integrations/quickbooks/connect": "redirects off-site to Intuit's consent page; its state "
                                        "and refusals are tested in test_qbo_connect.py",
    "/logout": "ends the session the fuzz runs in; covered by test_security_sessions.py",
}
# Route groups (first path segment); each group runs with a fresh world.
AREAS = ("auth", "clients", "invoices", "time", "reports", "customizations", "users",
         "integrations")
AREA_OF_SEGMENT = {"login": "auth", "logout": "auth", "": "auth", "dashboard": "auth"}
# Run destructive actions after the others, so they do not remove what the others post to.
LAST_WORDS = ("delete", "deactivate", "disconnect", "reset-links")

# Hostile values by what a field holds; in the hostile runs every number-like field gets each
# NUMBERS value once and every date field each DATES value once, whatever the seed.
NUMBERS = ["-1", "-999999999999", "99999999999999999999", "1e309", "NaN", "-Infinity", "0",
           "0.001", "12.345", "1,5", "\u0663", " 7 "]
DATES = ["0000-00-00", "9999-12-31", "0001-01-01", "2025-02-30", "2025-13-01", "31/12/2025",
         "2025-1-1", "20250101", "-2025-01-01", "99999-01-01", "2025-01-01T00:00", ""]
TEXTS = [
    "", " ", "x" * 10_000, "é" * 5_000, "😀" * 300, "\u202eevil\u202c", "\u200f\u200b\ufeff",
    "a:b\tc\nd\r\ne", "\x01\x07\x1b[31m\x7f", "\u2028\u2029\x85", "' OR 1=1 --",
    "'; DROP TABLE clients; --", "\" OR \"\"=\"", "%", "_", "<script>alert(1)</script>",
    "{{7*7}}", "../../etc/passwd", "null", "true", "[]", "name@", "@example.example", "a@b",
    "ü@ü.example", "nan", "inf", "-1e309",
]
HOSTILE = TEXTS + NUMBERS + DATES
HOSTILE_RUNS = max(len(NUMBERS), len(DATES))
NUL_VALUES = ["\x00", "a\x00b", "1\x00"]
# Values a form should accept, odd enough to reach the save paths with hostile text in them.
PLAUSIBLE_TEXT = ["Zoë O'Brien", "Smith: Trust\tNo. 2", "<b>Bold</b> & Co", "😀 Emoji LLC",
                  "\u202eRTL\u202c name", "a;b--c", "Ünïcödé 中文", "x" * 99]
PLAUSIBLE_NUMBER = ["1", "0.25", "2.5", "24", "0.01", "100.00"]
NUMBER_NAMES = ("hours", "quantity", "qty", "rate", "amount", "price")


# -- finding the forms ---------------------------------------------------------------------------
@dataclass
class Field:
    name: str
    kind: str  # input type, "select", "textarea" or "button"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str  # the GET rule of the page it was found on
    action: str
    fields: list[Field] = field(default_factory=list)


class FormParser(HTMLParser):
    """Every form of a page with its named controls (``form="id"`` ones included)."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[tuple[str | None, str, str, list[Field]]] = []
        self.current: list[Field] | None = None
        self.method = "get"
        self.detached: list[tuple[str, Field]] = []
        self.formactions: list[tuple[list[Field], str]] = []  # submit buttons posting elsewhere
        self.select: Field | None = None
        self.selected: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current, self.method = [], a.get("method", "get").lower()
            self.forms.append((a.get("id"), self.method, a.get("action") or self.page_url,
                               self.current))
            return
        name = a.get("name")
        if tag == "option" and self.select is not None:
            value = a.get("value", "")
            self.select.options.append(value)
            if "selected" in a and self.selected is None:
                self.selected = value
            return
        if tag == "button" and a.get("formaction") and self.current is not None \
                and self.method == "post":
            self.formactions.append((self.current, a["formaction"]))
        if tag not in ("input", "select", "textarea", "button") or not name:
            return
        kind = a.get("type", "text").lower() if tag == "input" else tag
        if tag == "button" and a.get("type", "submit").lower() != "submit":
            return
        control = Field(name, kind, a.get("value", ""))
        if kind in ("checkbox", "radio") and "checked" not in a:
            control.options = [control.value or "y"]
            control.value = ""
        if tag == "select":
            self.select, self.selected = control, None
        if a.get("form"):
            self.detached.append((a["form"], control))
        elif self.current is not None:
            self.current.append(control)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select" and self.select is not None:
            options = self.select.options
            self.select.value = self.selected if self.selected is not None else (
                options[0] if options else "")
            self.select = None

    def _attach(self) -> None:
        by_id = {form_id: fields for form_id, _, _, fields in self.forms if form_id}
        for form_id, control in self.detached:
            if form_id in by_id and control not in by_id[form_id]:
                by_id[form_id].append(control)

    def post_forms(self) -> list[tuple[str, list[Field]]]:
        self._attach()
        found = [(action, fields) for _, method, action, fields in self.forms
                 if method == "post"]
        return found + [(action, fields) for fields, action in self.formactions]

    def get_forms(self) -> list[tuple[str, list[Field]]]:
        """Filter and search forms: their values travel in the query string."""
        self._attach()
        return [(action, fields) for _, method, action, fields in self.forms
                if method == "get"]


def post_rule_of(app, action: str) -> Rule | None:
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(urlsplit(action).path, method="POST", return_rule=True)
    except HTTPException:
        return None
    return rule


def forms_on(app, browser: Browser, page: str, url: str) -> list[tuple[Rule, Form]]:
    response = browser.get(url)
    if response.status_code != 200 or response.mimetype != "text/html":
        return []
    parser = FormParser(url)
    parser.feed(response.get_data(as_text=True))
    found = []
    for action, fields in parser.post_forms():
        rule = post_rule_of(app, action)
        if rule is not None:
            found.append((rule, Form(page, action, fields)))
    return found


def page_urls(app, variants: list[dict[str, int]]) -> list[tuple[str, str]]:
    """(rule, url) of every GET page for every id variant, plus the query-string pages."""
    urls: dict[str, str] = {}
    for ids in variants:
        for rule in portal_rules(app):
            if "GET" in methods_of(rule) and rule.rule != "/logout":
                urls.setdefault(url_for_rule(rule, ids), rule.rule)
        for path, arg, kind in EXTRA_PAGES:
            urls.setdefault(f"{path}?{arg}={ids[kind]}", path)
    return [(rule, url) for url, rule in urls.items()]


def discover(app, admin: Browser, anonymous: Browser, variants: list[dict[str, int]]
             ) -> dict[str, list[Form]]:
    """POST rule -> the distinct forms posting to it (by action and field names)."""
    forms: dict[str, list[Form]] = {}
    for page, url in page_urls(app, variants):
        browser = anonymous if page == "/login" else admin
        for post_rule, form in forms_on(app, browser, page, url):
            known = forms.setdefault(post_rule.rule, [])
            signature = (form.action, sorted(f.name for f in form.fields))
            if all((k.action, sorted(f.name for f in k.fields)) != signature for k in known):
                known.append(form)
    return forms


def area_of(rule: str) -> str:
    segment = rule.strip("/").split("/")[0]
    return AREA_OF_SEGMENT.get(segment, segment)


# -- hostile submissions -------------------------------------------------------------------------
def legit(control: Field, rng: random.Random) -> str:
    if control.options:
        return rng.choice(control.options)
    return control.value


def plausible(control: Field, rng: random.Random) -> str:
    name = control.name.lower()
    chosen = [o for o in control.options if o]
    if control.kind == "select" and chosen:
        return rng.choice(chosen)
    if control.options or control.kind in ("hidden", "button", "checkbox", "radio"):
        return legit(control, rng)
    if "phone" in name:
        return "+1 (555) 123-4567"
    if name.endswith(("postal_code", "state", "country")):
        return rng.choice(["Zoë", "中文", "N1 9GU"])
    if name.endswith(("number", "code")):
        return f"FZ-{rng.randrange(10**6)}"
    if control.kind == "date" or name.endswith("date") or name in ("start", "end", "week"):
        return date.today().isoformat()
    if control.kind == "number" or any(word in name for word in NUMBER_NAMES):
        return rng.choice(PLAUSIBLE_NUMBER)
    if control.kind == "email" or "email" in name:
        return f"o'brien+{rng.randrange(10**6)}@firm.example"
    if control.kind == "password":
        return "correct horse battery staple"
    return rng.choice(PLAUSIBLE_TEXT)


def hostile_pool(control: Field) -> list[str]:
    """NUMBERS for amounts, hours and ids (inputs, hidden fields, id selects); DATES for dates;
    TEXTS for the rest."""
    name = control.name.lower()
    if control.kind == "date" or "date" in name or name in ("start", "end", "week"):
        return DATES
    numeric_options = [o for o in control.options if o]
    if (control.kind == "number" or any(word in name for word in NUMBER_NAMES)
            or name.endswith(("id", "ids"))
            or (numeric_options and all(o.isdigit() for o in numeric_options))):
        return NUMBERS
    return TEXTS


def hostile_data(form: Form, rng: random.Random, run: int, token: str) -> list[tuple[str, str]]:
    """Run 0: the form as rendered. Run 1: one NUL. Runs 2-3: plausible odd values. Later:
    hostile values, omissions, repeats and an unknown field."""
    data: list[tuple[str, str]] = []
    controls = [c for c in form.fields if c.name != "csrf_token"]
    nul_at = rng.randrange(len(controls)) if run == 1 and controls else -1
    for index, control in enumerate(controls):
        if run == 0:
            value = legit(control, rng)
            if value or control.kind not in ("checkbox", "radio"):
                data.append((control.name, value))
            continue
        if index == nul_at:
            data.append((control.name, rng.choice(NUL_VALUES)))
            continue
        if run in (2, 3):
            data.append((control.name, plausible(control, rng)))
            continue
        pool = hostile_pool(control)
        roll = rng.random()
        if roll < 0.1 and pool is TEXTS:
            continue  # missing
        if pool is TEXTS:
            value = legit(control, rng) if roll < 0.4 else rng.choice(TEXTS)
        else:  # each value once over the hostile runs
            value = pool[(run - 4 + index) % len(pool)]
        data.append((control.name, value))
        if rng.random() < 0.1:
            data.append((control.name, rng.choice(HOSTILE)))  # duplicated
    if run >= 4 and rng.random() < 0.3:
        data.append((rng.choice(["extra", "id", "firm_id", "role", "status"]),
                     rng.choice(HOSTILE)))
    data.append(("csrf_token", token))
    return data


ERROR_FLASH = re.compile(r'class="flash flash-(?:danger|warning)"')


def follow(browser: Browser, response):
    """The page a same-site redirect leads to (None when there is none)."""
    if response.status_code not in (302, 303):
        return None
    location = urlsplit(response.headers["Location"])
    if location.netloc not in ("", "localhost"):
        return None
    return browser.get(location.path, query_string=location.query)


def refused(response, landing) -> bool:
    """A 4xx, the form again (200), or a redirect to a page that flashes a warning/danger."""
    if response.status_code >= 400 or response.status_code == 200:
        return True
    return landing is not None and bool(ERROR_FLASH.search(landing.get_data(as_text=True)))


def describe(data: list[tuple[str, str]]) -> str:
    return repr([(k, v if len(v) <= 40 else f"{v[:20]}...({len(v)} chars)")
                 for k, v in data if k != "csrf_token"])


def fuzz_form(db, browser: Browser, rule: Rule, form: Form) -> tuple[list[str], int]:
    problems: list[str] = []
    url = form.action
    token = browser.csrf_token()
    posted = 0
    for run in range(RUNS_PER_FORM):
        rng = random.Random(f"{rule.rule}|{form.page}|{run}")
        data = hostile_data(form, rng, run, token)
        before = snapshot(db)
        response = browser.client.post(url, data=MultiDict(data))
        posted += 1
        where = f"POST {url} (form on {form.page}, run {run}) {describe(data)}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code}")
            continue
        if any("\x00" in k or "\x00" in v for k, v in data):
            if response.status_code != 400:
                problems.append(f"{where}: NUL gave {response.status_code}, not 400")
        landing = follow(browser, response)
        if landing is not None and landing.status_code >= 500:
            problems.append(f"{where}: the page it led to answered {landing.status_code}")
        if refused(response, landing) and snapshot(db) != before:
            changed = [t for t, rows in snapshot(db).items() if rows != before[t]]
            problems.append(f"{where}: refused ({response.status_code}) but changed {changed}")
        if response.status_code == 302 and rule.rule != "/login" and \
                urlsplit(response.headers["Location"]).path == "/login":
            problems.append(f"{where}: signed the admin out; list the route in NOT_FUZZED")
            break
    return problems, posted


# -- the world, in every state a form depends on -------------------------------------------------
# GET pages whose form only appears with a query string: (path, argument, ARG_OBJECTS kind).
EXTRA_PAGES = [("/invoices/from-time", "client_id", "client")]


def enrich(db, world_) -> list[dict[str, int]]:
    """Firm A's second set of objects in the other states (inactive, deletable, New, submitted,
    approved, this week), so every state-dependent form is on some page. Returns the id sets."""
    admin, staff = world_.users_a["admin"], world_.users_a["staff"]
    firm_id = admin.firm_id
    today = date.today()
    spare = Client(firm_id=firm_id, kind="business", company_name="Spare Parts LLC",
                   active=False)
    spare.refresh_name()
    old_type = BillableType(firm_id=firm_id, name="Old work", code="OLD", active=False)
    db.session.add_all([spare, old_type])
    db.session.flush()
    old_category = BillableCategory(firm_id=firm_id, type_id=old_type.id, name="Old category",
                                    code="OLD-1", active=False)
    gone = User(firm_id=firm_id, email="gone@firm-a.example", name="Gone Person", role="staff",
                hourly_rate=Decimal(90), active=False)
    gone.set_password(PASSWORD)
    invoice = Invoice(firm_id=firm_id, client_id=world_.ids["client"], number="A-1002",
                      issue_date=today, status="new")
    invoice.lines.append(InvoiceLine(position=0, description="Advice", quantity=Decimal(1),
                                     rate=Decimal(100), category_id=world_.ids[
                                         "billable_category"]))
    invoice.recompute_total()
    db.session.add_all([old_category, gone, invoice])
    for user, status in ((admin, "draft"), (staff, "submitted"), (staff, "approved")):
        db.session.add(TimeEntry(firm_id=firm_id, user_id=user.id, client_id=world_.ids["client"],
                                 entry_date=today, hours=Decimal("2.00"), status=status,
                                 category_id=world_.ids["billable_category"],
                                 description=f"{status} work", billable=True))
    db.session.commit()
    second = {**world_.ids, "client": spare.id, "billable_type": old_type.id,
              "billable_category": old_category.id, "user": gone.id, "invoice": invoice.id}
    return [dict(world_.ids), second]


def qbo_disconnected(db, firm_id: int) -> None:
    conn = db.session.execute(db.select(QboConnection).filter_by(firm_id=firm_id)).scalar_one()
    conn.status = "disconnected"
    db.session.commit()


def stripe_connected(db, firm_id: int) -> None:
    conn = db.session.execute(
        db.select(StripeConnection).filter_by(firm_id=firm_id)).scalar_one_or_none()
    if conn is None:
        conn = StripeConnection(firm_id=firm_id)
        db.session.add(conn)
    conn.status, conn.account_id = "connected", "acct_fuzz"
    db.session.commit()


# Later states of the firm, tried in order while some POST route of the area has no form yet.
STATES: list[tuple[str, Callable[..., None]]] = [
    ("QuickBooks disconnected", qbo_disconnected),
    ("Stripe connected", stripe_connected),
]


def post_rules_of(app, area: str) -> set[str]:
    return {r.rule for r in portal_rules(app)
            if "POST" in methods_of(r) and area_of(r.rule) == area and r.rule not in NOT_FUZZED}


def fuzz_area(app, db, world_, area: str) -> tuple[set[str], list[str], int]:
    """Fuzz every form of ``area`` in each state; (rules fuzzed, problems, posts)."""
    variants = enrich(db, world_)
    admin = signed_in(app, world_.users_a["admin"])
    anonymous = Browser(app.test_client())
    rules = {r.rule: r for r in portal_rules(app)}
    wanted = post_rules_of(app, area)
    done: set[str] = set()
    problems: list[str] = []
    posted = 0
    states = [("as built", None), *STATES]
    for _name, change in states:
        if change is not None:
            if wanted <= done:
                break
            change(db, world_.users_a["admin"].firm_id)
        forms = discover(app, admin, anonymous, variants)
        todo = sorted((r for r in forms if r in wanted and r not in done),
                      key=lambda r: (any(w in r for w in LAST_WORDS), r))
        for rule in todo:
            done.add(rule)
            for form in forms[rule]:
                browser = anonymous if rule == "/login" else admin
                found, n = fuzz_form(db, browser, rules[rule], form)
                problems += found
                posted += n
    for page, url in page_urls(app, variants):  # what was saved renders everywhere
        status = (anonymous if page == "/login" else admin).get(url).status_code
        if status >= 500:
            problems.append(f"GET {url} after the fuzz: {status}")
    return done, problems, posted


@pytest.mark.parametrize("area", AREAS)
def test_every_form_survives_hostile_input(app, db, world, area):  # noqa: F811
    done, problems, posted = fuzz_area(app, db, world, area)

    assert not problems, "\n".join(problems)
    unreached = sorted(post_rules_of(app, area) - done)
    assert not unreached, (
        f"POST routes of {area} that no rendered form posts to: {unreached}. Put the world in "
        "a state that shows their form (enrich/STATES/EXTRA_PAGES in tests/test_form_fuzz.py), "
        "or add them to NOT_FUZZED with the reason."
    )
    assert posted >= RUNS_PER_FORM * len(done)


def test_every_post_route_belongs_to_a_fuzzed_area(app):
    post_rules = [r.rule for r in portal_rules(app) if "POST" in methods_of(r)]
    unknown = sorted({area_of(r) for r in post_rules} - set(AREAS))
    assert not unknown, f"new route areas {unknown}: add them to AREAS in tests/test_form_fuzz.py"
    stale = sorted(set(NOT_FUZZED) - set(post_rules))
    assert not stale, f"NOT_FUZZED lists routes that no longer exist: {stale}"


def test_every_filter_form_survives_hostile_input(app, db, world):  # noqa: F811
    """GET forms (search boxes, filters, the from-time client picker): hostile query strings
    answer a page or a 4xx, never a 5xx, and change nothing."""
    variants = enrich(db, world)
    admin = signed_in(app, world.users_a["admin"])
    seen: set[tuple[str, tuple[str, ...]]] = set()
    problems: list[str] = []
    before = snapshot(db)
    for page, url in page_urls(app, variants):
        if page == "/login":
            continue
        response = admin.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = FormParser(url)
        parser.feed(response.get_data(as_text=True))
        for action, fields in parser.get_forms():
            path = urlsplit(action).path
            key = (path, tuple(sorted(f.name for f in fields)))
            if key in seen:
                continue
            seen.add(key)
            form = Form(page, path, fields)
            for run in range(RUNS_PER_FORM):
                rng = random.Random(f"GET|{path}|{key[1]}|{run}")
                data = [(k, v) for k, v in hostile_data(form, rng, run, "") if k != "csrf_token"]
                answer = admin.get(path, query_string=MultiDict(data))
                where = f"GET {path} (form on {page}, run {run}) {describe(data)}"
                if answer.status_code >= 500:
                    problems.append(f"{where}: {answer.status_code}")
                elif any("\x00" in k or "\x00" in v for k, v in data) and \
                        answer.status_code != 400:
                    problems.append(f"{where}: NUL gave {answer.status_code}, not 400")
    assert not problems, "\n".join(problems)
    assert snapshot(db) == before, "a GET form changed the database"
    assert len(seen) >= 5, f"only {len(seen)} filter forms found"


HUGE_ID = "99999999999999999999"  # beyond any database integer (SQLite: OverflowError)


def test_what_the_fuzz_found_stays_fixed(app, db, world):  # noqa: F811
    """Each was a 500: ids past a database integer, and a week with no week after it."""
    admin = signed_in(app, world.users_a["admin"])
    before = snapshot(db)
    assert admin.get(f"/clients/{HUGE_ID}").status_code == 404
    assert admin.get("/invoices/", query_string={"client_id": HUGE_ID}).status_code == 200
    for week in ("9999-12-31", "0001-01-01"):
        assert admin.get("/time/", query_string={"week": week}).status_code == 200
    for url, data in (("/time/submit", {"ids": HUGE_ID}),
                      ("/reports/timesheets/approve", {"ids": HUGE_ID}),
                      ("/reports/timesheets/return", {"ids": HUGE_ID}),
                      ("/invoices/from-time", {"client_id": HUGE_ID, "entry_ids": HUGE_ID}),
                      ("/invoices/from-time", {"client_id": world.ids["client"],
                                               "entry_ids": HUGE_ID})):
        response = admin.post(url, data)
        assert response.status_code in (302, 400), f"{url}: {response.status_code}"
        assert follow(admin, response).status_code < 500, url
    assert snapshot(db) == before


def test_the_parser_finds_controls_of_every_kind():
    parser = FormParser("/here")
    parser.feed(
        '<form method="post" id="f"><input name="csrf_token" type="hidden" value="t">'
        '<input name="a" value="1"><select name="s"><option value="x">X</option>'
        '<option value="y" selected>Y</option></select><textarea name="t">z</textarea>'
        '<input type="checkbox" name="c" value="on"><button name="go" value="now">Go</button>'
        '<button type="button" name="ignored">No</button></form>'
        '<form method="get"><input name="q"></form><input form="f" name="outside" value="o">'
    )
    [(action, fields)] = parser.post_forms()
    assert action == "/here"
    got = {f.name: (f.kind, f.value, f.options) for f in fields}
    assert got == {"csrf_token": ("hidden", "t", []), "a": ("text", "1", []),
                   "s": ("select", "y", ["x", "y"]), "t": ("textarea", "", []),
                   "c": ("checkbox", "", ["on"]), "go": ("button", "now", []),
                   "outside": ("text", "o", [])}
