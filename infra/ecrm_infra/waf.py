"""A regional WAF in front of the API stage: per-IP rate limit on the public routes, AWS common rules."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ecrm_infra.topology import Route

PUBLIC_RATE_LIMIT = 100  # requests per IP per 5 minutes on the public routes (the WAF window)

_NO_TRANSFORM = [wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")]


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _match(field: wafv2.CfnWebACL.FieldToMatchProperty, value: str, where: str) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=field, positional_constraint=where, search_string=value, text_transformations=_NO_TRANSFORM
        )
    )


def _route_statement(route: Route) -> wafv2.CfnWebACL.StatementProperty:
    # WAF sees the request path with the stage prefix (/prod/contacts) on the execute-api URL and
    # without it behind a custom domain: match the end of the path, or the static part before a
    # path parameter.
    static, brace, _ = route.path.partition("{")
    path = (
        _match(wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}), static, "CONTAINS")
        if brace
        else _match(wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}), route.path, "ENDS_WITH")
    )
    method = _match(wafv2.CfnWebACL.FieldToMatchProperty(method={}), route.method, "EXACTLY")
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=[method, path])
    )


def public_routes_statement(routes: Sequence[Route]) -> wafv2.CfnWebACL.StatementProperty:
    statements = [_route_statement(r) for r in routes]
    if len(statements) == 1:
        return statements[0]
    return wafv2.CfnWebACL.StatementProperty(or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=statements))


class ApiFirewall(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: apigw.Stage, public_routes: Sequence[Route]
    ) -> None:
        super().__init__(scope, construct_id)
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name="AWSManagedRulesCommonRuleSet",
                priority=0,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name="AWSManagedRulesCommonRuleSet"
                    )
                ),
                visibility_config=_visibility("CommonRuleSet"),
            )
        ]
        if public_routes:
            rules.append(
                wafv2.CfnWebACL.RuleProperty(
                    name="PublicRoutesRatePerIp",
                    priority=1,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=PUBLIC_RATE_LIMIT,
                            aggregate_key_type="IP",
                            scope_down_statement=public_routes_statement(public_routes),
                        )
                    ),
                    visibility_config=_visibility("PublicRoutesRatePerIp"),
                )
            )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("EcrmApi"),
            rules=rules,
        )
        wafv2.CfnWebACLAssociation(self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn)
