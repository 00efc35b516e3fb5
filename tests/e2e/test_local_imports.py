"""e2e: on the local stack a real CSV file goes up through its presigned URL (over HTTP, to the
stack's moto server), the import runs through the queue, and its contacts and report are there."""

from __future__ import annotations

import urllib.request
import uuid

import pytest

from tests.e2e.conftest import Local

pytestmark = pytest.mark.e2e


def _http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 - local
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the stack's own moto
        data: bytes = answer.read()
        return data


def test_a_csv_file_uploaded_through_its_presigned_url_is_imported(local: Local) -> None:
    tag = f"imp{uuid.uuid4().hex[:8]}"
    csv = (
        f"email;first_name;tags\r\n{tag}-1@example.com;Ann;{tag}\r\n"
        f'{tag}-2@example.com;"Bob; B.";{tag}\r\nnot-an-address;Carl;{tag}\r\n'
    ).encode()
    created = local.call("POST", "/imports", {"size_bytes": len(csv)}, role="marketer")
    assert created.status == 201, created.text
    job = created.json
    assert job["upload_url"].startswith(local.moto)  # straight to the bucket, not through the API
    _http("PUT", job["upload_url"], csv, job["upload_headers"])
    started = local.call("POST", f"/imports/{job['id']}/start", role="marketer")
    assert started.status == 202, started.text
    done = local.wait_for(
        lambda: (j := local.call("GET", f"/imports/{job['id']}", role="marketer").json)["state"] == "done" and j,
        timeout=30,
        what="the import to finish",
    )
    assert (done["rows_read"], done["created"], done["rejected"]) == (3, 2, 1)
    assert _http("GET", done["report_url"]).decode().startswith("line,reason\r\n4,")
    found = local.call("GET", f"/contacts?tag={tag}", role="marketer")
    assert sorted(c["first_name"] for c in found.json["items"]) == ["Ann", "Bob; B."]
