"""The local account's SES sending quota, as moto's SES answers GetSendQuota.

moto answers a fixed quota of 1 mail per second (a new SES sandbox account's). The campaign sender
paces bulk mail at the account's `MaxSendRate` (SenderSettings.send_rate 0 reads GetSendQuota), so
locally a 1,000-recipient campaign took over 16 minutes. The local stack gives its moto account the
quota of an account out of the sandbox instead: the shipped code path (GetSendQuota, the shared
rate limiter) runs unchanged, only the account it talks to is more generous.
"""

from __future__ import annotations

from typing import Any

MAX_SEND_RATE = 200  # mails per second
MAX_24_HOUR_SEND = 1_000_000


def install(max_send_rate: int = MAX_SEND_RATE, max_24_hour_send: int = MAX_24_HOUR_SEND) -> None:
    from moto.ses.models import SESQuota, ses_backends  # moto only where the local stack runs

    from ecrm_local.lambdas import ACCOUNT, REGION

    backend: Any = ses_backends[ACCOUNT][REGION]

    def get_send_quota() -> Any:
        quota = SESQuota(backend.sent_message_count)
        quota.max_send_rate = max_send_rate
        quota.max24_hour_send = max_24_hour_send
        return quota

    backend.get_send_quota = get_send_quota
