"""What the security tests share: the access matrix's data set and users, the forms harvested
from the pages that show them, hypothesis strategies for request bodies, and a recorder of the
writes the requests commit, to prove that a refused request wrote nothing.

The fuzz tests take their routes from `app.url_map` and their URLs and users from the access
matrix (tests/core/test_access_matrix.py), so a new route is fuzzed as soon as it has a matrix
entry, and the matrix already fails the build while it has none."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import urlsplit

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict


from ..conftest import csrf_from
from ..core import test_access_matrix as matrix

#: Examples per endpoint and role. CI keeps it small; `FUZZ_EXAMPLES=200` digs deeper locally.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Who fuzzes an endpoint among those allowed: the least privileged first, so the checks that
#: depend on scope run (root sees everything and skips them).
PREFERENCE = ("med", "fac", "com", "eva", "amp_admin", "nar_admin", "root", "nogrant", "anon")


#: Shrinking a failure to its smallest form replays the route hundreds of times (minutes on a
#: route that draws 2,000 QR codes): on demand only. The failing example is printed either way.
SHRINK = os.environ.get("FUZZ_SHRINK", "0") == "1"


def fuzz_settings(examples: int | None = None):
    """Reproducible in CI: the same examples on every run (derandomize, no example database)."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if SHRINK else [])
    return settings(max_examples=examples or EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False, phases=phases)


# --- The database --------------------------------------------------------------------------------

_WRITE = re.compile(r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO|COPY)\s+\"?(\w+)", re.I)


class WriteRecorder:
    """Which tables the requests of a test wrote to and committed, from the statements the engine
    ran: a write rolled back is no write. Far cheaper than reading every table before and after
    each example, and it cannot miss an UPDATE that leaves the row count alone."""

    def __init__(self, engine):
        self.engine = engine
        self.pending: dict[int, list[str]] = {}
        self.committed: list[str] = []

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._execute)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "rollback", self._rollback)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._execute)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)

    def _execute(self, conn, cursor, statement, parameters, context, executemany):
        match = _WRITE.match(statement)
        if match:
            self.pending.setdefault(id(conn.connection.dbapi_connection), []).append(match.group(1).lower())

    def _commit(self, conn):
        self.committed.extend(self.pending.pop(id(conn.connection.dbapi_connection), []))

    def _rollback(self, conn):
        self.pending.pop(id(conn.connection.dbapi_connection), None)

    def take(self) -> list[str]:
        """The tables written and committed since the last call."""
        out, self.committed = sorted(set(self.committed)), []
        return out


# --- Users ---------------------------------------------------------------------------------------

def login(app, who: str):
    """A client logged in as a matrix user (anonymous for "anon") and its CSRF token."""
    client, auth = matrix.logged_in(app, who)
    token = auth.csrf("/login" if who == "anon" else "/")
    return client, token


def pick_user(allowed) -> str | None:
    return next((who for who in PREFERENCE if who in allowed), None)


def pick_denied(allowed) -> str | None:
    """A logged-in user outside the allowed set (the other contract's admin first)."""
    return next((who for who in ("nar_admin", "eva", "med", "nogrant", "amp_admin") if who not in allowed), None)


# --- Routes --------------------------------------------------------------------------------------

@dataclass
class Target:
    endpoint: str
    method: str
    build: object  # fixtures -> URL
    allowed: frozenset
    label: str


def _cases(endpoint: str) -> list:
    cases = matrix.EXPECTED.get(endpoint, [])
    # Own scope first: that is where a write goes deepest.
    return sorted(cases, key=lambda c: (not (c[0] == "-" or c[0].startswith("own")), c[0]))


def write_targets() -> list[Target]:
    """Every (endpoint, write method) of the url_map, with a URL and its users from the matrix."""
    app = matrix.create_app(matrix.TestConfig)
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        for method in sorted(rule.methods & WRITE_METHODS):
            cases = _cases(rule.endpoint)
            write_cases = [c for c in cases if c[1] == method] or cases
            if not write_cases:
                out.append(Target(rule.endpoint, method, None, frozenset(), "missing"))
                continue
            label, _m, build, allowed = write_cases[0]
            if any(t.endpoint == rule.endpoint and t.method == method for t in out):
                continue  # two rules for one endpoint (e.g. /api/v1 and /api/v1/): one target
            out.append(Target(rule.endpoint, method, build, frozenset(allowed), label))
    return out


