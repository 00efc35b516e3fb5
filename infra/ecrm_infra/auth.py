"""Who may call the protected routes: a Cognito user pool of staff, one group per role, and the
machine clients (OAuth2 client credentials) of the same pool."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct
from ecrm.names import Role, Scope

from ecrm_infra.nag import acknowledge
from ecrm_infra.topology.clients import MachineClient


class StaffDirectory(Construct):
    """Staff accounts are created by an admin (no self sign-up) and sign in with a password and TOTP."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.user_pool,
            "COG8",
            "Staff-only pool: no self sign-up, TOTP MFA required, strong passwords; the Plus tier's "
            "per-user threat protection is not worth its price for a handful of back-office users.",
        )
        for role in Role.ALL:
            cognito.CfnUserPoolGroup(self, f"Group-{role}", user_pool_id=self.user_pool.user_pool_id, group_name=role)
        self.client = self.user_pool.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,  # a browser client cannot keep a secret
            # SRP sign-in only: no hosted-UI flows on the pool's domain (which the machine clients need)
            disable_o_auth=True,
            prevent_user_existence_errors=True,
        )


class MachineCredentials(Construct):
    """Server-to-server clients (decision 85): a resource server with the API's scopes, the pool's
    domain (its `/oauth2/token` endpoint issues the tokens), and one app client per machine client,
    allowed only client credentials and only its own scopes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool: cognito.UserPool,
        clients: tuple[MachineClient, ...],
        domain_prefix: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.server = user_pool.add_resource_server(
            "ResourceServer",
            identifier=Scope.SERVER,
            user_pool_resource_server_name="eCRM API",
            scopes=[cognito.ResourceServerScope(scope_name=s, scope_description=s) for s in Scope.ALL],
        )
        # A prefix domain is unique per region across AWS: the account id makes ours so, and a
        # second stack in the account names its own with context `authDomainPrefix`.
        prefix = domain_prefix or cdk.Fn.join("-", ["ecrm", cdk.Aws.ACCOUNT_ID])
        self.domain = user_pool.add_domain("Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix))
        self.clients: dict[str, cognito.UserPoolClient] = {}
        for client in clients:
            made = user_pool.add_client(
                f"Client-{client.name}",
                user_pool_client_name=f"ecrm-{client.name}",
                generate_secret=True,  # a server keeps it: the client credentials grant needs one
                auth_flows=cognito.AuthFlow(),  # no user sign-in through this client
                o_auth=cognito.OAuthSettings(
                    flows=cognito.OAuthFlows(client_credentials=True),
                    scopes=[
                        cognito.OAuthScope.resource_server(
                            self.server, cognito.ResourceServerScope(scope_name=s, scope_description=s)
                        )
                        for s in client.scopes
                    ],
                ),
                access_token_validity=cdk.Duration.hours(1),
                prevent_user_existence_errors=True,
            )
            self.clients[client.name] = made
            cdk.CfnOutput(self, f"ClientId-{client.name}", value=made.user_pool_client_id)
        cdk.CfnOutput(self, "TokenEndpoint", value=f"{self.domain.base_url()}/oauth2/token")
