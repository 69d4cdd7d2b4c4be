"""Runs the VM's real boot script (infra/vm/boot.sh, with bash) against a scratch root directory, with
stub commands standing in for the machine: the metadata server and Secret Manager (behind `curl`, as
strict as the real ones about headers, paths, tokens and curl's --fail/--retry/--write-out), the data disk
(`blkid`, `mkfs.ext4`, `resize2fs`, `mount`, `mountpoint`), packages (`apt-get`, `dpkg-query`, `dpkg`),
`systemctl`, `docker`, `sleep` (logged, returns at once: no test waits) and `chown` (it records the owner,
so the tests need not run as root). jq, base64, wipefs, cmp, install, chmod, mkdir, mv and sha256sum are
the real tools; the disk is a file wipefs and cmp read. Every stub call is logged in order."""

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
DISK_BYTES = 64 * 1024 * 1024

_COMMON = r'''
import json, os, sys
STATE = os.environ["STUB_STATE"]
def log(*words):
    with open(os.path.join(STATE, "calls.log"), "a") as f:
        f.write(" ".join(words) + "\n")
'''

# curl is the one stub with real logic (two HTTP services and their auth), so it is Python.
PYTHON_STUBS = {
    "curl": r"""
import base64, urllib.parse
args = sys.argv[1:]
headers, output, url, write_out, retries = [], None, None, None, 0
fail_on_error = "--fail" in args
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
        retries = int(args[i + 1]); i += 2; continue
    if a == "--write-out":
        write_out = args[i + 1]; i += 2; continue
    if a in ("--fail", "--silent", "--show-error", "--location", "--retry-connrefused"):
        i += 1; continue
    if a.startswith("-"):
        sys.stderr.write(f"curl stub: option {a} not understood\n"); sys.exit(2)
    url = a; i += 1
def fail(code, why):
    log("curl", "FAILED", url or "-", why)
    sys.stderr.write(f"curl: ({code}) {why}\n"); sys.exit(code)
if any(h.startswith("Authorization") for h in sys.argv[1:]):
    fail(2, "a credential on the command line")

def take(counter):
    # A state file holding how many more times a fault happens ("always": every time).
    path = os.path.join(STATE, counter)
    if not os.path.isfile(path):
        return False
    left = open(path).read().strip()
    if left == "always":
        return True
    if int(left) <= 0:
        return False
    open(path, "w").write(str(int(left) - 1))
    return True

def google_error(status, reason, message):
    return status, json.dumps({"error": {"code": status, "message": message, "status": reason}})

def answer():
    # (HTTP status, body) of one request
    parsed = urllib.parse.urlparse(url)
    if parsed.netloc == "metadata.google.internal":
        if "Metadata-Flavor: Google" not in headers:
            return 403, "Missing Metadata-Flavor:Google header."
        path = parsed.path.removeprefix("/computeMetadata/v1/")
        if path == "instance/service-accounts/default/token":
            body = json.dumps({"access_token": os.environ["STUB_TOKEN"], "expires_in": 3599, "token_type": "Bearer"})
        else:
            file = os.path.join(STATE, "metadata", path)
            if not os.path.isfile(file):
                return 404, "Not Found"
            body = open(file).read()
        log("curl", "metadata", path)
        return 200, body
    if parsed.netloc == "secretmanager.googleapis.com":
        if f"Authorization: Bearer {os.environ['STUB_TOKEN']}" not in headers:
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        prefix, _, secret = parsed.path.rpartition("/secrets/")
        secret_id, suffix = secret.split("/", 1)
        if not prefix.startswith("/v1/projects/") or suffix != "versions/latest:access":
            return 404, "<html>404 Not Found</html>"
        file = os.path.join(STATE, "secrets", secret_id)
        # Without the accessor binding Secret Manager answers 403 whether or not the secret exists.
        if take(os.path.join("secrets-denied", secret_id)) or not os.path.isfile(file):
            log("curl", "secret-denied", secret_id)
            return google_error(403, "PERMISSION_DENIED", f"Permission 'secretmanager.versions.access' denied "
                                f"for resource '{parsed.path[4:-7]}' (or it may not exist).")
        if take(os.path.join("secrets-failing", secret_id)):
            log("curl", "secret-internal-error", secret_id)
            return google_error(500, "INTERNAL", "Internal error encountered.")
        # A secret whose first version is not there yet: 404 NOT_FOUND.
        if take(os.path.join("secrets-versionless", secret_id)):
            log("curl", "secret-not-found", secret_id)
            return google_error(404, "NOT_FOUND", f"Secret Version [{parsed.path[4:-7]}] not found.")
        log("curl", "secret", secret_id)
        data = base64.b64encode(open(file, "rb").read()).decode()
        return 200, json.dumps({"name": parsed.path[4:].replace("/versions/latest:access", "/versions/1"),
                                "payload": {"data": data, "dataCrc32c": "0"}})
    if url == "https://download.docker.com/linux/debian/gpg":
        if take("docker-gpg-unavailable"):
            log("curl", "docker-gpg-key", "503")
            return 503, "Service Unavailable"
        log("curl", "docker-gpg-key")
        return 200, "-----BEGIN PGP PUBLIC KEY BLOCK-----\nstub\n-----END PGP PUBLIC KEY BLOCK-----\n"
    fail(6, "Could not resolve host")

# curl's --retry repeats a transient HTTP answer (408, 429, 500, 502, 503, 504), never a 403 or 404.
for attempt in range(retries + 1):
    status, body = answer()
    if status not in (408, 429, 500, 502, 503, 504):
        break
if status >= 400 and fail_on_error:
    fail(22, f"The requested URL returned error: {status}")
if output:
    open(output, "w").write(body)
else:
    sys.stdout.write(body)
if write_out is not None:
    sys.stdout.write(write_out.replace("\\n", "\n").replace("%{http_code}", str(status)))
""",
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
    "sleep": r"""
[[ "$*" =~ ^[1-9][0-9]*$ ]] || { echo "sleep stub: expected whole seconds, got: $*" >&2; exit 2; }
log sleep "$@"
""",
    "udevadm": r"""
log udevadm "$@"
""",
    "systemctl": r"""
log systemctl "$@"
""",
    "chown": r"""
[ $# -eq 2 ] || { echo "chown stub: unexpected arguments: $*" >&2; exit 2; }
[[ "$1" =~ ^[0-9]+:[0-9]+$ ]] || { echo "chown: invalid user: '$1'" >&2; exit 1; }
[ -e "$2" ] || { echo "chown: cannot access '$2': No such file or directory" >&2; exit 1; }
log chown "$@"
add_line owners "$1 $2"
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


def require_tool(name: str, package: str | None = None) -> str:
    path = shutil.which(name)
    if path:
        return path
    missing_tool(f"{name} not installed (the boot script uses it; Debian package {package or name})")


@dataclass(frozen=True)
class BootRun:
    returncode: int
    output: str
    calls: list[str]


class BootSandbox:
    """A scratch VM: root directory, stub commands and their state, kept across runs (reboots)."""

    def __init__(self, base: Path, compose: str, secrets: dict[str, str],
                 files: dict[str, tuple[str, int, int]] | None = None, project: str = "demo-project") -> None:
        """`secrets`: env secrets, name -> value; `files`: secret files, name -> (content, owner, mode)."""
        require_tool("jq")
        require_tool("wipefs", "util-linux")
        require_tool("cmp", "diffutils")
        self.root = base / "root"
        self.state = base / "state"
        self.bin = base / "bin"
        for directory in (self.root, self.state / "metadata" / "instance" / "attributes",
                          self.state / "secrets", self.bin):
            directory.mkdir(parents=True)
        self.device.parent.mkdir(parents=True)
        # The attached disk's by-id link: a new persistent disk reads as zeros (sparse, so it costs nothing).
        # wipefs and cmp read it for real.
        with self.device.open("wb") as disk:
            disk.truncate(DISK_BYTES)
        attributes = self.state / "metadata" / "instance" / "attributes"
        attributes.joinpath("kestra-compose").write_text(compose)
        listing = ""
        entries = [(name, value, None) for name, value in secrets.items()]
        entries += [(name, content, (owner, mode)) for name, (content, owner, mode) in (files or {}).items()]
        for index, (name, value, file_mode) in enumerate(entries):
            secret_id = f"kestra-prod-secret-{index}"
            self.state.joinpath("secrets", secret_id).write_bytes(value.encode())
            resource = f"projects/{project}/secrets/{secret_id}"
            listing += (f"env {name} {resource}\n" if file_mode is None
                        else f"file {name} {resource} {file_mode[0]} {file_mode[1]:04o}\n")
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
