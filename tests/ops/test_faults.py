"""With 30% of requests failing (503 before applying, or the answer lost after applying), `ops seed`
converges to exactly the state a fault-free run leaves: no duplicate flows, revisions, backfills or executions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kestra_emulator.fixtures import assert_no_spec_violations
from tests.kestra_emulator.server import KestraEmulator
from tests.ops.conftest import FAST_RETRIES


def end_state(emulator: KestraEmulator) -> dict:
    executions = sorted(
        (run["flowId"], run["triggerId"], run["scheduleDate"], sorted(run["inputs"].items()),
         sorted((k, v) for k, v in run["labels"].items() if k != "system.correlationId"))
        for run in emulator.executions
    )
    return {
        "flows": emulator.flows,
        "kv": emulator.kv,
        "files": emulator.namespace_files,
        "backfills": emulator.triggers,
        "executions": executions,
    }


def seeded_state(project_flows: Path, outputs_for, run_ops, **emulator_options) -> tuple[dict, KestraEmulator]:
    with KestraEmulator(**emulator_options) as emulator:
        result = run_ops(*FAST_RETRIES, "--outputs", outputs_for(emulator), "seed", project_flows)
        assert result.exit_code == 0, result.output
        state = end_state(emulator)
    assert_no_spec_violations(emulator)
    return state, emulator


@pytest.mark.parametrize(("version", "seed"), [("1.1.0", 1), ("1.1.0", 3), ("0.20.7", 5)])
def test_seed_under_30_percent_faults_converges_to_the_fault_free_state(
    version: str, seed: int, project_flows: Path, outputs_for, run_ops
) -> None:
    expected, _ = seeded_state(project_flows, outputs_for, run_ops, version=version)
    actual, faulty = seeded_state(project_flows, outputs_for, run_ops, version=version, fault_rate=0.3, seed=seed)
    assert actual == expected
    assert len(actual["executions"]) == 3
    kinds = {r.fault for r in faulty.requests if r.fault}
    assert kinds == {"503", "lost"}, "both kinds of fault must have been injected, or the test proves little"
    assert any(r.fault == "lost" and r.applied and r.method != "GET" for r in faulty.requests)
