"""Local validation: each rule gives one line naming the file, the line and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from kestra_ops.validation import cron_problem, validate_directory
from tests.ops.conftest import DASHES_FLOW, HELLO_FLOW, SCHEDULED_FLOW, write_flows


def validate(tmp_path: Path, flows: dict[str, str], **options):
    return validate_directory(write_flows(tmp_path / "flows", flows), **options)


def only_error(report) -> str:
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


def test_a_valid_directory_yields_its_flows_and_namespace_files(project_flows: Path) -> None:
    report = validate_directory(project_flows, kv_keys={"GCP_PROJECT_ID"})
    assert report.errors == () and report.warnings == ()
    assert sorted(flow.id for flow in report.flows) == ["hello", "taxi_scheduled", "with_dashes"]
    assert report.namespaces == ("zoomcamp",)
    assert sorted(file.path for file in report.namespace_files) == ["/README.txt", "/sql/green_create.sql"]
    assert {flow.id: flow.needs_own_request for flow in report.flows} == {
        "hello": False, "taxi_scheduled": False, "with_dashes": True,
    }


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    report = validate(tmp_path, {"zoomcamp/bad.yaml": "id: bad\nnamespace: zoomcamp\ntasks:\n  - id: [unclosed\n"})
    message = only_error(report)
    # The unclosed `[` is found at the end of the stream (line 5), by libyaml and pure-Python PyYAML alike.
    assert message.startswith(f"{tmp_path / 'flows' / 'zoomcamp' / 'bad.yaml'}:5: invalid YAML"), message


def test_duplicate_yaml_key_is_an_error_with_both_lines(tmp_path: Path) -> None:
    message = only_error(validate(tmp_path, {"zoomcamp/hello.yaml": HELLO_FLOW + "id: again\n"}))
    assert ":13:" in message and "duplicate key 'id' (first at line 1)" in message


def test_namespace_must_equal_its_folder(tmp_path: Path) -> None:
    message = only_error(validate(tmp_path, {"other/hello.yaml": HELLO_FLOW}))
    assert message.endswith("hello.yaml:2: namespace 'zoomcamp' does not match its folder 'other'")


def test_duplicate_flow_id_names_both_files(tmp_path: Path) -> None:
    report = validate(tmp_path, {"zoomcamp/hello.yaml": HELLO_FLOW, "zoomcamp/hello.yml": HELLO_FLOW})
    message = only_error(report)
    assert "hello.yml:1: flow zoomcamp.hello is already defined in" in message and message.endswith("hello.yaml")


def test_file_must_be_named_after_the_flow_id(tmp_path: Path) -> None:
    message = only_error(validate(tmp_path, {"zoomcamp/greeting.yaml": HELLO_FLOW}))
    assert message.endswith("greeting.yaml:1: the file must be named after the flow id (hello.yaml)")


@pytest.mark.parametrize("flow_id", ["pause", "executions", "force-run"])
def test_kestra_1x_reserved_ids_are_rejected(tmp_path: Path, flow_id: str) -> None:
    message = only_error(validate(tmp_path, {f"zoomcamp/{flow_id}.yaml": HELLO_FLOW.replace("id: hello", f"id: {flow_id}")}))
    assert f":1: id '{flow_id}' is reserved by Kestra 1.x" in message


@pytest.mark.parametrize(
    ("flow_id", "namespace", "expected"),
    [("-dash", "zoomcamp", ":1: id '-dash' is invalid"), ("ok", "Zoomcamp", ":2: namespace 'Zoomcamp' is invalid")],
)
def test_id_and_namespace_patterns(tmp_path: Path, flow_id: str, namespace: str, expected: str) -> None:
    source = f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n"
    report = validate(tmp_path, {f"zoomcamp/{flow_id}.yaml": source})
    assert any(expected in error for error in report.errors), report.errors


def test_task_ids_are_unique_through_nested_tasks(tmp_path: Path) -> None:
    source = HELLO_FLOW.replace("id: shout", "id: parallel")
    message = only_error(validate(tmp_path, {"zoomcamp/hello.yaml": source}))
    assert message.endswith("hello.yaml:10: task id 'parallel' is used twice (first at line 4)")


def test_nested_tasks_under_switch_cases_are_checked(tmp_path: Path) -> None:
    source = """\
        id: switch
        namespace: zoomcamp
        tasks:
          - id: pick
            type: io.kestra.plugin.core.flow.Switch
            value: "{{ inputs.taxi }}"
            cases:
              green:
                - id: load
                  type: io.kestra.plugin.core.log.Log
                  message: g
              yellow:
                - id: load
                  type: io.kestra.plugin.core.log.Log
                  message: y
        """
    message = only_error(validate(tmp_path, {"zoomcamp/switch.yaml": source}))
    assert ":13: task id 'load' is used twice (first at line 9)" in message


def test_trigger_ids_are_unique(tmp_path: Path) -> None:
    source = SCHEDULED_FLOW.replace("id: yellow_schedule", "id: green_schedule")
    message = only_error(validate(tmp_path, {"zoomcamp/taxi_scheduled.yaml": source}))
    assert ":23: trigger id 'green_schedule' is used twice (first at line 17)" in message


@pytest.mark.parametrize(
    ("cron", "reason"),
    [("0 9 1 *", "has 4 fields, expected 5"), ("61 9 1 * *", "is not a valid cron expression"), ("@sometimes", "is not one of")],
)
def test_bad_cron_is_an_error_on_its_line(tmp_path: Path, cron: str, reason: str) -> None:
    source = SCHEDULED_FLOW.replace('cron: "0 9 1 * *"', f'cron: "{cron}"')
    message = only_error(validate(tmp_path, {"zoomcamp/taxi_scheduled.yaml": source}))
    assert f":19: schedule 'green_schedule': cron '{cron}' {reason}" in message


def test_unknown_timezone_is_an_error(tmp_path: Path) -> None:
    source = SCHEDULED_FLOW.replace("timezone: America/New_York", "timezone: Mars/Olympus", 1)
    message = only_error(validate(tmp_path, {"zoomcamp/taxi_scheduled.yaml": source}))
    assert ":20: schedule 'green_schedule': unknown timezone 'Mars/Olympus'" in message


def test_cron_with_seconds_needs_six_fields() -> None:
    assert cron_problem("*/10 * * * * *", with_seconds=True) is None
    assert cron_problem("*/10 * * * *", with_seconds=True) == "has 5 fields, expected 6"
    assert cron_problem("@monthly") is None


def test_kv_read_missing_from_the_stack_is_a_warning(tmp_path: Path) -> None:
    report = validate(tmp_path, {"zoomcamp/taxi_scheduled.yaml": SCHEDULED_FLOW}, kv_keys={"GCP_LOCATION"})
    assert report.errors == ()
    assert len(report.warnings) == 1
    assert report.warnings[0].endswith("taxi_scheduled.yaml:12: reads kv('GCP_PROJECT_ID'), which the stack's kestra_kv does not set")


def test_kv_read_missing_from_the_stack_is_an_error_when_strict(tmp_path: Path) -> None:
    report = validate(tmp_path, {"zoomcamp/taxi_scheduled.yaml": SCHEDULED_FLOW}, kv_keys={"GCP_LOCATION"}, strict=True)
    # TAXI_DATA_BASE_URL is read with errorOnMissing=false: optional, so only GCP_PROJECT_ID is reported.
    assert only_error(report).endswith("reads kv('GCP_PROJECT_ID'), which the stack's kestra_kv does not set")


def test_kv_reads_are_not_checked_when_the_stack_is_unknown(tmp_path: Path) -> None:
    report = validate(tmp_path, {"zoomcamp/taxi_scheduled.yaml": SCHEDULED_FLOW}, kv_keys=None, strict=True)
    assert report.errors == () and report.warnings == ()


def test_a_file_with_two_yaml_documents_is_rejected(tmp_path: Path) -> None:
    message = only_error(validate(tmp_path, {"zoomcamp/hello.yaml": HELLO_FLOW + "---\n" + DASHES_FLOW}))
    assert message.endswith("hello.yaml:13: holds 2 YAML documents; put each flow in its own file")


def test_unknown_top_level_key_is_rejected(tmp_path: Path) -> None:
    message = only_error(validate(tmp_path, {"zoomcamp/hello.yaml": HELLO_FLOW + "schedule: daily\n"}))
    assert message.endswith("hello.yaml:13: unknown top-level key 'schedule' (Kestra rejects it)")


def test_flow_outside_a_namespace_folder_is_rejected(tmp_path: Path) -> None:
    message = only_error(validate(tmp_path, {"hello.yaml": HELLO_FLOW}))
    assert "a flow file must be in a folder named after its namespace" in message


@pytest.mark.parametrize("name", ["_flows/x.yml", "_flowsbackup/x.sql", "_flows.txt"])
def test_namespace_files_under_flows_prefix_are_rejected(tmp_path: Path, name: str) -> None:
    # Kestra 0.20.7 forbids reading or deleting any path matching `/_flows.*`.
    message = only_error(validate(tmp_path, {"zoomcamp/hello.yaml": HELLO_FLOW, f"zoomcamp/files/{name}": "id: x"}))
    assert "names starting with _flows are Kestra's" in message


def test_a_namespace_file_named_like_storage_metadata_is_rejected(tmp_path: Path) -> None:
    # Kestra's storage keeps `.metadata` names out of its listings: such a file would be re-uploaded forever.
    message = only_error(validate(tmp_path, {"zoomcamp/hello.yaml": HELLO_FLOW, "zoomcamp/files/a.sql.metadata": "x"}))
    assert "a.sql.metadata: Kestra's storage hides names ending in .metadata" in message


def test_hidden_files_are_not_uploaded(tmp_path: Path) -> None:
    report = validate(tmp_path, {"zoomcamp/hello.yaml": HELLO_FLOW, "zoomcamp/files/.gitkeep": "", "zoomcamp/files/a.sql": "x"})
    assert [file.path for file in report.namespace_files] == ["/a.sql"]


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    assert only_error(validate_directory(tmp_path / "nope")).endswith("nope: not a directory")


IMAGE_FLOW = """\
id: scripted
namespace: zoomcamp
tasks:
  - id: wrapper
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: script
        type: io.kestra.plugin.scripts.python.Script
        containerImage: {image}
        script: print(1)
