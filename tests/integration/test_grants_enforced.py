"""integration: a function that calls AWS for something its declared grants lack is caught, as AWS
would refuse it (moto would not: tests/grants.py stands in for IAM)."""

from __future__ import annotations

import pytest
from ecrm.names import Resource
from ecrm_infra import topology
from ecrm_infra.topology import Access

from tests.grants import Call, Recorder
from tests.support import Stack


def test_a_capture_without_the_put_grant_is_refused(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    capture = topology.function("contacts_capture")
    monkeypatch.setitem(capture.grants, Resource.CONTACTS_TABLE, Access.READ)  # restored before the session's check
    with Recorder().installed() as recorder:
        assert stack.call("POST", "/contacts", {"email": "ann@example.com"}).status == 201  # moto allowed it
    assert recorder.refused() == [Call("contacts_capture", "dynamodb:PutItem", Resource.CONTACTS_TABLE)]
    assert {call.function for call in recorder.calls} == {"contacts_capture", "event_relay"}


def test_the_public_capture_reads_and_puts_contacts_and_nothing_else(stack: Stack) -> None:
    with Recorder().installed() as recorder:
        stack.call("POST", "/contacts", {"email": "ann@example.com", "tags": ["a"]})
        stack.call("POST", "/contacts", {"email": "ann@example.com", "tags": ["b"], "first_name": "Ann"})
    on_contacts = {c.action for c in recorder.calls if c.resource == Resource.CONTACTS_TABLE}
    assert on_contacts == {"dynamodb:GetItem", "dynamodb:PutItem"}  # a merge puts the profile back whole
    assert not recorder.refused()
