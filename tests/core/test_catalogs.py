"""The shipped translation catalogs (i18n/): one per language in Config.LANGUAGES, every entry
translated (all plural forms), nothing fuzzy, placeholders kept, in step with the code, and
actually served by the app."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.catalogs import compile_stale_catalogs
from babel.messages.pofile import read_po
from flask_babel import get_babel
from markupsafe import escape

from config import Config

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "i18n"
LANGUAGES = list(Config.LANGUAGES)

#: The extraction command of README.md ("Translations"), minus the output file and input path.
EXTRACT_ARGS = [
    "-F", "babel.cfg",
    "-k", "_l",
    "-k", "lazy_gettext",
    "--ignore-dirs", ".* __pycache__ node_modules",
    "--no-location",
    "--sort-output",
    "--project", "participation",
    "--copyright-holder", "the participation authors",
]

# A printf-style conversion: %(name)s, %s, %05.2f, %% ...
CONVERSION = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[diouxXeEfFgGcrsa%])")


def po_path(lang: str) -> Path:
    return I18N / lang / "LC_MESSAGES" / "messages.po"


def load(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def key(message):
    """An entry's identity: context, msgid and, for plurals, msgid_plural."""
    return (message.context, message.id if message.pluralizable else (message.id,))


def keys(catalog) -> set:
    return {key(m) for m in catalog if m.id}


def show(k) -> str:
    context, ids = k
    text = " / ".join(repr(i) for i in (ids if isinstance(ids, tuple) else (ids,)))
    return f"[{context}] {text}" if context else text


def conversions(text: str) -> set[tuple[str | None, str]]:
    """The named or positional placeholders of a string (`%%` is not one)."""
    return {(m["name"], m["type"]) for m in CONVERSION.finditer(text) if m["type"] != "%"}


