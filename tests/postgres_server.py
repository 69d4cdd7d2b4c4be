"""A real, throw-away PostgreSQL cluster for tests: initdb + pg_ctl in a temp dir, loopback only.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` system user
(created by Debian's postgresql package) and every server binary runs through `runuser`.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path:
    on_path = shutil.which("initdb")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise PostgresUnavailable("no initdb on PATH or under /usr/lib/postgresql/*/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    password: str
    durable: bool = False  # True: keep PostgreSQL's crash-safety defaults (fsync etc.), for benchmarks

    @property
    def datadir(self) -> Path:
        return self.root / "data"

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
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> "PostgresServer":
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        pwfile.chmod(0o600)
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


def start_postgres(durable: bool = False) -> PostgresServer:
    """Start a fresh cluster on a free loopback port; the caller stops it.

    Tests want speed (fsync off); `durable=True` keeps the server's defaults, as the postgres image runs.
    """
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="kestra-stack-pg-"))
    server = PostgresServer(bindir=bindir, root=root, port=free_port(),
                            password=secrets.token_urlsafe(18), durable=durable)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise
