"""Compiled catalogs for the tests: .mo files are not in git (scripts/test.sh compiles them),
so a plain `pytest` compiles any that is missing or older than its .po before the first test."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

I18N = Path(__file__).resolve().parent.parent / "i18n"


def compile_stale_catalogs() -> bool:
    """Atomic writes, so parallel workers never read a half-written file."""
    compiled = False
    for po in sorted(I18N.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            os.replace(tmp, mo)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        compiled = True
    return compiled
