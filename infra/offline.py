"""Run the real Pulumi program offline, under Pulumi's mocks, and return what it would create.

Stack config comes from Pulumi.yaml's defaults, then Pulumi.<stack>.yaml, then `config` overrides
(keys without the project prefix) — the order the Pulumi CLI applies. Mock pitfalls handled here:
config defaults are not applied under mocks (set explicitly), dependants need the outputs the engine
would compute (returned by `_computed_outputs`), preview mode would hide dependent inputs (not used),
numbers come back as floats (whole floats turned back into ints), and the runtime's state lives in
context variables (each plan runs in a fresh context, so plans of several stacks in one process stay
apart even though the program's modules stay imported).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import hashlib
import json
import runpy
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.settings import PROJECT, SECRET_KEYS, ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
PROGRAM = REPO_ROOT / "infra" / "__main__.py"
# Stands in for an encrypted (`secure:`) stack value, which cannot be decrypted offline.
SECURE_STAND_IN = "OfflinePlan0nly"
# How the wire format marks a secret value (pulumi.runtime.rpc).
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    inputs: dict
    parent: str | None  # the parent resource's name; None for top-level resources
    secret_inputs: frozenset[str] = frozenset()  # top-level inputs the program marked secret
    protect: bool = False  # `pulumi destroy` refuses to delete it
    retain_on_delete: bool = False  # left in place (not deleted) when removed from the stack
    ignore_changes: tuple[str, ...] = ()  # inputs whose changes (or drift read back) never cause an update
    delete_before_replace: bool = False  # a replacement is created only after the old one is deleted
    # The name of the explicit provider resource managing it; None when the engine would pick the default
    # provider (configured from the `<package>:*` stack config and the environment of whoever runs `up`).
    provider: str | None = None


@dataclass(frozen=True)
class OfflinePlan:
    stack: str
    resources: tuple[PlannedResource, ...]
    outputs: dict
    secret_outputs: frozenset[str]

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def named(self, name: str) -> PlannedResource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)


def _config_string(value: Any) -> str:
    """A config value as Pulumi hands it to a program: strings as-is, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


class StackFileError(ValueError):
    """A project or stack file that is missing or not YAML; the message names the file."""


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such file") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise StackFileError(f"{path}: not valid YAML{where}") from None


def load_stack_config(stack: str, project_dir: Path = REPO_ROOT,
                      overrides: Mapping[str, str] | None = None) -> tuple[dict[str, str], set[str]]:
    """(config key -> string value, secret keys), keys without the project prefix."""
    declared = (_read_yaml(project_dir / "Pulumi.yaml") or {}).get("config") or {}
    values = {key: _config_string(spec["default"]) for key, spec in declared.items()
              if isinstance(spec, dict) and "default" in spec}
    secret: set[str] = set()

    stack_path = project_dir / f"Pulumi.{stack}.yaml"
    stack_config = (_read_yaml(stack_path) or {}).get("config") or {}
    for full_key, value in stack_config.items():
        namespace, _, key = str(full_key).rpartition(":")
        if namespace != PROJECT:
            continue  # provider config such as gcp:project
        if key not in declared:
            raise ConfigError(key, f"is set in {stack_path.name} but not declared in Pulumi.yaml")
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = SECURE_STAND_IN
            secret.add(key)
        else:
            values[key] = _config_string(value)
    for key, value in (overrides or {}).items():
        if key not in declared:
            raise ConfigError(key, "is not declared in Pulumi.yaml")
        values[key] = value
        secret.discard(key)
        if key in SECRET_KEYS:
            secret.add(key)
    return values, secret


