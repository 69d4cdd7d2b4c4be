"""Checking a stack against the policy pack: `ops plan`'s in-process evaluation against the engine's way
(the pack served over gRPC as `pulumi preview --policy-pack` starts it: one Analyze call per resource,
then AnalyzeStack), over the same real plan, in the same run. Also the offline plan itself and the whole
`ops plan` command in a fresh process.

    .venv/bin/python benchmarks/policy_check.py [--stack prod] [--repeat 20] [--copies 1]

--copies N multiplies the plan's resources (renamed) to see how both scale.
"""
from __future__ import annotations

import argparse
import os
import selectors
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import grpc  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc  # noqa: E402

from infra.offline import plan_stack  # noqa: E402
from kestra_policy import pack  # noqa: E402
from kestra_policy.offline import Resource, evaluate, urn  # noqa: E402


def timed(function, repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def serve_pack() -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PULUMI_PROJECT": "kestra-stack", "PULUMI_STACK": "bench", "PULUMI_DRY_RUN": "true"}
    process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."], cwd=REPO / "policy",
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=30):
        process.kill()
        raise SystemExit("the policy pack did not start")
    return process, int(process.stdout.readline())


def struct(values: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--copies", type=int, default=1)
    options = parser.parse_args()

    plan_s, plan = timed(lambda: plan_stack(options.stack), 3)
    resources = [Resource(r.type, f"{r.name}-{copy}" if copy else r.name, r.inputs, r.parent)
                 for copy in range(options.copies) for r in plan.resources]
    offline_s, violations = timed(lambda: evaluate(resources, options.stack), options.repeat)

    process, port = serve_pack()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            requests = [analyzer_pb2.AnalyzeRequest(type=r.type, name=r.name, urn=urn(options.stack, r), properties=struct(r.props))
                        for r in resources]
            stack_request = analyzer_pb2.AnalyzeStackRequest(resources=[
                analyzer_pb2.AnalyzerResource(type=r.type, name=r.name, urn=urn(options.stack, r), properties=struct(r.props))
                for r in resources])

            def engine_round() -> int:
                diagnostics = sum(len(analyzer.Analyze(request).diagnostics) for request in requests)
                return diagnostics + len(analyzer.AnalyzeStack(stack_request).diagnostics)

            engine_s, engine_diagnostics = timed(engine_round, options.repeat)
    finally:
        process.terminate()
        process.wait(timeout=10)

    command_s, _ = timed(lambda: subprocess.run([str(REPO / ".venv" / "bin" / "ops"), "plan", options.stack, "--project-dir", str(REPO)],
                                                capture_output=True, check=False), 3)

    print(f"stack {options.stack}: {len(resources)} resources, {len(pack.POLICIES)} policies, median of {options.repeat} runs "
          f"({len(violations)} violations offline, {engine_diagnostics} diagnostics via the engine protocol)\n")
    rows = [("policy check, in-process (ops plan)", offline_s), ("policy check, served over gRPC (engine's way)", engine_s),
            ("offline plan of the program under mocks", plan_s), ("`ops plan` end to end, fresh process", command_s)]
    print(f"{'step':48} {'ms':>9} {'vs in-process':>14}")
    for label, seconds in rows:
        print(f"{label:48} {seconds * 1000:9.1f} {seconds / offline_s:13.1f}x")


if __name__ == "__main__":
    main()
