"""integration: a one-off campaign from the API to the outbox, under moto, every function in-process."""

from __future__ import annotations

from tests.integration.campaigns_support import Campaigns


def test_scheduled_campaign_mails_each_eligible_contact_once(campaigns: Campaigns):
    ann = campaigns.contact(1, tags=("vip",))
    bob = campaigns.contact(2, tags=("vip",), first_name="<b>Bob</b>")
    campaigns.contact(3, tags=("vip",), consent=False)
    campaigns.contact(4)  # not in the segment
    campaigns.pump()
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    count = campaigns.stack.call("GET", f"/segments/{segment}/count", roles="marketer").json
    assert count["count"] == 2
    cid = campaigns.campaign(campaigns.one_off_in(1), segment)
    assert campaigns.action(cid, "schedule")["status"] == "scheduled"
    campaigns.pump()
    assert campaigns.mail() == []
    campaigns.advance(3601)
    campaigns.pump()
    mail = campaigns.mail()
    assert sorted(m["to"][0] for m in mail) == [ann.email, bob.email]
    (bob_mail,) = campaigns.mail(bob.email)
    assert "Hi &lt;b&gt;Bob&lt;/b&gt;" in bob_mail["html"]
    assert bob_mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert bob_mail["headers"]["List-Unsubscribe"].startswith("<http://localhost:3000/unsubscribe?token=")
    stats = campaigns.stats(cid)
    assert (stats["targeted"], stats["sent"]) == (2, 2)
    assert campaigns.stack.call("GET", f"/campaigns/{cid}", roles="marketer").json["status"] == "sent"
