"""Seeding 500 flows in 5 namespaces into the Kestra emulator (20 ms latency per request):
`ops seed-flows` (one export + one bulk request per namespace, one validate request) against a naive
per-file import (one create request per flow, what curling /flows one file at a time does), in the same run.
Also an unchanged re-run and the start-up time of `ops --help`.

    .venv/bin/python benchmarks/seed_flows.py [--flows 500] [--namespaces 5] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kestra_ops.cli import cli  # noqa: E402
from tests.kestra_emulator.server import KestraEmulator  # noqa: E402

USERNAME, PASSWORD = "ops@example.com", "Emul4torPassw0rd"
FLOW = """\
id: {flow_id}
namespace: {namespace}
description: generated flow {index} for the seeding benchmark
inputs:
  - id: taxi
    type: SELECT
    values: [green, yellow]
    defaults: green
tasks:
  - id: extract
    type: io.kestra.plugin.core.log.Log
    message: "extract {{{{ inputs.taxi }}}} {index}"
  - id: transform
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: clean
        type: io.kestra.plugin.core.log.Log
        message: clean {index}
      - id: load
        type: io.kestra.plugin.core.log.Log
        message: load {index}
triggers:
  - id: monthly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 1 * *"
    timezone: America/New_York
"""


def generate(root: Path, flows: int, namespaces: int) -> list[Path]:
    files = []
    for index in range(flows):
        namespace = f"bench{index % namespaces}"
        flow_id = f"flow_{index:04d}"
        file = root / namespace / f"{flow_id}.yaml"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(FLOW.format(flow_id=flow_id, namespace=namespace, index=index))
        files.append(file)
    return files


def run_ops(emulator: KestraEmulator, directory: Path) -> tuple[float, float, int, int]:
    """(seconds, client CPU seconds, requests the server received, writes it applied) for one `ops seed-flows` run.
    The emulator serves from other threads, so this thread's CPU time is the client's own work."""
    requests, writes = len(emulator.requests), emulator.write_count
    started, cpu = time.perf_counter(), time.thread_time()
    result = CliRunner().invoke(
        cli, ["--url", emulator.url, "--username", USERNAME, "--password", PASSWORD, "seed-flows", str(directory)]
    )
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    if result.exit_code != 0:
        raise SystemExit(f"ops seed-flows failed:\n{result.output}")
    return elapsed, cpu, len(emulator.requests) - requests, emulator.write_count - writes


def run_naive(emulator: KestraEmulator, files: list[Path]) -> tuple[float, float, int, int]:
    started, cpu = time.perf_counter(), time.thread_time()
    with httpx.Client(base_url=emulator.url, auth=(USERNAME, PASSWORD), timeout=30) as client:
        for file in files:
            response = client.post("/api/v1/main/flows", content=file.read_bytes(), headers={"Content-Type": "application/x-yaml"})
            response.raise_for_status()
    return time.perf_counter() - started, time.thread_time() - cpu, len(emulator.requests), emulator.write_count


def help_startup(runs: int = 7) -> list[float]:
    ops = Path(sys.executable).parent / "ops"
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(ops), "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=500)
    parser.add_argument("--namespaces", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        files = generate(Path(scratch), args.flows, args.namespaces)
        with KestraEmulator(latency_s=args.latency) as emulator:
            ours_s, ours_cpu, ours_requests, ours_writes = run_ops(emulator, Path(scratch))
            assert len(emulator.flows) == args.flows
            rerun_s, rerun_cpu, rerun_requests, rerun_writes = run_ops(emulator, Path(scratch))
            violations = list(emulator.spec_violations)
        with KestraEmulator(latency_s=args.latency) as naive_emulator:
            naive_s, naive_cpu, naive_requests, naive_writes = run_naive(naive_emulator, files)
            assert len(naive_emulator.flows) == args.flows
    startup = help_startup()

    constant = 2  # GET /api/v1/configs and one POST /flows/validate
    budget = 3 * args.namespaces + constant
    rows = [
        ("naive per-file create", naive_requests, naive_writes, naive_s, naive_cpu, ""),
        ("ops seed-flows (bulk)", ours_requests, ours_writes, ours_s, ours_cpu,
         f"requests <= {budget}: {'yes' if ours_requests <= budget else 'NO'}"),
        ("ratio naive / ops", naive_requests / ours_requests, None, naive_s / ours_s, None,
         f">= 10x faster: {'yes' if naive_s / ours_s >= 10 else 'NO'}"),
        ("ops re-run, unchanged", rerun_requests, rerun_writes, rerun_s, rerun_cpu,
         f"0 writes in < 1 s: {'yes' if rerun_writes == 0 and rerun_s < 1 else 'NO'}"),
        ("ops --help (median of 7)", None, None, statistics.median(startup), None,
         f"< 0.3 s: {'yes' if statistics.median(startup) < 0.3 else 'NO'} (min {min(startup):.3f} s)"),
    ]
    print(f"{args.flows} flows in {args.namespaces} namespaces, emulator latency {args.latency * 1000:.0f} ms per request\n")
    print(f"{'run':28} {'requests':>9} {'writes':>7} {'seconds':>8} {'latency s':>10} {'client CPU s':>13}  target")
    for name, requests, writes, seconds, cpu, target in rows:
        ratio = name.startswith("ratio")
        requests_text = "" if requests is None else (f"{requests:.1f}x" if ratio else str(requests))
        writes_text = "" if writes is None else str(writes)
        seconds_text = f"{seconds:.1f}x" if ratio else f"{seconds:.3f}"
        latency_text = "" if ratio or requests is None else f"{requests * args.latency:.2f}"
        cpu_text = "" if cpu is None else f"{cpu:.3f}"
        print(f"{name:28} {requests_text:>9} {writes_text:>7} {seconds_text:>8} {latency_text:>10} {cpu_text:>13}  {target}")
    print("\nlatency s: requests x the injected latency. client CPU s: the client's own work (ops: parsing and\n"
          "validating every local file). The rest is the emulator's work per flow, in this process: it parses each\n"
          "flow once per request carrying it (ops sends each twice: validate, then the bulk write) and checks every\n"
          "response against Kestra's OpenAPI spec.")
    if violations:
        print(f"\nwarning: the emulator reported {len(violations)} spec violations (first: {violations[0]})")


if __name__ == "__main__":
    main()
