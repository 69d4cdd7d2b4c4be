"""Every bad input gives one clear error line (no traceback), exit code 1, and nothing written."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.ops.conftest import FAST_RETRIES, HELLO_FLOW, SCHEDULED_FLOW, USERNAME, write_flows

BAD_FLOWS = {
    "malformed YAML": ("zoomcamp/broken.yaml", "id: broken\nnamespace: zoomcamp\ntasks: [\n", "broken.yaml:4: invalid YAML"),
    "duplicate flow id": ("zoomcamp/hello.yml", HELLO_FLOW, "hello.yml:1: flow zoomcamp.hello is already defined in"),
    "namespace other than its folder": (
        "zoomcamp/elsewhere.yaml", HELLO_FLOW.replace("id: hello", "id: elsewhere").replace("namespace: zoomcamp", "namespace: other"),
        "elsewhere.yaml:2: namespace 'other' does not match its folder 'zoomcamp'",
    ),
    "reserved id": ("zoomcamp/kill.yaml", HELLO_FLOW.replace("id: hello", "id: kill"), "kill.yaml:1: id 'kill' is reserved by Kestra 1.x"),
    "bad cron": (
        "zoomcamp/taxi_scheduled.yaml", SCHEDULED_FLOW.replace('"0 9 1 * *"', '"0 9 32 * *"'),
        "taxi_scheduled.yaml:19: schedule 'green_schedule': cron '0 9 32 * *' is not a valid cron expression",
    ),
    "two flows in one file (a `---` document separator)": (
        "zoomcamp/two.yaml", HELLO_FLOW.replace("id: hello", "id: two") + "---\n" + HELLO_FLOW.replace("id: hello", "id: three"),
        "two.yaml:13: holds 2 YAML documents; put each flow in its own file",
    ),
    "rejected by the server's validation": (
        "zoomcamp/odd.yaml", "id: odd\nnamespace: zoomcamp\ntasks:\n  - id: a\n    type: not a plugin type!\n",
        "odd.yaml: rejected by Kestra: tasks[0].type: must be a plugin type",
    ),
}


def assert_one_error_line(result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert expected in lines[0], lines[0]


def non_get_requests(emulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emulator.requests if r.method != "GET" and not r.path.endswith("/validate")]


@pytest.mark.parametrize("case", list(BAD_FLOWS))
def test_bad_flow_gives_one_error_line_and_writes_nothing(case: str, kestra_emulator, project_flows: Path, outputs_for, run_ops) -> None:
    relative, content, expected = BAD_FLOWS[case]
    write_flows(project_flows, {relative: content})
    result = run_ops("--outputs", outputs_for(kestra_emulator), "seed", project_flows)
    assert_one_error_line(result, expected)
    assert kestra_emulator.write_count == 0 and non_get_requests(kestra_emulator) == []


def test_kv_key_missing_from_the_stack_is_an_error_under_strict(kestra_emulator, project_flows: Path, outputs_for, run_ops) -> None:
    outputs = outputs_for(kestra_emulator, kestra_kv={"GCP_LOCATION": "europe-west3-secretloc"})
    lenient = run_ops("--outputs", outputs, "seed-flows", project_flows, "--dry-run")
    assert lenient.exit_code == 0
    assert lenient.stderr.startswith("Warning: ") and "reads kv('GCP_PROJECT_ID')" in lenient.stderr
    strict = run_ops("--outputs", outputs, "seed-flows", project_flows, "--strict")
    assert_one_error_line(strict, "taxi_scheduled.yaml:12: reads kv('GCP_PROJECT_ID'), which the stack's kestra_kv does not set")
    assert kestra_emulator.write_count == 0


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_url_gives_one_error_line(project_flows: Path, run_ops) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = run_ops(*FAST_RETRIES, "--url", url, "seed-flows", project_flows)
    assert_one_error_line(result, f"cannot reach Kestra: GET {url}/api/v1/configs: connection refused")
    waited = run_ops("--url", url, "wait", "--timeout", "0.3")
    assert_one_error_line(waited, f"Kestra at {url} did not answer /ping within 0.3 s (connection refused)")


def test_wrong_password_gives_one_error_line(kestra_emulator, project_flows: Path, run_ops) -> None:
    for command in (["wait", "--timeout", "2"], ["seed-flows", str(project_flows)]):
        result = run_ops("--url", kestra_emulator.url, "--username", USERNAME, "--password", "Wr0ngPassword", *command)
        assert_one_error_line(result, "wrong username or password for Kestra")
        assert "Wr0ngPassword" not in result.output
    assert kestra_emulator.write_count == 0


def test_a_422_from_the_server_gives_one_error_line_with_kestras_message(tmp_path: Path, monkeypatch, run_ops) -> None:
    from kestra_ops.client import KestraClient
    from kestra_ops.outputs import Connection
    from kestra_ops.session import Session

    def kestra(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/configs":
            return httpx.Response(200, json={"version": "1.1.0"})
        if request.method == "GET":
            return httpx.Response(200, content=b"")  # empty exports: nothing deployed yet
        if request.url.path.endswith("/flows/validate"):
            return httpx.Response(200, json=[{"index": i} for i in range(2)])
        return httpx.Response(422, json={
            "message": "Invalid entity: flow.namespace: flow namespace is invalid",
            "_embedded": {"errors": [{"path": "flow.namespace", "message": "main_zoomcamp_hello - flow namespace is invalid"}]},
        })

    monkeypatch.setattr(Session, "client", lambda self: KestraClient(
        Connection("http://kestra.test", "ops@example.com", "Passw0rdSecret"), transport=httpx.MockTransport(kestra)))
    result = run_ops("seed-flows", write_flows(tmp_path / "flows", {"zoomcamp/hello.yaml": HELLO_FLOW}))
    assert_one_error_line(result, (
        "POST http://kestra.test/api/v1/main/flows/zoomcamp?delete=false&override=false -> HTTP 422: "
        "Invalid entity: flow.namespace: flow namespace is invalid "
        "(flow.namespace: main_zoomcamp_hello - flow namespace is invalid)"
    ))


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ({"kestra_url": "ftp://x"}, "kestra_url: 'ftp://x' is not an http(s) URL"),
        ({"kestra_url": "http://u:p@host"}, "kestra_url: must not carry credentials"),
        ({"kestra_namespace": "Zoom Camp"}, "kestra_namespace: 'Zoom Camp' is not a Kestra namespace"),
        ({"kestra_kv": ["GCP_PROJECT_ID"]}, "kestra_kv: must be a map of KV key to JSON value"),
        ({"kestra_kv": {"bad key": "x"}}, "kestra_kv.bad key: not a valid KV key"),
        ({"kestra_backfills": [{"flow_id": "f", "trigger_id": "t", "start": "2019-01-01", "end": "2019-02-01T00:00:00Z"}]},
         "kestra_backfills[0].start: '2019-01-01' has no UTC offset"),
        ({"kestra_backfills": [{"flow_id": "f", "trigger_id": "t", "start": "2019-02-01T00:00:00Z", "end": "2019-01-01T00:00:00Z"}]},
         "kestra_backfills[0].end: must be after start"),
        ({"kestra_backfills": [{"flow_id": "f", "start": "2019-01-01T00:00:00Z", "end": "2019-02-01T00:00:00Z"}]},
         "kestra_backfills[0].trigger_id: required"),
        ({"kestra_backfills": [{"flow_id": "f", "trigger_id": "t", "start": "2019-01-01T00:00:00Z",
                                "end": "2019-02-01T00:00:00Z", "labels": {"Bad": "x"}}]},
         "kestra_backfills[0].labels: label key 'Bad' must start with a lower-case letter"),
    ],
)
def test_bad_outputs_name_the_key(outputs: dict, expected: str, tmp_path: Path, project_flows: Path, outputs_for, run_ops) -> None:
    from tests.ops.conftest import write_outputs

    file = write_outputs(tmp_path / "outputs.json", "http://127.0.0.1:9", **outputs)
    result = run_ops("--outputs", file, "seed", project_flows)
    assert_one_error_line(result, f"{file}: {expected}")


def test_outputs_file_that_is_not_json_names_the_position(tmp_path: Path, run_ops) -> None:
    file = tmp_path / "outputs.json"
    file.write_text('{"kestra_url": }')
    assert_one_error_line(run_ops("--outputs", file, "seed-kv"), f"{file}: not valid JSON (line 1 column 16: Expecting value)")


def test_seed_kv_without_outputs_says_where_kv_comes_from(run_ops) -> None:
    result = run_ops("--url", "http://127.0.0.1:9", "seed-kv")
    assert_one_error_line(result, "kestra_kv comes from the stack outputs: pass --stack NAME or --outputs FILE")


def test_stack_and_outputs_together_is_a_usage_error(tmp_path: Path, run_ops) -> None:
    result = run_ops("--stack", "dev", "--outputs", tmp_path / "o.json", "status")
    assert result.exit_code == 2 and "give either --stack or --outputs, not both" in result.stderr