"""


@pytest.mark.parametrize("image", ["python", "python:latest", "ghcr.io/dbt-labs/dbt-postgres", "localhost:5000/dbt"])
def test_an_unpinned_container_image_is_a_warning_naming_its_line(tmp_path: Path, image: str) -> None:
    report = validate(tmp_path, {"zoomcamp/scripted.yaml": IMAGE_FLOW.format(image=image)})
    assert report.errors == ()
    assert [w.split("flows/", 1)[1] for w in report.warnings] == [
        f"zoomcamp/scripted.yaml:9: containerImage {image!r} is not pinned (add a version tag or digest)"]


def test_an_unpinned_container_image_is_an_error_when_strict(tmp_path: Path) -> None:
    report = validate(tmp_path, {"zoomcamp/scripted.yaml": IMAGE_FLOW.format(image="python:latest")}, strict=True)
    assert "containerImage 'python:latest' is not pinned" in only_error(report)


@pytest.mark.parametrize("image", ["python:3.11-alpine", "localhost:5000/dbt:1.9.0", "python@sha256:" + "a" * 64,
                                   "'{{ vars.image }}'"])
def test_a_pinned_or_templated_container_image_passes(tmp_path: Path, image: str) -> None:
    report = validate(tmp_path, {"zoomcamp/scripted.yaml": IMAGE_FLOW.format(image=image)}, strict=True)
    assert report.errors == () and report.warnings == ()


def test_a_missing_kv_key_read_several_times_is_reported_once_at_its_first_read(tmp_path: Path) -> None:
    flow = SCHEDULED_FLOW.replace("{{ kv('GCP_PROJECT_ID') }} {{ inputs.taxi }}",
                                  "{{ kv('GCP_PROJECT_ID') }} {{ kv('GCP_PROJECT_ID') }} {{ kv('GCP_DATASET') }}")
    report = validate(tmp_path, {"zoomcamp/taxi_scheduled.yaml": flow}, kv_keys={"GCP_LOCATION"})
    assert [w.split(".yaml:", 1)[1] for w in report.warnings] == [
        "12: reads kv('GCP_PROJECT_ID'), which the stack's kestra_kv does not set",
        "12: reads kv('GCP_DATASET'), which the stack's kestra_kv does not set"]


LAKE_FLOW = """\
id: {id}
namespace: zoomcamp
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ kv('GCP_PROJECT_ID') }}}}.{{{{ kv('GCP_DATASET') }}}} {{{{ kv('GCP_PROJECT_ID') }}}}"
"""
OTHER_KV_FLOW = HELLO_FLOW.replace("message: hello", "message: \"{{ kv('SLACK_WEBHOOK') }}\"")


def lake_flows(tmp_path: Path, **options):
    return validate(tmp_path, {"zoomcamp/lake_b.yaml": LAKE_FLOW.format(id="lake_b"),
                               "zoomcamp/lake_a.yaml": LAKE_FLOW.format(id="lake_a"),
                               "zoomcamp/hello.yaml": OTHER_KV_FLOW}, **options)


def test_data_lake_reads_without_the_data_lake_are_one_warning_naming_the_flows(tmp_path: Path) -> None:
    report = lake_flows(tmp_path, kv_keys={"TAXI_POSTGRES"})
    assert report.errors == ()
    assert report.warnings == (
        f"{tmp_path / 'flows'}/zoomcamp/hello.yaml:9: reads kv('SLACK_WEBHOOK'), which the stack's kestra_kv does not set",
        "2 flows need the data lake (gcpProject unset): lake_a, lake_b — they will fail until you set gcpProject",
    )
    # -v: every read the one line stands for
    assert [line.split("/zoomcamp/")[1] for line in report.details] == [
        f"{name}.yaml:6: reads kv('{key}'), which the stack's kestra_kv does not set"
        for name in ("lake_a", "lake_b") for key in ("GCP_PROJECT_ID", "GCP_DATASET", "GCP_PROJECT_ID")
    ]


def test_data_lake_reads_without_the_data_lake_fail_when_strict(tmp_path: Path) -> None:
    report = lake_flows(tmp_path, kv_keys={"TAXI_POSTGRES", "SLACK_WEBHOOK"}, strict=True)
    assert report.warnings == ()
    assert only_error(report) == (
        "2 flows need the data lake (gcpProject unset): lake_a, lake_b — they will fail until you set gcpProject")


def test_with_the_data_lake_set_a_missing_data_lake_key_is_reported_per_read(tmp_path: Path) -> None:
    report = lake_flows(tmp_path, kv_keys={"GCP_PROJECT_ID", "SLACK_WEBHOOK"})
    assert [line.split("/zoomcamp/")[1] for line in report.warnings] == [
        "lake_a.yaml:6: reads kv('GCP_DATASET'), which the stack's kestra_kv does not set",
        "lake_b.yaml:6: reads kv('GCP_DATASET'), which the stack's kestra_kv does not set",
    ]
