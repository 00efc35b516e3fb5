"""unit: decoding JSON, urlencoded and multipart bodies the way API Gateway delivers them."""

import base64

import pytest
from ecrm.api import MAX_BODY_BYTES, read_body
from ecrm.errors import InvalidInput


def event(body: bytes | str, content_type: str, b64: bool = False) -> dict:
    raw = body if isinstance(body, bytes) else body.encode()
    return {
        "headers": {"Content-Type": content_type},
        "body": base64.b64encode(raw).decode() if b64 else raw.decode("utf-8", "surrogateescape"),
        "isBase64Encoded": b64,
    }


def test_json_object():
    body = read_body(event('{"email": "a@b.co"}', "application/json; charset=utf-8"))
    assert body.fields == {"email": "a@b.co"} and not body.from_html_form


def test_urlencoded_joins_repeated_tags_and_nests_custom_fields():
    body = read_body(event("email=a%40b.co&tags=a&tags=b&custom.shoe_size=42", "application/x-www-form-urlencoded"))
    assert body.fields == {"email": "a@b.co", "tags": "a,b", "custom": {"shoe_size": "42"}}
    assert body.from_html_form


def test_multipart_text_fields():
    raw = (
        b'--XyZ\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.co\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nJ\xc3\xbcrgen\r\n--XyZ--\r\n'
    )
    body = read_body(event(raw, "multipart/form-data; boundary=XyZ", b64=True))
    assert body.fields == {"email": "a@b.co", "first_name": "Jürgen"}


@pytest.mark.parametrize(
    ("evt", "field", "status"),
    [
        (event("{not json", "application/json"), "body", 400),
        (event("[1,2]", "application/json"), "body", 400),
        (event(b'{"email": "\xff"}', "application/json", b64=True), "body", 400),
        (event(b"email=\xff", "application/x-www-form-urlencoded", b64=True), "body", 400),
        (event("email=a", "text/plain"), "Content-Type", 415),
        (event("x" * (MAX_BODY_BYTES + 1), "application/json"), "body", 413),
        (
            event(
                b'--B\r\nContent-Disposition: form-data; name="cv"; filename="cv.pdf"\r\n\r\n%PDF\r\n--B--\r\n',
                "multipart/form-data; boundary=B",
                b64=True,
            ),
            "cv",
            400,
        ),
    ],
)
def test_bad_bodies_name_the_field(evt, field, status):
    with pytest.raises(InvalidInput) as caught:
        read_body(evt)
    assert (caught.value.field, caught.value.status) == (field, status)


def test_powertools_json_errors_name_the_body_with_the_position_in_the_message():
    from ecrm.api import field_errors

    err = {"type": "json_invalid", "loc": ("body", 5), "msg": "JSON decode error", "ctx": {"error": "Expecting value"}}
    assert field_errors([err]) == [{"field": "body", "message": "invalid JSON: Expecting value at position 5"}]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("[" * 100_000 + "]" * 100_000, "nested too deeply"), ('{"n": ' + "9" * 5000 + "}", "number is too long")],
)
def test_parse_json_turns_every_refusal_into_invalid_input(text, reason):
    from ecrm.api import parse_json

    with pytest.raises(InvalidInput, match=reason) as caught:
        parse_json(text)
    assert caught.value.field == "body" and caught.value.status == 400
