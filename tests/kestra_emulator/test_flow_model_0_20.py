"""The 0.20 emulator refuses what Kestra 0.20.7's model refuses: its Flow has no `finally` (added in 0.21,
kestra-io/kestra#6686) and its Input types have no BOOL (added in 0.22, kestra-io/kestra#8257).
Sources: core/.../models/flows/Flow.java, AbstractFlow.java and Input.java (@JsonSubTypes) at tag v0.20.7."""

from __future__ import annotations

import pytest

from tests.kestra_emulator.conftest import YAML, client_for, flow_source
from tests.kestra_emulator.server import KestraEmulator

FINALLY = "finally:\n  - id: cleanup\n    type: io.kestra.plugin.core.log.Log\n    message: bye\n"
BOOL_INPUT = "inputs:\n  - id: dry\n    type: BOOL\n    defaults: false\n"
# Every input type 0.20.7 knows, and the flow fields it has.
INPUTS_0_20 = ("ARRAY", "BOOLEAN", "DATE", "DATETIME", "DURATION", "FILE", "FLOAT", "INT", "JSON", "SECRET", "STRING",
               "ENUM", "SELECT", "TIME", "URI", "MULTISELECT", "YAML", "EMAIL")
FIELDS_0_20 = "description: d\nlabels:\n  a: b\nvariables:\n  v: 1\ndisabled: false\nrevision: 1\n"


@pytest.mark.parametrize(("extra", "message"), [
    (FINALLY, 'finally: Unrecognized field "finally"'),
    (BOOL_INPUT, "inputs[0].type: Invalid type: BOOL"),
    ("afterExecution:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n", "Unrecognized field"),
])
def test_0_20_refuses_what_its_model_lacks_and_1x_accepts_it(extra: str, message: str) -> None:
    source = flow_source("newer", extra=extra)
    with KestraEmulator(version="0.20.7") as old, client_for(old, "/api/v1") as client:
        [result] = client.post("/flows/validate", content=source, headers=YAML).json()
        assert message in result["constraints"]
        created = client.post("/flows", content=source, headers=YAML)
        assert created.status_code == 422 and message in created.json()["message"]
        assert old.flows == {}
    with KestraEmulator(version="1.1.0") as new, client_for(new, "/api/v1/main") as client:
        [result] = client.post("/flows/validate", content=source, headers=YAML).json()
        assert "constraints" not in result


def test_0_20_accepts_every_input_type_and_field_of_its_model() -> None:
    inputs = "inputs:\n" + "".join(f"  - id: i{n}\n    type: {kind}\n" for n, kind in enumerate(INPUTS_0_20))
    with KestraEmulator(version="0.20.7") as old, client_for(old, "/api/v1") as client:
        [result] = client.post("/flows/validate", content=flow_source("all", extra=FIELDS_0_20 + inputs),
                               headers=YAML).json()
    assert "constraints" not in result
