"""unit: the template language — parsing, save-time validation, escaping, the unsubscribe rule."""

import pytest
from ecrm.api import field_errors
from ecrm.campaigns.models import TemplateDraft
from ecrm.campaigns.templates import CompiledTemplate, TemplateError, compile_part, parse
from pydantic import ValidationError

HTML = '<p>Hi {{ first_name | default("there") }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>'
TEXT = "Hi {{ first_name }}\n{{ unsubscribe_url }}"
LINKS = {"unsubscribe_url": "https://x.test/u?token=a&b=1", "preferences_url": "https://x.test/p"}


def compiled(subject="Hello {{ first_name }}", html=HTML, text=TEXT):
    return CompiledTemplate.compile(subject, html, text)


def test_contact_data_is_escaped_in_html_only():
    evil = '<script>alert("x")</script> & co'
    out = compiled().render({"first_name": evil, **LINKS})
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in out.html
    assert "<script>" not in out.html
    assert evil in out.text  # plain text: shown as typed
    assert out.subject == f"Hello {evil}"
    assert 'href="https://x.test/u?token=a&amp;b=1"' in out.html  # an attribute's & is escaped too


def test_subject_values_cannot_break_the_header():
    out = compiled().render({"first_name": "Ann\r\nBcc: victim@example.com", **LINKS})
    assert "\n" not in out.subject and "\r" not in out.subject
    assert out.subject == "Hello Ann Bcc: victim@example.com"


def test_a_subject_written_over_two_lines_is_refused_when_saved():
    for source in ("Hello\r\nBcc: x@evil.test", "Hello\nthere", "Tab\x0bhere"):
        with pytest.raises(TemplateError, match="one line"):
            compile_part(source, "subject")
    compile_part("Hello {{ first_name }}", "subject")


def test_default_and_chained_filters():
    template = compiled(subject='{{ first_name | trim | default("friend") | upper }}!')
    assert template.render({"first_name": "  ", **LINKS}).subject == "FRIEND!"
    assert template.render({"first_name": " ann ", **LINKS}).subject == "ANN!"
    assert template.render({**LINKS}).html.startswith("<p>Hi there</p>")


def test_values_are_never_evaluated_as_template():
    out = compiled().render({"first_name": "{{ email }}", "email": "secret@example.com", **LINKS})
    assert "{{ email }}" in out.text and "secret@example.com" not in out.text


@pytest.mark.parametrize(
    ("source", "message", "variable"),
    [
        ("{{ frist_name }}", "unknown variable 'frist_name'", "frist_name"),
        ("{{ first_name | shout }}", "unknown filter 'shout'", "first_name"),
        ("{{ first_name | default }}", "needs one quoted string", "first_name"),
        ("{{ first_name | upper('x') }}", "takes no argument", "first_name"),
        ("{{ first_name.__class__ }}", "attribute access is not allowed", None),
        ("{{ contact['email'] }}", "attribute access is not allowed", None),
        ("{{ __import__('os') }}", "unknown variable '__import__'", "__import__"),
        ("{{ first_name last_name }}", "expected '| filter'", "first_name"),
        ("{{ }}", "empty or malformed", None),
        ("line\n  {{ first_name", "line 2, column 3 is never closed", None),
    ],
)
def test_bad_placeholders_are_rejected_naming_part_and_variable(source, message, variable):
    with pytest.raises(TemplateError, match=message) as caught:
        parse(source, "text")
    assert caught.value.part == "text" and caught.value.variable == variable


def test_error_position_is_reported():
    with pytest.raises(TemplateError, match="line 3, column 5"):
        parse("a\nb\nc   {{ nope }}", "html")


@pytest.mark.parametrize("part", ["html", "text"])
def test_unsubscribe_link_is_required_in_html_and_text(part):
    with pytest.raises(TemplateError, match="unsubscribe link") as caught:
        compile_part("Hello {{ first_name }}", part)
    assert caught.value.variable == "unsubscribe_url"


def test_unsubscribe_link_inside_an_html_comment_does_not_count():
    with pytest.raises(TemplateError, match="unsubscribe link"):
        compile_part('<!-- <a href="{{ unsubscribe_url }}">x</a> -->', "html")
    compile_part('<!-- note --><a href="{{ unsubscribe_url }}">x</a>', "html")


def test_links_take_no_filters_and_do_not_belong_in_the_subject():
    with pytest.raises(TemplateError, match="takes no filters"):
        compile_part("{{ unsubscribe_url | upper }}", "text")
    with pytest.raises(TemplateError, match="does not belong in the subject"):
        compile_part("Bye {{ unsubscribe_url }}", "subject")


@pytest.mark.parametrize("attribute", ["href", "SRC", "action"])
def test_only_our_links_may_open_a_url_attribute(attribute):
    with pytest.raises(TemplateError, match="may not start a link attribute"):
        compile_part(f'<a {attribute}="{{{{ company }}}}">x</a>{{{{ unsubscribe_url }}}}', "html")
    compile_part(f'<a {attribute}="{{{{ preferences_url }}}}">{{{{ company }}}}</a>{{{{ unsubscribe_url }}}}', "html")


@pytest.mark.parametrize(
    ("part", "source", "variable"),
    [
        ("subject", "Hi {{ frist_name }}", "frist_name"),
        ("html", "<p>{{ unknown_thing }}</p>{{ unsubscribe_url }}", "unknown_thing"),
        ("text", "no link here", "unsubscribe_url"),
    ],
)
def test_template_draft_names_the_part_and_the_variable(part, source, variable):
    body = {"name": "T", "subject": "Hi", "html": HTML, "text": TEXT, part: source}
    with pytest.raises(ValidationError) as caught:
        TemplateDraft.model_validate(body)
    errors = field_errors(caught.value.errors())
    assert [e["field"] for e in errors] == [part]
    assert variable in errors[0]["message"]


def test_template_draft_rejects_unknown_fields():
    with pytest.raises(ValidationError) as caught:
        TemplateDraft.model_validate({"name": "T", "subject": "Hi", "html": HTML, "text": TEXT, "engine": "jinja"})
    assert [e["field"] for e in field_errors(caught.value.errors())] == ["engine"]
