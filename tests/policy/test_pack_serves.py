"""The pack as the Pulumi engine runs it: `pulumi preview --policy-pack policy/` reads PulumiPolicy.yaml
and, for runtime python, starts `<virtualenv>/bin/python -u -m pulumi.policy <engine> .` in the pack's
directory (the pulumi-analyzer-policy-python shim), reads the gRPC port from the first stdout line and
talks to the Analyzer service. This test does the same, then stops the process it started."""
from __future__ import annotations

import os
import selectors
import subprocess
import time
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE

from infra.offline import plan_stack
from kestra_policy import pack
from kestra_policy.offline import Resource, evaluate, urn

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
STARTUP_DEADLINE_S = 30


def _struct(values: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def _read_port(process: subprocess.Popen) -> int:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            if not line:
                break
            return int(line.decode().strip())
        if process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"the pack printed no port; stderr:\n{process.stderr.read().decode()}")


@pytest.fixture(scope="module")
def analyzer():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    virtualenv = (POLICY_DIR / project["runtime"]["options"]["virtualenv"]).resolve()
    python = virtualenv / "bin" / "python"
    assert python.is_file(), f"PulumiPolicy.yaml's virtualenv {virtualenv} has no python"
    env = {**os.environ, "PULUMI_PROJECT": "kestra-stack", "PULUMI_STACK": "prod", "PULUMI_DRY_RUN": "true"}
    env.pop("PYTHONPATH", None)  # the engine does not put the repository on the path
    process = subprocess.Popen([str(python), "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."], cwd=POLICY_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        port = _read_port(process)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def test_engine_sees_every_policy_with_its_level_and_config_schema(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
    assert info.name == pack.NAME and info.supportsConfig
    served = {p.name: p for p in info.policies}
    assert list(served) == [p.name for p in pack.POLICIES]
    assert served["images-pinned"].enforcementLevel == analyzer_pb2.MANDATORY
    assert served["service-account-keys-only-where-needed"].enforcementLevel == analyzer_pb2.ADVISORY
    assert served["bucket-and-dataset-same-location"].policy_type == analyzer_pb2.POLICY_TYPE_STACK
    assert "movingTags" in served["images-pinned"].configSchema.properties


def test_engine_gets_violations_for_a_bad_resource_and_none_for_unknowns(analyzer):
    bad_bucket = analyzer_pb2.AnalyzeRequest(
        type="gcp:storage/bucket:Bucket", name="b", urn="urn:pulumi:prod::kestra-stack::gcp:storage/bucket:Bucket::b",
        properties=_struct({"location": "US", "forceDestroy": True, "uniformBucketLevelAccess": True,
                            "publicAccessPrevention": "enforced", "labels": {"env": "prod", "app": "kestra"}}))
    diagnostics = analyzer.Analyze(bad_bucket, timeout=10).diagnostics
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [("data-protected", analyzer_pb2.MANDATORY)]

    preview_bucket = analyzer_pb2.AnalyzeRequest(
        type="gcp:storage/bucket:Bucket", name="b", urn="urn:pulumi:prod::kestra-stack::gcp:storage/bucket:Bucket::b",
        properties=_struct({"location": "US", "forceDestroy": UNKNOWN_BOOLEAN_VALUE, "uniformBucketLevelAccess": True,
                            "publicAccessPrevention": "enforced", "labels": {"env": "prod", "app": "kestra"}}))
    assert list(analyzer.Analyze(preview_bucket, timeout=10).diagnostics) == []


def test_engine_config_changes_a_policys_verdict(analyzer):
    request = analyzer_pb2.AnalyzeRequest(
        type="docker:index/remoteImage:RemoteImage", name="i", urn="urn:pulumi:prod::kestra-stack::docker:index/remoteImage:RemoteImage::i",
        properties=_struct({"name": "kestra/kestra:develop"}))
    assert list(analyzer.Analyze(request, timeout=10).diagnostics) == []
    config = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.ADVISORY,
                                       properties=_struct({"movingTags": ["latest", "develop"]}))
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={"images-pinned": config}), timeout=10)
    try:
        diagnostics = analyzer.Analyze(request, timeout=10).diagnostics
        assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [("images-pinned", analyzer_pb2.ADVISORY)]
    finally:
        analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(), timeout=10)


def test_engine_runs_stack_policies(analyzer):
    def resource(type_: str, name: str, props: dict) -> analyzer_pb2.AnalyzerResource:
        return analyzer_pb2.AnalyzerResource(type=type_, name=name, urn=f"urn:pulumi:prod::kestra-stack::{type_}::{name}",
                                             properties=_struct(props))

    request = analyzer_pb2.AnalyzeStackRequest(resources=[
        resource("gcp:storage/bucket:Bucket", "bucket", {"location": "EU"}),
        resource("gcp:bigquery/dataset:Dataset", "dataset", {"location": "US"}),
    ])
    diagnostics = analyzer.AnalyzeStack(request, timeout=10).diagnostics
    assert [d.policyName for d in diagnostics] == ["bucket-and-dataset-same-location"]
    assert diagnostics[0].urn.endswith("::dataset")


def test_engine_and_ops_plan_agree_on_a_real_bad_plan(analyzer):
    config = {"gcpProject": "policy-test-project", "protectData": "false", "vmExternalIp": "true",
              "vmAllowedCidrs": '["10.0.0.0/8"]', "labels": '["app=kestra-stack"]'}
    resources = [Resource(r.type, r.name, r.inputs, r.parent) for r in plan_stack("prod", config=config).resources]
    offline = {(v.policy, urn("prod", r)) for v in evaluate(resources, "prod")
               for r in resources if r.name == v.resource_name}
    served: set[tuple[str, str]] = set()
    for resource in resources:
        request = analyzer_pb2.AnalyzeRequest(type=resource.type, name=resource.name, urn=urn("prod", resource),
                                              properties=_struct(resource.props))
        served |= {(d.policyName, request.urn) for d in analyzer.Analyze(request, timeout=10).diagnostics}
    stack_request = analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(type=r.type, name=r.name, urn=urn("prod", r), properties=_struct(r.props))
        for r in resources])
    served |= {(d.policyName, d.urn) for d in analyzer.AnalyzeStack(stack_request, timeout=10).diagnostics}
    assert {policy for policy, _ in offline} == {"vm-public-ip-restricted", "data-protected", "required-labels"}
    assert served == offline
