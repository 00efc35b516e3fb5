"""cdk-nag (AwsSolutions) findings acknowledged on purpose, next to the construct that causes them.

cdk-nag 3 has no NagSuppressions: findings are CDK policy-validation violations, acknowledged with
`Validations.of(construct).acknowledge(...)`. A finding about one wildcard (v2's `applies_to`) is
acknowledged by its own id, `AwsSolutions-IAM5[Resource::*]`, never by the bare rule.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

PACK = "AwsSolutions"


def rule_id(rule: str, applies_to: str | None = None) -> str:
    return f"{PACK}::{PACK}-{rule}" + (f"[{applies_to}]" if applies_to else "")


def acknowledge(scope: IConstruct, rule: str, reason: str, *, applies_to: str | None = None) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id(rule, applies_to), reason=reason))
