"""Shared annotated types: one definition of what an e-mail address, an id or a tag is."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s<>()\[\]\\,;:\"]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
_MARKUP = re.compile(r"[<>]")


def normalize_email(value: str) -> str:
    """Trimmed and lower-cased: the dedupe key. Raises ValueError for anything not address-shaped."""
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("not a valid e-mail address")
    return email


def _no_markup(value: str) -> str:
    if _MARKUP.search(value):
        raise ValueError("must not contain '<' or '>'")
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _split_csv(value: object) -> object:
    # Web forms send tags as one comma-separated field; JSON clients send a list.
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return value


Email = Annotated[str, AfterValidator(normalize_email)]
ContactId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
PlainText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_markup)]
Tag = Annotated[str, BeforeValidator(_lower), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Tags = Annotated[list[Tag], BeforeValidator(_split_csv), Field(max_length=20)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ().-]{3,32}$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://[^\s<>\"]+$")]
UtmValue = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_markup)]
