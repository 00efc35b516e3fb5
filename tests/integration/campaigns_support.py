"""Campaigns under moto, in-process: contacts written straight to their table, and a pump that turns
the local stack's wheels by hand (SES events, due schedules, every queue into its function)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from ecrm.campaigns.names import Env, Resource
from ecrm.clock import SYSTEM_CLOCK
from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
from ecrm.contacts.models import Contact
from ecrm.events import ContactCaptured, ContactErased
from ecrm_infra import topology
from ecrm_local import lambdas, outbox, pollers, resources, schedules, ses_events

from tests.support import Stack, moto_stack
from tests.unit.campaigns.world import make_contact

SES_TAPPED = {"aws.ses"}
HTML = '<p>Hi {{ first_name | default("there") }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
TEXT = "Hi {{ first_name }}\nUnsubscribe: {{ unsubscribe_url }}\n"


@dataclass
class Campaigns:
    stack: Stack
    session: Any = field(default_factory=boto3.session.Session)

    def __post_init__(self) -> None:
        outbox.install(SYSTEM_CLOCK)
        context = resources.local_context()
        self.firing = schedules.Firing(self.session, SYSTEM_CLOCK)
        self.mail_events = ses_events.SesEventPublisher(self.session, SYSTEM_CLOCK, context["sesConfigurationSet"])
        self.contacts = DynamoContacts(self.session.client("dynamodb"), self.stack.env[Env.CONTACTS_TABLE])
        self.sqs = self.session.client("sqs")
        self.invocations: list[tuple[str, dict[str, Any]]] = []

    # -- setup ---------------------------------------------------------------------------------
    def contact(
        self,
        n: int,
        *,
        email: str | None = None,
        tags: tuple[str, ...] = (),
        consent: bool = True,
        country: str | None = None,
        utm: str | None = None,
        first_name: str | None = "Ann",
        announce: bool = True,
    ) -> Contact:
        """A contact in the Contacts table, announced on the bus (ContactCaptured) as capture would."""
        now = SYSTEM_CLOCK.now() - timedelta(days=1)
        contact = make_contact(
            n,
            email=email,
            tags=tags,
            consent=consent,
            country=country,
            utm=utm,
            first_name=first_name,
            company=None,
            created=now,
        )
        self.contacts.create(contact, [])
        if announce:
            self.publish(ContactCaptured(occurred_at=now, contact_id=contact.id, tags=list(tags)))
        return contact

    def erase(self, contact: Contact) -> None:
        self.contacts.erase(contact, SYSTEM_CLOCK.now())
        self.publish(ContactErased(occurred_at=SYSTEM_CLOCK.now(), contact_id=contact.id))

    def publish(self, event: Any, source: str | None = None) -> None:
        self.session.client("events").put_events(
            Entries=[
                {
                    "Source": source or event.source,
                    "DetailType": event.detail_type,
                    "Detail": event.model_dump_json(),
                    "EventBusName": self.stack.env[Env.EVENT_BUS],
                }
            ]
        )

    def put_event(self, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.session.client("events").put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": self.stack.env[Env.EVENT_BUS],
                }
            ]
        )

    # -- the API ---------------------------------------------------------------------------------
    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.stack.call("POST", path, body, roles="marketer")
        assert answer.status == 201, answer.body
        created: dict[str, Any] = answer.json
        return created

    def template(self, subject: str = "News for {{ first_name }}", html: str = HTML, text: str = TEXT) -> str:
        return str(self.create("/templates", {"name": "T", "subject": subject, "html": html, "text": text})["id"])

    def segment(self, include: list[dict[str, Any]] | None = None, exclude: list[dict[str, Any]] | None = None) -> str:
        rules = {"include": include or [], "exclude": exclude or []}
        return str(self.create("/segments", {"name": "S", "rules": rules})["id"])

    def campaign(self, schedule: dict[str, Any], segment_id: str | None = None, **extra: Any) -> str:
        body: dict[str, Any] = {"name": "C", "template_id": extra.pop("template_id", None) or self.template()}
        body["schedule"] = schedule
        if segment_id:
            body["segment_id"] = segment_id
        return str(self.create("/campaigns", {**body, **extra})["id"])

    def action(self, campaign_id: str, action: str) -> dict[str, Any]:
        answer = self.stack.call("POST", f"/campaigns/{campaign_id}/{action}", roles="marketer")
        assert answer.status == 200, answer.body
        moved: dict[str, Any] = answer.json
        return moved

    def stats(self, campaign_id: str) -> dict[str, Any]:
        totals: dict[str, Any] = self.stack.call("GET", f"/campaigns/{campaign_id}/stats", roles="marketer").json
        return totals["total"]

    def one_off_in(self, hours: float = 1) -> dict[str, Any]:
        at = (SYSTEM_CLOCK.now() + timedelta(hours=hours)).astimezone(UTC)
        return {"kind": "one_off", "at": at.strftime("%Y-%m-%dT%H:%M:%S"), "timezone": "UTC"}

    # -- the wheels ------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        SYSTEM_CLOCK.advance(seconds)

    def pump(self, rounds: int = 30, only: set[str] | None = None, until_quiet: bool = True) -> int:
        """Until nothing moves: SES events out, due schedules fired, every queue drained into its
        function (failed messages made visible again at once, as a redelivery). Returns how much
        moved. `until_quiet=False`: just `rounds` rounds."""
        total = 0
        for _ in range(rounds):
            # the outbox's stream, as the relay reads it: committed events reach the bus and its rules
            moved = self.mail_events.flush() + self.stack.relay() + len(self.firing.fire_due())
            for trigger, fn in topology.queue_triggers():
                if only is None or fn.name in only:
                    moved += self.drain(fn, trigger)
            total += moved
            if not moved:
                return total
        if until_quiet:
            raise AssertionError(f"still busy after {rounds} rounds")
        return total

    def drain(self, fn: topology.Function, trigger: topology.QueueTrigger) -> int:
        url = resources.queue_url(self.session, trigger.queue)
        got = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(trigger.batch_size, 10), WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return 0
        event = pollers.sqs_event(got, resources.queue_arn(self.session, url), "us-east-1")
        try:
            result = lambdas.invoke(fn.name, event)
        except Exception:  # as in Lambda: the invocation failed, every message goes back
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in got]}
        self.invocations.append((fn.name, result))
        done = pollers.settled(got, result)
        for message in got:
            if message in done:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            else:  # SQS would bring it back after the visibility timeout
                self.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return 1

    def queued(self, queue: str) -> list[dict[str, Any]]:
        """Messages waiting on a queue (left there)."""
        url = resources.queue_url(self.session, queue)
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        return [json.loads(m["Body"]) for m in got]

    def mail(self, to: str | None = None) -> list[dict[str, Any]]:
        return [m for m in outbox.messages() if to is None or to in m["to"]]

    def items(self, prefix: str = "") -> list[dict[str, Any]]:
        return [i for i in self.stack.table_items(Env.CAMPAIGNS_TABLE) if str(i["pk"]).startswith(prefix)]


@contextmanager
def campaigns_stack(send_rate: int = 200) -> Iterator[Campaigns]:
    """The moto stack with a send rate of our own: the local account's SES quota (moto's) is 1/s."""
    with moto_stack() as stack:
        os.environ[Env.SEND_RATE] = str(send_rate)
        yield Campaigns(stack)


SEND_QUEUE = Resource.CAMPAIGN_SEND_QUEUE
PLAN_QUEUE = Resource.CAMPAIGN_PLAN_QUEUE
NOW = datetime.now(UTC)
