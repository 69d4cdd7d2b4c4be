"""`--prune` end to end against the emulator (1.x and 0.20), whose namespace files export carries the
namespace's flows as `_flows/<id>.yml` entries and refuses to delete under /_flows, as Kestra does."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from tests.ops.conftest import NAMESPACE


def deletes(emulator, since: int) -> list[str]:
    """The DELETE requests after the `since`-th, as `flow <id>` or `file <path>`."""
    found = []
    for request in emulator.requests[since:]:
        if request.method != "DELETE":
            continue
        if request.path.endswith(f"/namespaces/{NAMESPACE}/files"):
            found.append(f"file {parse_qs(request.query)['path'][0]}")
        else:
            found.append(f"flow {request.path.rsplit('/', 1)[-1]}")
    return found


def test_prune_with_nothing_removed_deletes_nothing(emulator, project_flows: Path, outputs_for, run_ops) -> None:
    outputs = outputs_for(emulator)
    assert run_ops("--outputs", outputs, "seed", project_flows).exit_code == 0
    before, writes = len(emulator.requests), emulator.write_count
    result = run_ops("--outputs", outputs, "seed-flows", project_flows, "--prune")
    assert result.exit_code == 0, result.output
    assert deletes(emulator, before) == [] and emulator.write_count == writes
    assert "delete" not in result.stdout.replace("0 delete", "")


def test_prune_deletes_exactly_the_removed_flow_and_file(emulator, project_flows: Path, outputs_for, run_ops) -> None:
    outputs = outputs_for(emulator)
    assert run_ops("--outputs", outputs, "seed", project_flows).exit_code == 0
    (project_flows / NAMESPACE / "hello.yaml").unlink()
    (project_flows / NAMESPACE / "files" / "README.txt").unlink()
    before = len(emulator.requests)
    assert run_ops("--outputs", outputs, "seed-flows", project_flows).exit_code == 0
    assert deletes(emulator, before) == []  # without --prune nothing goes

    result = run_ops("--outputs", outputs, "seed-flows", project_flows, "--prune")
    assert result.exit_code == 0, result.output
    assert sorted(deletes(emulator, before)) == ["file /README.txt", "flow hello"]
    assert sorted(emulator.flows) == [(NAMESPACE, "taxi_scheduled"), (NAMESPACE, "with_dashes")]
    assert list(emulator.namespace_files) == [(NAMESPACE, "/sql/green_create.sql")]
    assert "flows: 0 create, 0 update, 1 delete, 2 unchanged; namespace files: 0 create, 0 update, 1 delete, 1 unchanged" \
        in result.stdout
