"""unit: header-safe text (ecrm.types.HeaderText, and the types built on it)."""

import unicodedata

import pytest
from ecrm.types import Email, HeaderText, PlainText, header_safe, sanitize_header
from pydantic import TypeAdapter, ValidationError

EVERY_CONTROL = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cc", "Zl", "Zp")]
FORMAT = ["\u200b", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\u00ad", "\ud800"]


@pytest.mark.parametrize("ch", EVERY_CONTROL + FORMAT, ids=lambda c: f"U+{ord(c):04X}")
def test_header_text_refuses_every_line_break_control_and_format_character(ch):
    for text_type in (HeaderText, PlainText):
        with pytest.raises(ValidationError, match=r"line breaks or control characters|unicode string"):
            TypeAdapter(text_type).validate_python(f"Printer{ch}on fire")
    with pytest.raises(ValidationError, match="e-mail address"):
        TypeAdapter(Email).validate_python(f"nul{ch}x@example.com")


def test_stored_text_holding_any_of_them_is_made_header_safe():
    # The mail adapter's last line for rows stored before the type: the integration tier sends one
    # of each kind through every mail path, this proves the function on every one of them.
    for ch in EVERY_CONTROL + FORMAT:
        cleaned = sanitize_header(f"Printer{ch}on fire")
        assert header_safe(cleaned) == cleaned == "Printer on fire", f"U+{ord(ch):04X}"


@pytest.mark.parametrize(
    "text", ["Grüße aus Köln", "日本語の件名", "فارسی\u200cنویسی", "👩\u200d💻 team", "a\tb".replace("\t", " ")]
)
def test_header_text_keeps_every_script_and_the_joiners_they_need(text):
    assert TypeAdapter(HeaderText).validate_python(text) == text
    assert header_safe(text) == text == sanitize_header(text)
