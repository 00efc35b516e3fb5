"""Shared annotated types: one definition of what an e-mail address, an id or a tag is."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationInfo, WithJsonSchema

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s<>()\[\]\\,;:\"]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
_MARKUP = re.compile(r"[<>]")


# -- header-safe text ---------------------------------------------------------------------------
# Anything that can reach a mail header (Subject, To, From, a display name, a value interpolated
# into one) must be one line for Python's email library, which splits on every Unicode line break
# (U+2028, U+2029, U+0085, VT, FF, FS, GS, RS as well as CR and LF) and refuses the header; a
# `^[^\r\n]*$` pattern lets all but two through. So: no control characters (Cc, which holds
# every ASCII break and NEL), no line or paragraph separators (Zl, Zp), no lone surrogates (Cs:
# not encodable), and no format characters (Cf: bidi overrides that disguise a subject, BOMs,
# invisible characters) except the two joiners scripts and emoji need.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_JOINERS = frozenset({"\u200c", "\u200d"})  # ZWNJ, ZWJ


def header_unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES and ch not in _JOINERS


def header_safe(value: str) -> str:
    """The value, or ValueError naming the first character a mail header cannot hold."""
    for ch in value:
        if header_unsafe(ch):
            raise ValueError(f"must be one line, without line breaks or control characters (found U+{ord(ch):04X})")
    return value


# Validation context for documents read back from our own store: they were judged when written,
# and a rule added since (header safety) must not make an old row unreadable. The mail adapter
# makes such text safe when it reaches a header (ecrm.adapters.ses.mime).
STORED: dict[str, bool] = {"stored": True}


def _header_safe_input(value: str, info: ValidationInfo) -> str:
    if isinstance(info.context, dict) and info.context.get("stored"):
        return value
    return header_safe(value)


def sanitize_header(value: str) -> str:
    """For stored text validated before this type existed: each unsafe character becomes a space."""
    return "".join(" " if header_unsafe(ch) else ch for ch in value)


def normalize_email(value: str) -> str:
    """Trimmed and lower-cased: the dedupe key. Raises ValueError for anything not address-shaped."""
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("not a valid e-mail address")
    if any(header_unsafe(ch) for ch in email):  # it becomes the To header
        raise ValueError("not a valid e-mail address: it holds a control character")
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


# The schema says what normalize_email accepts: an address, not any string (clients and the
# API fuzzer read it to know what to send).
Email = Annotated[
    str, AfterValidator(normalize_email), WithJsonSchema({"type": "string", "format": "email", "maxLength": 254})
]
# An address read back from our own store: normalized when it was written, not judged again (a row
# written before a rule was tightened stays readable; the mail adapter refuses an address no
# header can hold, and the mail is recorded failed).
StoredEmail = str
ContactId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
# A contact's custom field name (`custom.<key>`): the contacts' CustomKey, and what a journey's
# branch and set_field may name.
CUSTOM_KEY = r"^[a-z][a-z0-9_]{0,39}$"
# One line of text that may go into a mail header: subjects, names, anything a template puts there.
HeaderText = Annotated[str, AfterValidator(_header_safe_input)]
# A name, a company, a subject: header-safe, trimmed, no markup.
PlainText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=200),
    AfterValidator(_header_safe_input),
    AfterValidator(_no_markup),
]
Tag = Annotated[str, BeforeValidator(_lower), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Tags = Annotated[list[Tag], BeforeValidator(_split_csv), Field(max_length=20)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ().-]{3,32}$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://[^\s<>\"]+$")]
UtmValue = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_markup)]
