"""Who may call the role-protected routes: a Cognito user pool of staff, one group per role."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct
from ecrm.names import Role

from ecrm_infra.nag import acknowledge


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
            prevent_user_existence_errors=True,
        )