def read_pages(who: str) -> list:
    """URL builders of every GET case of the matrix that `who` may open."""
    return [build for endpoint in sorted(matrix.EXPECTED) for _l, method, build, allowed in matrix.EXPECTED[endpoint]
            if method == "GET" and who in allowed]


# --- Forms ---------------------------------------------------------------------------------------

@dataclass
class FormField:
    name: str
    kind: str
    values: list = field(default_factory=list)
    required: bool = False


@dataclass
class Form:
    action: str
    method: str
    fields: dict = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: FormField | None = None

    def _add(self, name, kind, value=None, required=False):
        if self._form is None or not name or name == "csrf_token":
            return None
        f = self._form.fields.setdefault(name, FormField(name, kind))
        f.required = f.required or required
        if value is not None and value not in f.values:
            f.values.append(value)
        return f

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            action = a.get("action") or a.get("hx-post") or self.page_path
            self._form = Form(urlsplit(action).path or self.page_path, (a.get("method") or "get").upper())
            self.forms.append(self._form)
        elif tag == "input":
            self._add(a.get("name"), (a.get("type") or "text").lower(), a.get("value"), "required" in a)
        elif tag == "button" and a.get("name"):
            self._add(a.get("name"), "button", a.get("value"))
        elif tag == "textarea":
            self._add(a.get("name"), "textarea", required="required" in a)
        elif tag == "select":
            self._select = self._add(a.get("name"), "select", required="required" in a)
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            if value is not None and value not in self._select.values:
                self._select.values.append(value)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def parse_forms(html: str, page_path: str) -> list[Form]:
    parser = _FormParser(page_path)
    parser.feed(html)
    return parser.forms


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("/"), b.split("/")):
        if x != y:
            break
        n += 1
    return n


def harvest(client, who: str, url: str, fixtures: dict, pages_tried: int = 8) -> dict[str, FormField]:
    """The fields of the forms that post to `url`: from the page at `url` itself, else from the
    pages of the matrix that `who` may open, nearest URLs first."""
    path = urlsplit(url).path
    candidates = [url] + sorted({build(fixtures) for build in read_pages(who)} - {url},
                                key=lambda u: (-_common_prefix(urlsplit(u).path, path), u))
    fields: dict[str, FormField] = {}
    for page in candidates[:pages_tried]:
        resp = client.get(page)
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        for form in parse_forms(resp.get_data(as_text=True), urlsplit(page).path):
            if form.action == path and form.method != "GET":
                for name, f in form.fields.items():
                    known = fields.setdefault(name, FormField(name, f.kind))
                    known.values.extend(v for v in f.values if v not in known.values)
        if fields:
            break
    return fields


def query_names(view) -> list[str]:
    """Query parameters the view's module reads (request.args.get("x"), args["x"], getlist)."""
    import inspect

    try:
        source = inspect.getsource(inspect.getmodule(view))
    except (OSError, TypeError):
        return []
    names = set(re.findall(r"""request\.args(?:\.get(?:list)?\(|\[)\s*["']([\w-]+)["']""", source))
    if "request.args" in source:
        # Names read by iterating over the arguments: the module's `..._ARGS = ("a", "b")` lists.
        for listed in re.findall(r"""[A-Z_]*ARGS\s*=\s*[\(\[{]([^)\]}]*)""", source):
            names.update(re.findall(r"""["']([\w-]+)["']""", listed))
    return sorted(names)


# --- Strategies ----------------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
_NASTY = st.sampled_from([
    "", " ", "0", "-1", "1", "2", "99999999999999999999999", "-99999999999999999999", "1e309", "nan", "inf",
    "-0", "0.1", "1,5", "3.14159265358979323846264338", "0x10", "٣", "²", "true", "on", "off", "None", "null",
    "2024-02-30", "1900-01-01", "0001-01-01", "9999-12-31", "2024-13-01", "24:61", "25:00", "12:00",
    "2024-06-01T10:00", "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "%(x)s %s {0} {x}",
    "\u202e\u0645\u0631\u062d\u0628\u0627", "a\r\nb", "\t", "👩‍👩‍👧‍👦" * 5, "x" * 5000,
])
# Longer than any column, without making each example slow: URL-decoding a form is pure Python
# (a 300,000-character field of "é" took werkzeug 0.3 s to decode).
_HUGE = st.sampled_from(["x", "é", "9"]).flatmap(lambda c: st.integers(1_000, 20_000).map(lambda n: c * n))
_FILE = st.tuples(st.binary(max_size=300), st.sampled_from(["a.jpg", "a.png", "a.svg", "a.html", "", "x" * 300]),
                  st.sampled_from(["image/jpeg", "image/png", "text/html", "application/octet-stream"])
                  ).map(lambda t: ("__file__",) + t)


