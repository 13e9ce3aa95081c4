"""Creating and resolving short links; the registry of public entry points they can open.

A participation mechanism makes its public pages linkable by registering a provider:
`register_targets(fn)` where `fn(contract)` yields `Target`s.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app, request
from sqlalchemy.exc import IntegrityError

from ..core.territories import Contract, Scope
from ..core.users import User
from ..extensions import db
from .models import ShortLink, normalise_code


@dataclass(frozen=True)
class Target:
    path: str
    title: str
    scope: Scope
    #: Grouping label in the "new link" form (e.g. a commune name).
    group: str = ""


_providers: list[Callable[[Contract], Iterable[Target]]] = []


def register_targets(provider: Callable[[Contract], Iterable[Target]]) -> None:
    _providers.append(provider)


def targets_for(contract: Contract) -> list[Target]:
    return [t for provider in _providers for t in provider(contract)]


def create_link(target: Target, title: str, created_by: User | None, original_locale: str) -> ShortLink:
    for _attempt in range(5):
        link = ShortLink(
            target_path=target.path,
            title=title.strip() or target.title,
            contract_id=target.scope.contract_id,
            commune_id=target.scope.commune_id,
            neighbourhood_id=target.scope.neighbourhood_id,
            created_by=created_by,
            original_locale=original_locale,
        )
        try:
            with db.session.begin_nested():
                db.session.add(link)
            return link
        except IntegrityError:  # code collision (1 in 10^10): draw again
            continue
    raise RuntimeError("Could not draw a free short code")


def resolve(code: str) -> ShortLink | None:
    return db.session.scalar(
        sa.select(ShortLink).where(ShortLink.code == normalise_code(code), ShortLink.is_active.is_(True))
    )


def base_url() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or request.url_root).rstrip("/")


def short_url(link: ShortLink, lang: str | None = None) -> str:
    url = f"{base_url()}/p/{link.code}"
    return url + "?" + urlencode({"lang": lang}) if lang else url


def display_url(link: ShortLink) -> str:
    """The short URL as printed on a poster: no scheme, nothing to mistype."""
    return short_url(link).split("://", 1)[-1]
