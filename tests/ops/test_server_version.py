"""Flows that need a newer Kestra than the server runs are refused before anything is written, naming the
file, the line, the feature and the version it needs (BOOL inputs: 0.22, kestra-io/kestra#8257; a top-level
`finally`: 0.21, kestra-io/kestra#6686; both absent from v0.20.7's Flow.java and Input.java)."""

from __future__ import annotations

from pathlib import Path

from tests.kestra_emulator.server import KestraEmulator
from tests.ops.conftest import HELLO_FLOW, write_flows

FLOWS = Path(__file__).resolve().parents[2] / "flows"
NEWER_FLOW = HELLO_FLOW.replace("id: hello", "id: newer") + """\
inputs:
  - id: dry_run
    type: BOOL
    defaults: false
finally:
  - id: bye
    type: io.kestra.plugin.core.log.Log
    message: bye
"""


def test_flows_needing_a_newer_server_are_refused_before_any_request_but_the_version(tmp_path: Path, outputs_for,
                                                                                   run_ops) -> None:
    flows = write_flows(tmp_path / "flows", {"zoomcamp/hello.yaml": HELLO_FLOW, "zoomcamp/newer.yaml": NEWER_FLOW})
    with KestraEmulator(version="0.20.7") as emulator:
        result = run_ops("--outputs", outputs_for(emulator), "seed-flows", flows)
    assert result.exit_code == 1
    assert f"{flows}/zoomcamp/newer.yaml:15: input type BOOL needs Kestra 0.22 or newer; the server runs 0.20.7" in result.stderr
    assert f"{flows}/zoomcamp/newer.yaml:17: a top-level 'finally' needs Kestra 0.21 or newer; the server runs 0.20.7" \
        in result.stderr
    assert emulator.write_count == 0
    assert [request.path for request in emulator.requests] == ["/api/v1/configs"]


def test_the_repos_flows_need_0_22_and_seed_into_1_1(tmp_path: Path, outputs_for, run_ops) -> None:
    with KestraEmulator(version="0.20.7") as old:
        refused = run_ops("--outputs", outputs_for(old), "seed-flows", FLOWS)
    assert refused.exit_code == 1 and old.write_count == 0
    taxi = FLOWS / "zoomcamp" / "02_postgres_taxi.yaml"
    line = taxi.read_text().splitlines().index("    type: BOOL") + 1
    assert f"{taxi}:{line}: input type BOOL needs Kestra 0.22 or newer; the server runs 0.20.7" in refused.stderr
    with KestraEmulator(version="1.1.0") as current:
        assert run_ops("--outputs", outputs_for(current), "seed-flows", FLOWS).exit_code == 0
