"""Runs the VM's real boot script (infra/vm/boot.sh, with bash) against a scratch root directory, with
stub commands standing in for the machine: the metadata server and Secret Manager (behind `curl`, as
strict as the real ones about headers, paths and tokens), the data disk (`blkid`, `mkfs.ext4`,
`resize2fs`, `mount`, `mountpoint`), packages (`apt-get`, `dpkg-query`, `dpkg`), `systemctl` and `docker`.
jq, base64, install, mkdir and mv are the real tools. Every stub call is logged in order."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from tests.infra.validators import missing_tool

BOOT_SCRIPT = PROJECT_ROOT / "infra" / "vm" / "boot.sh"
TOKEN = "ya29.stub-access-token-0123456789"

_COMMON = r'''
import json, os, sys
STATE = os.environ["STUB_STATE"]
def log(*words):
    with open(os.path.join(STATE, "calls.log"), "a") as f:
        f.write(" ".join(words) + "\n")
'''

# curl is the one stub with real logic (two HTTP services and their auth), so it is Python.
PYTHON_STUBS = {
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
}

# The simple stubs are bash (they start ~10x faster than Python); same log and state files.
_SHELL_COMMON = r"""set -eu
log() { printf '%s\n' "$*" >>"$STUB_STATE/calls.log"; }
has_line() { [ -f "$STUB_STATE/$1" ] && grep -qxF -- "$2" "$STUB_STATE/$1"; }
add_line() { printf '%s\n' "$2" >>"$STUB_STATE/$1"; }
"""

SHELL_STUBS = {
    "blkid": r"""
device="${!#}"
log blkid "$device"
if [ -n "${STUB_BLKID_EXIT:-}" ]; then exit "$STUB_BLKID_EXIT"; fi
if has_line formatted "$device"; then exit 0; else exit 2; fi
""",
    "mkfs.ext4": r"""
device="${!#}"
log mkfs.ext4 "$device"
add_line formatted "$device"
""",
    "resize2fs": r"""
device="${!#}"
if ! has_line formatted "$device" || ! has_line mounted-devices "$device"; then
  echo "resize2fs: $device has no mounted ext4 filesystem" >&2; exit 1
fi
log resize2fs "$device"
""",
    "mount": r"""
target="${!#}"
[ -d "$target" ] || { echo "mount: $target: mount point does not exist" >&2; exit 32; }
log mount "$@"
add_line mounted "$target"
add_line mounted-devices "${@: -2:1}"
""",
    "mountpoint": r"""
if has_line mounted "${!#}"; then exit 0; else exit 32; fi
""",
    "udevadm": r"""
log udevadm "$@"
""",
    "systemctl": r"""
log systemctl "$@"
""",
    "dpkg": r"""
[ "$*" = "--print-architecture" ] || { echo "dpkg stub: unexpected arguments: $*" >&2; exit 2; }
echo amd64
""",
    "dpkg-query": r"""
package="${!#}"
line="$(grep "^${package}=" "$STUB_STATE/installed" 2>/dev/null | tail -n 1 || true)"
[ -n "$line" ] || { echo "dpkg-query: no packages found matching $package" >&2; exit 1; }
printf '%s' "${line#*=}"
""",
    "apt-get": r"""
log apt-get "$@"
installing=no
for word in "$@"; do
  if [ "$installing" = yes ] && [ "${word#-}" = "$word" ]; then
    version="${word#*=}"
    [ "$version" != "$word" ] || version=unpinned
    add_line installed "${word%%=*}=$version"
  fi
  if [ "$word" = install ]; then installing=yes; fi
done
""",
    "docker": r"""
log docker "$@"
if [ "${1:-}" = compose ]; then
  env_file="" compose_file=""
  while [ $# -gt 0 ]; do
    case "$1" in --env-file) env_file="$2"; shift ;; --file) compose_file="$2"; shift ;; esac
    shift
  done
  mode="$(stat -c %a "$env_file")"
  [ "$mode" = 600 ] || { echo "env file readable by others (mode $mode)" >&2; exit 1; }
  cp "$env_file" "$STUB_STATE/compose-env-seen"
  cp "$compose_file" "$STUB_STATE/compose-file-seen"
fi
""",
}


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    missing_tool(f"{name} not installed (the boot script uses it; Debian package {name})")


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
        stubs = {name: f"#!{sys.executable} -S\n{_COMMON}\n{body}" for name, body in PYTHON_STUBS.items()}
        stubs |= {name: f"#!/bin/bash\n{_SHELL_COMMON}{body}" for name, body in SHELL_STUBS.items()}
        for name, text in stubs.items():
            stub = self.bin / name
            stub.write_text(text)
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
