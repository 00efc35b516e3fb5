"""infra: staff sign-in, mail setup, and the alarms that page someone."""

from __future__ import annotations

import json

from ecrm.names import Role
from ecrm_infra import topology

from tests.infra.synth import Synth, ref_id


def test_user_pool_is_admin_managed_with_mfa_and_one_group_per_role(synth: Synth) -> None:
    (pool_id, pool), *_ = synth.resources("AWS::Cognito::UserPool").items()
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["MfaConfiguration"] == "ON"
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    groups = synth.resources("AWS::Cognito::UserPoolGroup").values()
    assert {g["Properties"]["GroupName"] for g in groups} == set(Role.ALL)
    assert all(ref_id(g["Properties"]["UserPoolId"]) == pool_id for g in groups)
    (client,) = [  # the staff's (machine clients: test_api.py)
        c
        for c in synth.resources("AWS::Cognito::UserPoolClient").values()
        if not c["Properties"].get("AllowedOAuthFlows")
    ]
    assert client["Properties"]["GenerateSecret"] is False
    assert client["Properties"]["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def test_ses_configuration_set_is_named_by_context(synth: Synth) -> None:
    (config_set,) = synth.resources("AWS::SES::ConfigurationSet").values()
    assert config_set["Properties"]["Name"] == topology.CONTEXT_DEFAULTS["sesConfigurationSet"]
    assert config_set["Properties"]["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"


def _alarmed(synth: Synth, metric: str) -> list[dict]:
    return [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == metric
    ]


def test_any_message_in_any_dlq_raises_an_alarm(synth: Synth) -> None:
    dlqs = {
        ref_id(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in synth.resources("AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    } | {  # a stream trigger's on-failure destination
        ref_id(m["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if "DestinationConfig" in m["Properties"]
    }
    alarms = _alarmed(synth, "ApproximateNumberOfMessagesVisible")
    assert {ref_id(a["Dimensions"][0]["Value"]) for a in alarms} == dlqs
    for alarm in alarms:
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_every_function_error_and_api_5xx_raise_an_alarm(synth: Synth) -> None:
    errors = _alarmed(synth, "Errors")
    assert {ref_id(a["Dimensions"][0]["Value"]) for a in errors} == {synth.function_id(f) for f in topology.FUNCTIONS}
    assert _alarmed(synth, "5XXError")


def test_alarms_notify_an_encrypted_topic(synth: Synth) -> None:
    (topic_id, topic), *_ = synth.resources("AWS::SNS::Topic").items()
    assert "KmsMasterKeyId" in topic["Properties"]
    for alarm in synth.resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    assert "ApproximateNumberOfMessagesVisible" in json.dumps(dashboard["Properties"]["DashboardBody"])


def test_any_mail_that_cannot_be_sent_raises_an_alarm(synth: Synth) -> None:
    (alarm,) = _alarmed(synth, "MailFailed")  # ecrm.mail.send_once: consent, case and loyalty mail
    assert (alarm["Namespace"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "eCRM",
        0,
        "GreaterThanThreshold",
    )
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "ecrm"}]
