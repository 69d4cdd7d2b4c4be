"""How operators reach the VM's services, as commands and URLs (pure; the stack exports them).

Kestra: an IAP TCP tunnel from a local port to Kestra's port on the VM, so `kestra_url` is local.
pgAdmin and the taxi Postgres listen on the VM's loopback only: an SSH session through IAP forwards them.
"""

from __future__ import annotations

from dataclasses import dataclass

LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class VmAccess:
    instance: str
    zone: str
    project: str
    kestra_vm_port: int
    tunnel_port: int
    pgadmin_port: int
    postgres_port: int

    def kestra_tunnel_command(self) -> str:
        return (f"gcloud compute start-iap-tunnel {self.instance} {self.kestra_vm_port} "
                f"--local-host-port=localhost:{self.tunnel_port} --zone {self.zone} "
                f"--project {self.project}")

    def ssh_tunnel_command(self) -> str:
        """pgAdmin and Postgres: the same ports on the laptop as on the VM's loopback."""
        forwards = " ".join(f"-L {port}:{LOCALHOST}:{port}" for port in (self.pgadmin_port, self.postgres_port))
        return (f"gcloud compute ssh {self.instance} --zone {self.zone} --project {self.project} "
                f"--tunnel-through-iap -- -N {forwards}")

    def kestra_tunnel_url(self) -> str:
        return f"http://{LOCALHOST}:{self.tunnel_port}"

    def pgadmin_url(self) -> str:
        return f"http://{LOCALHOST}:{self.pgadmin_port}"
