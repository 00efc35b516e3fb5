"""The campaign sender's deployed shape, derived from the configured send rate (plain data, no CDK).

One sender invocation works through one message (a `SendBatch` of up to `MESSAGE_SIZE` recipients,
one planner page), `LANES` recipients at once, each lane one recipient after the other: a rate
token, the claim, SES `SendEmail`, the completion. That serial path bounds what one lane can do
(`PER_MAIL_SECONDS`), so the rate sets how many senders run at once; how many run at once sets each
one's share of the rate, and the share sets how long one message takes, which the function timeout
(and with it the queue's visibility timeout) must cover: a message handed back unfinished waits out
the visibility timeout and counts a receive towards the DLQ. docs/campaigns.md ("Sending at the
account's rate") walks through the figures; decision 101 says why lanes rather than more senders.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ecrm.campaigns.settings import MAX_LANES

# Seconds one lane spends per recipient, serially: a share of a rate-token write (one per 5
# tokens), the claim (PutItem), SES SendEmail (~50-100 ms) and the completion (TransactWriteItems).
PER_MAIL_SECONDS = 0.125
LANES = MAX_LANES  # the most recipients one sender works on at once (the setting's own bound)
# CPU seconds a mail costs a sender: `make bench ONLY=sendrate` measures 2.8 ms on the development
# machine (the sender's own work and its boto3 calls, TLS not included); rounded up for that.
CPU_SECONDS_PER_MAIL = 0.004
# A sender's lanes at full pace may use at most this share of its vCPU (the rest: TLS, the
# runtime, GC, a slower vCPU than the development machine's).
CPU_SHARE = 0.5
VCPU_MB = 1769  # AWS: a function has one vCPU at 1,769 MB, in proportion below it
MEMORY_STEPS_MB = (512, 1024, VCPU_MB)
# Senders' capacity over the rate: slower calls than assumed, waits at second boundaries, tokens a
# sender could not use before its second ended.
HEADROOM = 1.25
MESSAGE_SIZE = 100  # recipients per send-queue message: one planner page (ecrm.campaigns.runs.PAGE_SIZE)
BATCH_SIZE = 1  # messages per invocation (why one: `SenderShape.batch_size`)
STOP_MARGIN_SECONDS = 15  # the sender claims nothing this close to its deadline (SenderConfig.margin)
MIN_TIMEOUT_SECONDS = 120
MAX_TIMEOUT_SECONDS = 900  # Lambda's limit
VISIBILITY_FACTOR = 6  # AWS's guidance for SQS event sources: visibility >= 6 x the function timeout
MIN_CONCURRENCY = 2  # the event source mapping's MaximumConcurrency accepts 2..1000
# The highest rate a deployment may be shaped for: what the bench shows (1,000/s with 20 senders of
# 8 lanes). The shared limiter's one counter item per second takes a write per grant (up to 5
# tokens) there; much above, it would near DynamoDB's 1,000 writes a second per partition.
MAX_RATE = 1000
# campaignSendRate 0 (the account's quota, read at run time) cannot shape a deployment: it is shaped
# for campaignMaxSendRate, by default SES's starting production quota.
DEFAULT_MAX_RATE = 14
SEND_RATE_KEY, MAX_SEND_RATE_KEY = "campaignSendRate", "campaignMaxSendRate"


@dataclass(frozen=True)
class SenderShape:
    rate: int  # mails per second the deployment is shaped for
    concurrency: int  # the event source mapping's MaximumConcurrency, and the function's reserved concurrency
    timeout_seconds: int
    # One message per invocation: a message is already MESSAGE_SIZE recipients (seconds of work at
    # the sender's share); a second one in the same invocation would wait, its visibility timeout
    # running, while the first is sent, and more senders (not bigger batches) is what raises the rate.
    batch_size: int = BATCH_SIZE
    lanes: int = 1  # recipients each sender works on at once: what its share of the rate needs, at most LANES

    @property
    def visibility_timeout_seconds(self) -> int:
        return VISIBILITY_FACTOR * self.timeout_seconds

    @property
    def memory_mb(self) -> int:
        """The smallest memory whose vCPU share carries the lanes at full pace within CPU_SHARE."""
        needed = self.pace * CPU_SECONDS_PER_MAIL / CPU_SHARE  # vCPU
        return next(mb for mb in MEMORY_STEPS_MB if mb / VCPU_MB >= needed or mb == VCPU_MB)

    @property
    def share(self) -> float:
        """Mails per second each sender gets when all of them are busy (the limiter serves first come)."""
        return self.rate / self.concurrency

    @property
    def pace(self) -> float:
        """Mails per second one sender can make: its lanes at PER_MAIL_SECONDS each."""
        return self.lanes / PER_MAIL_SECONDS

    @property
    def capacity(self) -> float:
        """Mails per second all senders can make together."""
        return self.concurrency * self.pace

    @property
    def message_seconds(self) -> float:
        """How long one message takes at the slower of a sender's share and its own pace."""
        return self.batch_size * MESSAGE_SIZE / min(self.share, self.pace)


def sender_shape(rate: int) -> SenderShape:
    """The sender's concurrency, batch size and timeout for `rate` mails per second."""
    if not 1 <= rate <= MAX_RATE:
        raise ValueError(f"a send rate of {rate}/s: the sender can be shaped for 1 to {MAX_RATE} mails per second")
    concurrency = max(MIN_CONCURRENCY, math.ceil(rate * HEADROOM * PER_MAIL_SECONDS / LANES))
    # No more lanes than the share needs: at low rates, idle lanes would only wait for tokens
    # together, each waking for each second's slot (a conditional write apiece).
    lanes = min(LANES, math.ceil(rate / concurrency * HEADROOM * PER_MAIL_SECONDS))
    shape = SenderShape(rate=rate, concurrency=concurrency, timeout_seconds=MIN_TIMEOUT_SECONDS, lanes=lanes)
    # A message must be finished within one invocation, or it is handed back and waits out the
    # visibility timeout: at low rates (a 2-sender minimum at 1/s) the timeout grows with it.
    needed = math.ceil(shape.message_seconds) + STOP_MARGIN_SECONDS
    timeout = max(MIN_TIMEOUT_SECONDS, math.ceil(needed / 5) * 5)
    if timeout > MAX_TIMEOUT_SECONDS:  # not reachable for rates >= 1; kept as the invariant's guard
        raise ValueError(f"a send rate of {rate}/s needs a {timeout} s sender timeout, over Lambda's limit")
    return SenderShape(rate=rate, concurrency=concurrency, timeout_seconds=timeout, lanes=lanes)


def deploy_rate(context: Mapping[str, str]) -> int:
    """The rate a deployment is shaped for: `campaignSendRate`, or `campaignMaxSendRate` when that is
    0 (the account's quota, known only when the sender asks SES)."""
    key = SEND_RATE_KEY if _whole(context, SEND_RATE_KEY) else MAX_SEND_RATE_KEY
    rate = _whole(context, key)
    if not 1 <= rate <= MAX_RATE:
        raise ValueError(f"context {key} is {rate}: the sender can be shaped for 1 to {MAX_RATE} mails per second")
    return rate


def _whole(context: Mapping[str, str], key: str) -> int:
    value = str(context.get(key, "")).strip()
    if not value.isdigit():
        raise ValueError(f"context {key} must be a whole number of mails per second, not {value!r}")
    return int(value)