def value_strategy(f: FormField | None):
    options = [st.sampled_from(f.values)] * 3 if f is not None and f.values else []  # reach past the choice checks
    ints = st.integers(-(2 ** 70), 2 ** 70).map(str)
    small = st.integers(-3, 10 ** 6).map(str)
    floats = st.floats(allow_nan=True, allow_infinity=True).map(repr)
    if f is not None and f.kind == "file":
        return st.one_of(_FILE, _FILE, _TEXT)
    return st.one_of(*options, _TEXT, _TEXT, _NASTY, _NASTY, small, ints, floats, _HUGE)


def plausible(f: FormField) -> str | None:
    """What a person would leave or type in the field: the value the page served, else a
    sensible one for a required field; None for a field left empty (or a box left unticked)."""
    values = [v for v in f.values if v]
    if f.kind == "checkbox":
        return None
    if values:
        return values[0]
    if f.kind in ("file", "button", "submit", "hidden", "password"):
        return None
    # Fields with a format of their own stay empty unless the page requires them (the templates
    # do not always say "required": DataRequired is checked on the server).
    if not f.required and re.search(r"lat|lon|contact|phone|tel|mail|url|code|key|token|percent|share|max|min",
                                    f.name, re.I):
        return None
    return {"number": "1", "date": date.today().isoformat(), "email": "habitante@example.org",
            "time": "18:30", "tel": "0491000000", "url": "https://example.org/"}.get(f.kind, "Un banc près de l'école")


def body_strategy(fields: dict[str, FormField]):
    """A form body, half the time anything: each known field missing, once, or repeated, with
    anything in it, now and then a field nobody asked for; half the time the form as a person
    fills it with one field in ten changed that way, which gets past the first refusal and into
    what the view does with valid input."""
    wild, near = [], []
    for name in sorted(fields):
        value = value_strategy(fields[name])
        anything = st.one_of(st.just([]), st.lists(value, min_size=1, max_size=1),
                             st.lists(value, min_size=1, max_size=1), st.lists(value, min_size=2, max_size=3))
        wild.append(anything)
        usual = plausible(fields[name])
        kept = st.just([] if usual is None else [usual])
        near.append(st.one_of(*([kept] * 9), anything))
    named = lambda groups: [(name, v) for name, vs in zip(sorted(fields), groups) for v in vs]  # noqa: E731
    extra = st.lists(st.tuples(st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=12),
                               value_strategy(None)), max_size=2)
    bodies = st.one_of(st.tuples(*wild), st.tuples(*near)) if fields else st.just(())
    return st.tuples(bodies, extra).map(lambda t: named(t[0]) + list(t[1]))


def to_data(pairs, csrf: str | None) -> MultiDict:
    data = MultiDict()
    for name, value in pairs:
        if isinstance(value, tuple) and value and value[0] == "__file__":
            _tag, content, filename, ctype = value
            data.add(name, (BytesIO(content), filename, ctype))
        else:
            data.add(name, value)
    if csrf is not None:
        data.add("csrf_token", csrf)
    return data


#: A form sent back with errors (templates/_macros/forms.html). Not "flash-error": the voting
#: slips page, a success, uses it for its "print now" warning.
ERROR_MARKERS = ('aria-invalid="true"', 'class="error-summary"', 'class="error"')


def is_refusal(resp) -> bool:
    """4xx, or the page sent back with an error shown (a form re-rendered after a refusal)."""
    if 400 <= resp.status_code < 500:
        return True
    if resp.status_code == 200 and resp.mimetype == "text/html":
        html = resp.get_data(as_text=True)
        return any(marker in html for marker in ERROR_MARKERS)
    return False


def describe(method: str, url: str, pairs, resp) -> str:
    shown = [(k, (v[:80] + f"…({len(v)})") if isinstance(v, str) and len(v) > 80 else v) for k, v in pairs]
    return f"{method} {url} {shown!r} -> {resp.status_code}"


def csrf_of(client, page: str) -> str:
    return csrf_from(client.get(page).get_data(as_text=True))
