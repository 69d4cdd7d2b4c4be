"""The flow runner is no more lenient than Kestra: inputs typed as declared, If conditions that must
render to true or false, and a download stand-in that answers as GNU wget does (checked against the
real wget on a loopback server)."""

from __future__ import annotations

import functools
import gzip
import http.server
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from tests.flows import download_stand_in
from tests.flows.flow_runner import FlowRun, TaskFailed, UnsupportedTask, load_flow


def never_fetch(url: str):
    raise AssertionError(f"unexpected download {url}")


def flow_run(flow: dict, inputs: dict) -> FlowRun:
    return FlowRun(flow, inputs, "RunnerTest1", conninfo={}, fetch=never_fetch)


@pytest.mark.parametrize(("given", "typed"), [("false", False), (" True ", True), (False, False)])
def test_a_bool_input_given_as_text_is_typed_as_kestra_types_it(given, typed):
    run = flow_run(load_flow("02_postgres_taxi"), {"reload": given})
    assert run.context.inputs["reload"] is typed


def test_a_bool_input_that_is_not_a_boolean_is_refused():
    with pytest.raises(ValueError, match="reload"):
        flow_run(load_flow("02_postgres_taxi"), {"reload": "maybe"})


def test_a_required_input_without_value_or_default_is_refused():
    flow = {"namespace": "zoomcamp", "inputs": [{"id": "taxi", "type": "STRING"}], "tasks": []}
    with pytest.raises(ValueError, match="taxi"):
        flow_run(flow, {})


@pytest.mark.parametrize(("condition", "branch"), [("{{ inputs.flag }}", "yes"), ("{{ not inputs.flag }}", "no")])
def test_if_runs_the_branch_its_condition_renders(condition, branch):
    flow = {"namespace": "zoomcamp", "inputs": [{"id": "flag", "type": "BOOL", "defaults": True}], "tasks": [
        {"id": "choose", "type": "io.kestra.plugin.core.flow.If", "condition": condition,
         "then": [{"id": "yes", "type": "io.kestra.plugin.core.log.Log", "message": "y"}],
         "else": [{"id": "no", "type": "io.kestra.plugin.core.log.Log", "message": "n"}]}]}
    run = flow_run(flow, {})
    run.run()
    assert run.executed == [branch, "choose"]


def test_an_if_condition_rendering_to_other_text_fails_instead_of_counting_as_truthy():
    flow = {"namespace": "zoomcamp", "inputs": [{"id": "taxi", "type": "STRING", "defaults": "green"}], "tasks": [
        {"id": "choose", "type": "io.kestra.plugin.core.flow.If", "condition": "{{ inputs.taxi }}",
         "then": [{"id": "yes", "type": "io.kestra.plugin.core.log.Log", "message": "y"}]}]}
    with pytest.raises(UnsupportedTask, match="choose"):
        flow_run(flow, {}).run()


def download_flow(rest: str) -> dict:
    command = 'wget -qO "t.csv.gz" "http://data.test/t.csv.gz" && gunzip "t.csv.gz" && ' + rest
    return {"namespace": "zoomcamp", "tasks": [
        {"id": "extract", "type": "io.kestra.plugin.scripts.shell.Commands",
         "taskRunner": {"type": "io.kestra.plugin.core.runner.Process"}, "outputFiles": ["*.csv"],
         "commands": [command]}]}


def test_the_rest_of_the_download_command_runs_and_its_outputs_lines_become_vars(tmp_path):
    csv = tmp_path / "month.csv"
    csv.write_text("a,b\n1,2\n")
    run = FlowRun(download_flow('n=$(wc -l < t.csv) && echo "noise" && echo "::{\\"outputs\\":{\\"lines\\":$n}}::"'),
                  {}, "RunnerTest2", conninfo={}, fetch=lambda url: csv)
    run.run()
    outputs = run.context.outputs["extract"]
    assert outputs["vars"] == {"lines": 2}
    assert list(outputs["outputFiles"]) == ["t.csv"]
    assert run.fetched_urls == ["http://data.test/t.csv.gz"]


def test_a_failing_command_fails_the_task_and_the_working_directory_is_removed(tmp_path, monkeypatch):
    csv = tmp_path / "month.csv"
    csv.write_text("a,b\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run = FlowRun(download_flow("md5sum missing.csv"), {}, "RunnerTest3", conninfo={}, fetch=lambda url: csv)
    with pytest.raises(TaskFailed, match="extract.*missing.csv"):
        run.run()
    assert list(scratch.iterdir()) == [] and csv.exists()


@pytest.fixture(scope="module")
def loopback_server(tmp_path_factory):
    """A plain HTTP server on 127.0.0.1 serving one gzipped file, 404 for anything else."""
    root = tmp_path_factory.mktemp("served")
    (root / "month.csv.gz").write_bytes(gzip.compress(b"a,b\n1,2\n"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # a short poll so that shutdown() returns at once, not after serve_forever's default 0.5 s
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def wget_outcome(wget: str, url: str, workdir: Path, flags: list[str]) -> tuple[int, bool, bool, bool]:
    """(exit code, the output file exists, stderr has the flows' 404 status line, stderr is empty) of one
    wget call."""
    done = subprocess.run([wget, *flags, str(workdir / "out.gz"), url], capture_output=True, text=True, timeout=60)
    has_404 = bool(re.search(r"^  HTTP/[0-9.]* 404 ", done.stderr, re.M))
    return done.returncode, (workdir / "out.gz").exists(), has_404, done.stderr == ""


# what each answer of the stand-in is checked against: the loopback server's file, its 404, and port 1 of
# 127.0.0.1, where nothing listens (connection refused: wget's network failure)
EXIT_CODES = {"published": 0, "missing": download_stand_in.WGET_SERVER_ERROR,
              "unreachable": download_stand_in.WGET_NETWORK_FAILURE}


@pytest.mark.parametrize("flags", [["-q", "-S", "-O"], ["-qO"]])
@pytest.mark.parametrize("answer", list(EXIT_CODES))
def test_the_wget_stand_in_answers_as_the_real_wget_does(loopback_server, tmp_path, flags, answer):
    real_wget = shutil.which("wget")
    assert real_wget, "the flow tests check their wget stand-in against GNU wget: install Debian's wget"
    base = "http://127.0.0.1:1" if answer == "unreachable" else loopback_server
    url = f"{base}/{'month' if answer == 'published' else 'missing'}.csv.gz"
    (tmp_path / "real").mkdir()
    real = wget_outcome(real_wget, url, tmp_path / "real", flags)
    (tmp_path / "month.csv").write_text("a,b\n1,2\n")
    csv = {"published": str(tmp_path / "month.csv"), "missing": None, "unreachable": download_stand_in.UNREACHABLE}
    download_stand_in.install(tmp_path / "bin", {url: csv[answer]})
    (tmp_path / "fake").mkdir()
    assert wget_outcome(str(tmp_path / "bin" / "wget"), url, tmp_path / "fake", flags) == real
    assert real[0] == EXIT_CODES[answer]


def test_the_wget_stand_in_refuses_arguments_the_flows_do_not_use(tmp_path):
    download_stand_in.install(tmp_path, {"http://data.test/t.csv.gz": None})
    done = subprocess.run([str(tmp_path / "wget"), "--no-check-certificate", "-qO", "x", "http://data.test/t.csv.gz"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "--no-check-certificate" in done.stderr