def load_provider_config(stack: str, project_dir: Path = REPO_ROOT,
                         overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The stack file's provider config (`docker:host`, `gcp:project`, … full keys, string values) with
    `overrides` on top: the program sees it as under the CLI (and decides what it reads)."""
    stack_config = (_read_yaml(project_dir / f"Pulumi.{stack}.yaml") or {}).get("config") or {}
    values = {str(key): _config_string(value) for key, value in stack_config.items()
              if str(key).rpartition(":")[0] not in ("", PROJECT)}
    return values | dict(overrides or {})


def _fake_password(seed: str, length: int) -> str:
    """Deterministic alphanumeric stand-in with upper, lower and digits, like random.RandomPassword."""
    alphabet = string.ascii_letters + string.digits
    digest = hashlib.sha256(seed.encode()).digest() * (length // 32 + 1)
    body = "".join(alphabet[byte % len(alphabet)] for byte in digest[: max(length - 3, 1)])
    return ("Aa1" + body)[:length]


def _fake_service_account_key(email: str) -> str:
    document = {
        "type": "service_account",
        "project_id": email.split("@", 1)[1].split(".", 1)[0],
        "private_key_id": "0" * 40,
        "private_key": "-----BEGIN PRIVATE KEY-----\nOFFLINE-PLAN-NOT-A-KEY\n-----END PRIVATE KEY-----\n",
        "client_email": email,
        "client_id": "0" * 21,
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


def _computed_outputs(type_: str, name: str, inputs: dict, emails: dict[str, str],
                      generation: int = 0, exit_codes: Mapping[str, int] | None = None) -> dict:
    """What the engine would compute for a resource, as far as its dependants read it."""
    if type_ == "docker:index/container:Container" and inputs.get("attach"):
        # The provider waits for an attached container to stop, then reads State.ExitCode into exitCode.
        return {"exitCode": (exit_codes or {}).get(name, 0)}
    if type_ == "random:index/randomPassword:RandomPassword":
        seed = name if generation == 0 else f"{name}#{generation}"
        return {"result": _fake_password(seed, int(inputs.get("length", 16)))}
    if type_ == "gcp:serviceaccount/account:Account":
        email = f"{inputs['accountId']}@{inputs.get('project', 'project')}.iam.gserviceaccount.com"
        resource_id = f"projects/{inputs.get('project', 'project')}/serviceAccounts/{email}"
        emails[resource_id] = email
        return {"email": email, "name": resource_id}
    if type_ == "gcp:serviceaccount/key:Key":
        email = emails.get(inputs.get("serviceAccountId", ""), "sa@project.iam.gserviceaccount.com")
        return {"privateKey": _fake_service_account_key(email)}
    if type_ == "docker:index/remoteImage:RemoteImage":
        return {"imageId": f"sha256:{hashlib.sha256(str(inputs.get('name')).encode()).hexdigest()}"}
    if type_ == "gcp:compute/address:Address":
        return {"address": "203.0.113.10"}
    if type_ == "gcp:sql/databaseInstance:DatabaseInstance":
        return {"privateIpAddress": "10.70.0.3"}
    if type_ == "gcp:container/cluster:Cluster":
        endpoint = f"gke-0123456789abcdef-offline.{inputs.get('location', 'location')}.gke.goog"
        return {"controlPlaneEndpointsConfig": {"dnsEndpointConfig": {"endpoint": endpoint,
                                                                      "allowExternalTraffic": True}}}
    return {}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE


def _plain(value: Any) -> Any:
    """Mock inputs as plain data: secrets unwrapped, whole floats back to ints (the wire format has
    only floats)."""
    if _is_secret(value):
        return _plain(value["value"])
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _provider_name(reference: str) -> str | None:
    """A provider reference (`<urn>::<id>`, as the SDK sends it) -> the provider resource's name."""
    if not reference:
        return None
    urn = reference.rpartition("::")[0]
    return urn.rpartition("::")[2]


def _plan(stack: str, project_dir: Path, config: Mapping[str, str] | None,
          provider_config: Mapping[str, str] | None, generation: int,
          exit_codes: Mapping[str, int] | None) -> OfflinePlan:
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime.settings import SETTINGS, get_root_resource
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    values, secret_keys = load_stack_config(stack, project_dir, config)
    recorded: list[PlannedResource] = []
    parents: dict[str, str] = {}  # urn -> resource name
    emails: dict[str, str] = {}

    class RecordingMocks(pulumi_mocks.Mocks):
        def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
            state = dict(args.inputs)
            state.update(_computed_outputs(args.typ, args.name, args.inputs, emails, generation, exit_codes))
            return f"{args.name}-id", state

        def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, None]:
            return {}, None

    class RecordingMonitor(pulumi_mocks.MockMonitor):
        def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
            # Pulumi's mock monitor runs on executor threads and gives each one an event loop it never
            # closes; left to interpreter shutdown, those loops die noisily. Lend it one per call instead.
            call_loop = asyncio.new_event_loop()
            asyncio.set_event_loop(call_loop)
            try:
                response = super().RegisterResource(request)
            finally:
                asyncio.set_event_loop(None)
                call_loop.close()
            if request.type != "pulumi:pulumi:Stack":
                from pulumi.runtime import rpc

                parent = parents.get(request.parent)
                wire = rpc.deserialize_properties(request.object, keep_unknowns=True)
                secret = frozenset(key for key, value in wire.items() if _is_secret(value))
                recorded.append(PlannedResource(
                    request.type, request.name, _plain(wire), parent, secret,
                    protect=bool(request.protect), retain_on_delete=bool(request.retainOnDelete),
                    ignore_changes=tuple(request.ignoreChanges),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    provider=_provider_name(request.provider)))
                parents[response.urn] = request.name
            return response

    # An event loop of our own, closed afterwards: nothing of this run outlives it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False,
                             monitor=RecordingMonitor(mocks))
    pulumi.runtime.set_all_config(
        {f"{PROJECT}:{key}": value for key, value in values.items()}
        | load_provider_config(stack, project_dir, provider_config),
        [f"{PROJECT}:{key}" for key in secret_keys])

    outputs: dict[str, Any] = {}
    secret_outputs: set[str] = set()

    async def run_program() -> None:
        runpy.run_path(str(PROGRAM), run_name="__main__")
        root = get_root_resource()
        for output_name, value in root.outputs.items():
            output = pulumi.Output.from_input(value)
            outputs[output_name] = _plain(await output.future())
            if await output.is_secret():
                secret_outputs.add(output_name)

    try:
        _sync_await(run_pulumi_func(run_program))
    except BaseException:
        # The error is raised here; the outputs that carried it, dropped unread, need not report it again.
        loop.set_exception_handler(lambda _loop, _context: None)
        raise
    finally:
        # The runtime's pending RPCs and outputs are shared by every run; a program that failed (e.g. on
        # a failed run-once step) leaves its own there, bound to this loop, which the next run would
        # wait for. Leave none behind (pulumi.runtime.mocks.test clears them too).
        SETTINGS.rpc_manager.clear()
        SETTINGS.outputs.clear()
        asyncio.set_event_loop(None)
        loop.close()
    resources = tuple(sorted(recorded, key=lambda resource: (resource.type, resource.name)))
    return OfflinePlan(stack=stack, resources=resources, outputs=outputs,
                       secret_outputs=frozenset(secret_outputs))


def plan_stack(stack: str, project_dir: Path = REPO_ROOT, config: Mapping[str, str] | None = None,
               provider_config: Mapping[str, str] | None = None, generation: int = 0,
               exit_codes: Mapping[str, int] | None = None) -> OfflinePlan:
    """Plan `stack` offline; `config` overrides project keys (without prefix), `provider_config` provider
    keys (`docker:host`). Invalid config raises ConfigError before any resource is registered.

    `generation` > 0 stands for a later creation of the stack (e.g. `up` after `destroy`): every
    generated password then differs from generation 0's, as new RandomPasswords would. `exit_codes`: the
    code an attached (run-once) container exits with, by resource name (default 0)."""
    return contextvars.Context().run(_plan, stack, Path(project_dir), config, provider_config, generation,
                                     exit_codes)
