from __future__ import annotations

import json

import httpx
import pytest

from tests.kestra_emulator.server import KestraEmulator

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(("value", "expected_type"), [
    ("text", "STRING"), (42, "NUMBER"), (1.5, "NUMBER"), (True, "BOOLEAN"), ({"a": [1]}, "JSON"), ([1, 2], "JSON"),
    ("PT1H", "DURATION"), ("2024-01-31", "DATE"), ("2024-01-31T10:00:00Z", "DATETIME"),
])
def test_the_type_is_inferred_from_the_json_literal(api: httpx.Client, kestra_emulator: KestraEmulator,
                                                    value: object, expected_type: str) -> None:
    assert api.put("/namespaces/zoomcamp/kv/KEY", content=json.dumps(value), headers=JSON).status_code == 200
    assert api.get("/namespaces/zoomcamp/kv/KEY").json() == {"type": expected_type, "value": value}
    assert kestra_emulator.kv[("zoomcamp", "KEY")] == (expected_type, value)


def test_a_raw_text_body_that_is_not_a_literal_is_rejected(api: httpx.Client) -> None:
    response = api.put("/namespaces/zoomcamp/kv/KEY", content="two words", headers={"Content-Type": "text/plain"})
    assert response.status_code == 422


def test_a_key_outside_the_pattern_is_rejected(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    response = api.put("/namespaces/zoomcamp/kv/_bad", content='"x"', headers=JSON)
    assert response.status_code == 422
    assert kestra_emulator.kv == {}


def test_an_entry_past_its_ttl_answers_410(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    api.put("/namespaces/zoomcamp/kv/SHORT", content='"x"', headers={**JSON, "ttl": "PT0S"})
    api.put("/namespaces/zoomcamp/kv/LONG", content='"y"', headers={**JSON, "ttl": "PT1H"})
    assert api.get("/namespaces/zoomcamp/kv/SHORT").status_code == 410
    assert api.get("/namespaces/zoomcamp/kv/LONG").status_code == 200
    listed = api.get("/namespaces/zoomcamp/kv").json()
    assert [entry["key"] for entry in listed] == ["LONG"]
    assert listed[0]["expirationDate"] is not None


def test_missing_key_is_404_and_delete_answers_whether_it_existed(api: httpx.Client) -> None:
    assert api.get("/namespaces/zoomcamp/kv/NOPE").status_code == 404
    api.put("/namespaces/zoomcamp/kv/KEY", content="1", headers=JSON)
    assert api.delete("/namespaces/zoomcamp/kv/KEY").json() is True
    assert api.delete("/namespaces/zoomcamp/kv/KEY").json() is False
