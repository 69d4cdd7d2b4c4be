"""The outputs contract end to end: what infra's real program exports (run under Pulumi's mocks) is what
`ops` accepts, and it seeds the repo's flows and the dev stack's backfill into the emulator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kestra_ops.outputs import DATA_LAKE_KV_KEYS, parse_outputs
from kestra_ops.validation import validate_directory
from tests.kestra_emulator.fixtures import assert_no_spec_violations
from tests.kestra_emulator.server import KestraEmulator

FLOWS = Path(__file__).resolve().parents[2] / "flows"


@pytest.fixture(scope="module")
def stack_outputs() -> dict[str, dict]:
    from infra.offline import plan_stack

    return {stack: plan_stack(stack).outputs for stack in ("dev", "prod")}


def test_the_data_lake_kv_keys_ops_knows_are_those_infra_sets_only_with_gcp_project(stack_outputs) -> None:
    from infra.offline import plan_stack

    with_lake = plan_stack("dev", config={"gcpProject": "my-project-4711"}).outputs["kestra_kv"]
    assert set(with_lake) - set(stack_outputs["dev"]["kestra_kv"]) == DATA_LAKE_KV_KEYS


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_stacks_outputs_pass_the_ops_contract(stack: str, stack_outputs: dict[str, dict]) -> None:
    outputs = parse_outputs(json.loads(json.dumps(stack_outputs[stack])), f"stack {stack}")
    assert outputs.kestra_url and outputs.kestra_username and outputs.kestra_password
    assert outputs.kestra_namespace == "zoomcamp"
    assert outputs.kestra_kv is not None


def test_backfills_of_the_dev_stack_name_flows_and_schedule_triggers_of_the_repo(stack_outputs: dict[str, dict]) -> None:
    outputs = parse_outputs(stack_outputs["dev"], "stack dev")
    report = validate_directory(FLOWS)
    flows = {flow.id: flow for flow in report.flows}
    assert outputs.kestra_backfills, "the dev stack backfills green taxi 2019"
    for backfill in outputs.kestra_backfills:
        assert backfill.flow_id in flows, f"flows/ has no {backfill.flow_id}"
        assert f"id: {backfill.trigger_id}" in flows[backfill.flow_id].source


def test_dev_stack_outputs_seed_the_repo_into_kestra(stack_outputs: dict[str, dict], tmp_path: Path, run_ops) -> None:
    raw = stack_outputs["dev"]
    present = {file.stem for file in FLOWS.glob("zoomcamp/*.yaml")}
    with KestraEmulator(username=raw["kestra_username"], password=raw["kestra_password"]) as emulator:
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({**raw, "kestra_url": emulator.url}))
        result = run_ops("--outputs", outputs, "seed", FLOWS)
        assert result.exit_code == 0, result.output
        assert {flow_id for _, flow_id in emulator.flows} == present
        # No gcpProject on dev: the GCP flows' kv() reads are said once, as what they mean.
        assert [line for line in result.stderr.splitlines() if line.startswith("Warning:")] == [
            "Warning: 3 flows need the data lake (gcpProject unset): 05_gcp_setup, 06_gcp_taxi, 07_gcp_dbt — "
            "they will fail until you set gcpProject"]
        backfill = raw["kestra_backfills"][0]
        runs = [run for run in emulator.executions if run["flowId"] == backfill["flow_id"]]
        assert len(runs) == 12 and all(run["inputs"].get("taxi") == "green" for run in runs)
        again = run_ops("--outputs", outputs, "seed", FLOWS)
        assert again.exit_code == 0 and "; 0 writes, " in again.stdout.splitlines()[-1]
    assert_no_spec_violations(emulator)


def test_on_dev_verbose_lists_every_data_lake_read_and_strict_fails_before_writing(stack_outputs, tmp_path: Path,
                                                                                   run_ops) -> None:
    raw = stack_outputs["dev"]
    with KestraEmulator(username=raw["kestra_username"], password=raw["kestra_password"]) as emulator:
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({**raw, "kestra_url": emulator.url}))
        verbose = run_ops("--outputs", outputs, "seed-flows", FLOWS, "--dry-run", "-v")
        reads = [line for line in verbose.stderr.splitlines() if "reads kv(" in line]
        expected = sum(len(re.findall(r"kv\('GCP_(?:PROJECT_ID|LOCATION|BUCKET_NAME|DATASET)'\)", file.read_text()))
                       for file in FLOWS.glob("zoomcamp/*.yaml"))
        assert len(reads) == expected > 11
        assert {re.search(r"zoomcamp/(\w+)\.yaml", line).group(1) for line in reads} == {
            "05_gcp_setup", "06_gcp_taxi", "07_gcp_dbt"}
        strict = run_ops("--outputs", outputs, "seed-flows", FLOWS, "--strict")
        assert strict.exit_code == 1
        assert "3 flows need the data lake (gcpProject unset)" in strict.stderr
        assert emulator.write_count == 0
    assert_no_spec_violations(emulator)