def forms(message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


class _Anything(dict):
    """Formatting arguments that accept every %(name)x."""

    def __missing__(self, name):
        return 1


@pytest.fixture(scope="module")
def catalogs():
    return {lang: load(po_path(lang)) for lang in LANGUAGES if po_path(lang).is_file()}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages the code holds today, extracted with the README's command."""
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    cmd = [sys.executable, "-c", "import sys; from babel.messages.frontend import main; sys.exit(main())",
           "extract", *EXTRACT_ARGS, "-o", str(out), "."]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, f"pybabel extract failed:\n{run.stdout}\n{run.stderr}"
    return load(out)


# --- presence -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_shipped(lang):
    path = po_path(lang)
    assert path.is_file(), f"missing catalog {path.relative_to(ROOT)}: run `pybabel init -l {lang}` (see README)"
    catalog = load(path)
    assert str(catalog.locale) == lang, f"{path.relative_to(ROOT)} declares Language: {catalog.locale}"


def test_template_is_shipped():
    assert (I18N / "messages.pot").is_file(), "missing i18n/messages.pot (see README, Translations)"


# --- completeness -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_is_translated_and_not_fuzzy(lang, catalogs):
    if lang not in catalogs:
        pytest.fail(f"missing catalog for {lang}")
    catalog = catalogs[lang]
    problems = []
    if catalog.fuzzy:
        problems.append("the header is marked fuzzy")
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {show(key(message))}")
        if message.pluralizable:
            strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
            if len(strings) != catalog.num_plurals:
                problems.append(
                    f"{len(strings)} plural forms instead of {catalog.num_plurals}: {show(key(message))}"
                )
            empty = [i for i, s in enumerate(strings) if not (s or "").strip()]
            if empty:
                problems.append(f"untranslated plural form(s) {empty}: {show(key(message))}")
        elif not (message.string or "").strip():
            problems.append(f"untranslated: {show(key(message))}")
    assert not problems, f"i18n/{lang}: " + "\n  ".join(["", *problems])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_kept(lang, catalogs):
    if lang not in catalogs:
        pytest.fail(f"missing catalog for {lang}")
    problems = []
    for message in catalogs[lang]:
        if not message.id:
            continue
        ids = message.id if message.pluralizable else (message.id,)
        expected = set().union(*(conversions(i) for i in ids))
        is_format = any("%" in i for i in ids)
        for index, text in enumerate(forms(message)):
            if not text:
                continue  # reported by the completeness test
            where = f"{show(key(message))}" + (f" (form {index})" if message.pluralizable else "")
            found = conversions(text)
            if found != expected:
                lost = sorted(f"%({n}){t}" if n else f"%{t}" for n, t in expected - found)
                added = sorted(f"%({n}){t}" if n else f"%{t}" for n, t in found - expected)
                problems.append(f"{where}: lost {lost}, added {added}")
                continue
            if is_format:
                # Templates always %-format their strings: a lone % would crash the page.
                positional = [t for n, t in expected if n is None]
                try:
                    text % ((1,) * len(positional) if positional else _Anything())
                except (TypeError, ValueError, KeyError) as exc:
                    problems.append(f"{where}: cannot be formatted ({exc}); write a literal % as %%")
            elif "%" in text:
                problems.append(f"{where}: contains % although its msgid has none")
    errors = [f"{show(key(m))}: {e}" for m, errs in catalogs[lang].check() for e in errs]
    assert not problems and not errors, f"i18n/{lang}: " + "\n  ".join(["", *problems, *errors])


# --- in step with the code ----------------------------------------------------------------


def test_template_matches_the_code(extracted):
    shipped = keys(load(I18N / "messages.pot"))
    current = keys(extracted)
    assert shipped == current, (
        "i18n/messages.pot is out of date: re-run the extract command of README.md (Translations)\n"
        f"  new in the code: {sorted(map(show, current - shipped))}\n"
        f"  gone from the code: {sorted(map(show, shipped - current))}"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_matches_the_code(lang, catalogs, extracted):
    if lang not in catalogs:
        pytest.fail(f"missing catalog for {lang}")
    shipped = keys(catalogs[lang])
    current = keys(extracted)
    assert shipped == current, (
        f"i18n/{lang} is out of date with the code: run the commands of README.md (Translations), "
        "then translate the new entries\n"
        f"  missing: {sorted(map(show, current - shipped))}\n"
        f"  no longer in the code: {sorted(map(show, shipped - current))}"
    )


def test_readme_documents_the_same_extract_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Translations", 1)[-1]
    command = re.sub(r"\\\n", " ", section)
    line = next((ln for ln in command.splitlines() if "pybabel extract" in ln), None)
    assert line, "README.md (Translations) no longer shows the pybabel extract command"
    words = shlex.split(line.split("&&")[0])
    args = words[words.index("extract") + 1:]
    documented = [a for a in args if a not in ("-o", "i18n/messages.pot", ".")]
    assert documented == EXTRACT_ARGS, (
        "README.md and tests/core/test_catalogs.py disagree on the extract command:\n"
        f"  README: {documented}\n  test:   {EXTRACT_ARGS}"
    )


# --- served by the app --------------------------------------------------------------------


@pytest.fixture
def served(app):
    if compile_stale_catalogs():
        # Translations already loaded from an older (or missing) .mo stay cached: drop them.
        with app.app_context():
            get_babel(app).instance.domain_instance.cache.clear()
    return app


def _translation(lang: str, msgid: str) -> str:
    message = load(po_path(lang)).get(msgid)
    assert message is not None and message.string, f"{msgid!r} is not in i18n/{lang}"
    return message.string


HOME_TITLE = "Have your say in your neighbourhood"


def test_app_serves_arabic_right_to_left(served, client):
    html = client.get("/?lang=ar").get_data(as_text=True)
    assert 'lang="ar"' in html and 'dir="rtl"' in html
    arabic = _translation("ar", HOME_TITLE)
    assert re.search(r"[\u0600-\u06ff]", arabic), "the Arabic catalog holds no Arabic text"
    assert str(escape(arabic)) in html, "the Arabic translation is not served: is i18n/ar compiled?"
    assert HOME_TITLE not in html


def test_app_serves_french_by_default(served, client):
    french = _translation("fr", HOME_TITLE)
    assert french != HOME_TITLE
    for path in ("/", "/?lang=fr"):  # "/" first: ?lang= sets a cookie
        html = client.get(path, headers={"Accept-Language": ""}).get_data(as_text=True)
        assert 'lang="fr"' in html and 'dir="ltr"' in html
        assert str(escape(french)) in html, f"French is not served on {path}: is i18n/fr compiled?"
        assert HOME_TITLE not in html
