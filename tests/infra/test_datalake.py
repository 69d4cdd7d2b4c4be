"""Names the data lake derives on its own."""

from __future__ import annotations

import re

import pytest

from infra.datalake import service_account_id

ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")  # GCP's rule for service account ids


@pytest.mark.parametrize("stack, expected", [
    ("dev", "kestra-dev"),
    ("Prod_EU", "kestra-prod-eu"),
    ("a-very-long-stack-name-for-the-team", "kestra-a-very-long-stack-name"),
    ("---", "kestra"),
])
def test_service_account_id_is_valid_and_derived_from_the_stack(stack, expected):
    account_id = service_account_id(stack)
    assert account_id == expected
    assert ACCOUNT_ID.match(account_id)
