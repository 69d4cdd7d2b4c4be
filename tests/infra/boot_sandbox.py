"""Runs the VM's real boot script (infra/vm/boot.sh, with bash) against a scratch root directory, with
stub commands standing in for the machine: the metadata server and Secret Manager (behind `curl`, as
strict as the real ones about headers, paths and tokens), the data disk (`blkid`, `mkfs.ext4`,
`mount`, `mountpoint`), packages (`apt-get`, `dpkg-query`, `dpkg`), `systemctl` and `docker`.
jq, base64, install, mkdir and mv are the real tools. Every stub call is logged in order."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, running_in_ci

BOOT_SCRIPT = PROJECT_ROOT / "infra" / "vm" / "boot.sh"
TOKEN = "ya29.stub-access-token-0123456789"

_COMMON = r'''
import json, os, sys
STATE = os.environ["STUB_STATE"]
def log(*words):
    with open(os.path.join(STATE, "calls.log"), "a") as f:
        f.write(" ".join(words) + "\n")
def lines(name):
    path = os.path.join(STATE, name)
    return open(path).read().split("\n") if os.path.exists(path) else []
def add_line(name, line):
    with open(os.path.join(STATE, name), "a") as f:
        f.write(line + "\n")
'''

STUBS = {
    "curl": r'''
import base64, urllib.parse
args = sys.argv[1:]
headers, output, url = [], None, None
i = 0
while i < len(args):
    a = args[i]
    if a == "--header":
        value = args[i + 1]
        headers += sys.stdin.read().splitlines() if value == "@-" else [value]
        i += 2; continue
    if a == "--output":
        output = args[i + 1]; i += 2; continue
    if a == "--retry":
        i += 2; continue
    if a.startswith("--"):
        i += 1; continue
    url = a; i += 1
def fail(code, why):
    log("curl", "FAILED", url or "-", why)
    sys.stderr.write(f"curl: ({code}) {why}\n"); sys.exit(code)
if any(h.startswith("Authorization") for h in sys.argv[1:]):
    fail(2, "a credential on the command line")
parsed = urllib.parse.urlparse(url)
if parsed.netloc == "metadata.google.internal":
    if "Metadata-Flavor: Google" not in headers:
        fail(22, "403 missing Metadata-Flavor header")
    path = parsed.path.removeprefix("/computeMetadata/v1/")
    if path == "instance/service-accounts/default/token":
        body = json.dumps({"access_token": os.environ["STUB_TOKEN"], "expires_in": 3599, "token_type": "Bearer"})
    else:
        file = os.path.join(STATE, "metadata", path)
        if not os.path.isfile(file):
            fail(22, "404 " + path)
        body = open(file).read()
    log("curl", "metadata", path)
    sys.stdout.write(body)
elif parsed.netloc == "secretmanager.googleapis.com":
    if f"Authorization: Bearer {os.environ['STUB_TOKEN']}" not in headers:
        fail(22, "401 no bearer token")
    prefix, _, secret = parsed.path.rpartition("/secrets/")
    secret_id, suffix = secret.split("/", 1)
    if not prefix.startswith("/v1/projects/") or suffix != "versions/latest:access":
        fail(22, "404 " + parsed.path)
    file = os.path.join(STATE, "secrets", secret_id)
    if not os.path.isfile(file):
        fail(22, "403 permission denied on " + secret_id)
    log("curl", "secret", secret_id)
    data = base64.b64encode(open(file, "rb").read()).decode()
    sys.stdout.write(json.dumps({"name": parsed.path[4:].replace("/versions/latest:access", "/versions/1"),
                                 "payload": {"data": data, "dataCrc32c": "0"}}))
elif url == "https://download.docker.com/linux/debian/gpg":
    log("curl", "docker-gpg-key")
    open(output, "w").write("-----BEGIN PGP PUBLIC KEY BLOCK-----\nstub\n-----END PGP PUBLIC KEY BLOCK-----\n")
else:
    fail(6, "could not resolve host")
''',
    "blkid": r'''
device = sys.argv[-1]
log("blkid", device)
if os.environ.get("STUB_BLKID_EXIT"):
    sys.exit(int(os.environ["STUB_BLKID_EXIT"]))
sys.exit(0 if device in lines("formatted") else 2)
''',
    "mkfs.ext4": r'''
device = sys.argv[-1]
log("mkfs.ext4", device)
add_line("formatted", device)
''',
    "resize2fs": r'''
device = sys.argv[-1]
if device not in lines("formatted") or device not in lines("mounted-devices"):
    sys.stderr.write(f"resize2fs: {device} has no mounted ext4 filesystem\n"); sys.exit(1)
log("resize2fs", device)
''',
    "mount": r'''
target = sys.argv[-1]
if not os.path.isdir(target):
    sys.stderr.write(f"mount: {target}: mount point does not exist\n"); sys.exit(32)
log("mount", *sys.argv[1:])
add_line("mounted", target)
add_line("mounted-devices", sys.argv[-2])
''',
    "mountpoint": r'''
sys.exit(0 if sys.argv[-1] in lines("mounted") else 32)
''',
    "udevadm": r'''
log("udevadm", *sys.argv[1:])
''',
    "systemctl": r'''
log("systemctl", *sys.argv[1:])
''',
    "dpkg": r'''
assert sys.argv[1:] == ["--print-architecture"], sys.argv
print("amd64")
''',
    "dpkg-query": r'''
package = sys.argv[-1]
versions = dict(line.split("=", 1) for line in lines("installed") if line)
if package not in versions:
    sys.stderr.write(f"dpkg-query: no packages found matching {package}\n"); sys.exit(1)
sys.stdout.write(versions[package])
''',
    "apt-get": r'''
log("apt-get", *sys.argv[1:])
if "install" in sys.argv:
    for word in sys.argv[sys.argv.index("install") + 1:]:
        if not word.startswith("-"):
            name, _, version = word.partition("=")
            add_line("installed", f"{name}={version or 'unpinned'}")
''',
    "docker": r'''
args = sys.argv[1:]
log("docker", *args)
if args[:1] == ["compose"]:
    env_file = args[args.index("--env-file") + 1]
    compose_file = args[args.index("--file") + 1]
    if os.stat(env_file).st_mode & 0o077:
        sys.stderr.write("env file readable by others\n"); sys.exit(1)
    with open(os.path.join(STATE, "compose-env-seen"), "w") as f:
        f.write(open(env_file).read())
    with open(os.path.join(STATE, "compose-file-seen"), "w") as f:
        f.write(open(compose_file).read())
''',
}


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    reason = f"{name} not installed (the boot script uses it; Debian package {name})"
    if running_in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class BootRun:
    returncode: int
    output: str
    calls: list[str]


class BootSandbox:
    """A scratch VM: root directory, stub commands and their state, kept across runs (reboots)."""

    def __init__(self, base: Path, compose: str, secrets: dict[str, str], project: str = "demo-project") -> None:
        require_tool("jq")
        self.root = base / "root"
        self.state = base / "state"
        self.bin = base / "bin"
        for directory in (self.root, self.state / "metadata" / "instance" / "attributes",
                          self.state / "secrets", self.bin):
            directory.mkdir(parents=True)
        self.device.parent.mkdir(parents=True)
        self.device.write_bytes(b"")  # the attached disk's by-id link
        attributes = self.state / "metadata" / "instance" / "attributes"
        attributes.joinpath("kestra-compose").write_text(compose)
        listing = ""
        for index, (name, value) in enumerate(secrets.items()):
            secret_id = f"kestra-prod-secret-{index}"
            self.state.joinpath("secrets", secret_id).write_text(value)
            listing += f"{name} projects/{project}/secrets/{secret_id}\n"
        attributes.joinpath("kestra-secrets").write_text(listing)
        for name, body in STUBS.items():
            stub = self.bin / name
            stub.write_text(f"#!{sys.executable} -S\n{_COMMON}\n{body}")  # -S: no site, faster start
            stub.chmod(0o755)

    @property
    def device(self) -> Path:
        return self.root / "dev" / "disk" / "by-id" / "google-kestra-data"

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def state_lines(self, name: str) -> list[str]:
        path = self.state / name
        return path.read_text().splitlines() if path.exists() else []

    def boot(self, **env: str) -> BootRun:
        """Boot (or reboot): mounts and tmpfs (/run) do not survive; the disk and packages do."""
        log = self.state / "calls.log"
        log.unlink(missing_ok=True)
        for mounts in ("mounted", "mounted-devices"):
            (self.state / mounts).unlink(missing_ok=True)
        shutil.rmtree(self.path("/run"), ignore_errors=True)
        environment = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "KESTRA_BOOT_ROOT": str(self.root), "STUB_STATE": str(self.state), "STUB_TOKEN": TOKEN,
            **env,
        }
        completed = subprocess.run(["bash", str(BOOT_SCRIPT)], env=environment, capture_output=True,
                                   text=True, timeout=60, check=False)
        return BootRun(completed.returncode, completed.stdout + completed.stderr,
                       log.read_text().splitlines() if log.exists() else [])
