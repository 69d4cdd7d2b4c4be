"""Generated credentials: one random, alphanumeric, secret password per service-set secret, and the
derived secrets (a generated password's base64 form) computed from them."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_random as random

from infra.services import BASE64_OF, KESTRA_PASSWORD


def base64_text(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


@dataclass(frozen=True)
class CredentialsArgs:
    names: tuple[str, ...]
    # A configured Kestra password replaces the generated one.
    kestra_password: str | None = None


class Credentials(pulumi.ComponentResource):
    values: Mapping[str, pulumi.Output[str]]

    def __init__(self, name: str, args: CredentialsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kestra-stack:credentials:Credentials", name, None, opts)
        values: dict[str, pulumi.Output[str]] = {}
        for secret in args.names:
            if secret in BASE64_OF:
                continue
            if secret == KESTRA_PASSWORD and args.kestra_password:
                values[secret] = pulumi.Output.secret(args.kestra_password)
                continue
            role = secret.lower().replace("_", "-")
            password = random.RandomPassword(
                f"{name}-{role}",
                length=24,
                # Alphanumeric: safe in URLs, pgpass files and compose interpolation. The minimums
                # meet Kestra's policy (upper, lower, digit).
                special=False,
                min_upper=2,
                min_lower=2,
                min_numeric=2,
                opts=pulumi.ResourceOptions(parent=self),
            )
            # Mocks do not mark it secret as the engine does: mark it explicitly.
            values[secret] = pulumi.Output.secret(password.result)
        for secret, source in BASE64_OF.items():
            if secret in args.names:
                values[secret] = pulumi.Output.secret(values[source].apply(base64_text))
        self.values = values
        self.register_outputs({})
