"""Cloud SQL for PostgreSQL on a private IP: Kestra's backend (database `kestra`) and the taxi data
(`ny_taxi`), each with its own user and generated password.

Arguments checked against pulumi-gcp 10.2.0 (sql/_inputs.py): `edition` must be set to ENTERPRISE for
db-custom and shared-core tiers (left unset, the API picks ENTERPRISE_PLUS for PostgreSQL 16+, which
refuses them); `ip_configuration.ssl_mode` ENCRYPTED_ONLY refuses unencrypted connections without
requiring client certificates; `settings.deletion_protection_enabled` guards the instance on every
surface (console, gcloud, API), `deletion_protection` guards it in Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.gke.network import GkeNetwork
from infra.services import (
    KESTRA_DATABASE,
    KESTRA_DB_PASSWORD,
    KESTRA_DB_USER,
    TAXI_DATABASE,
    TAXI_DB_PASSWORD,
    TAXI_USER,
)

DATABASE_VERSION = "POSTGRES_18"  # the same major version as the postgres:18.6 containers elsewhere
EDITION = "ENTERPRISE"
SSL_MODE = "ENCRYPTED_ONLY"
DISK_GB = 20
BACKUP_START = "03:00"  # UTC
BACKUPS_KEPT = 7
LOG_RETENTION_DAYS = 7  # point-in-time recovery window


@dataclass(frozen=True)
class CloudSql:
    instance: gcp.sql.DatabaseInstance
    private_ip: pulumi.Output[str]
    users: tuple[gcp.sql.User, ...]  # Kestra may connect once these exist


def create_cloud_sql(name: str, physical_name: str, project: str, region: str, tier: str,
                     network: GkeNetwork, passwords: Mapping[str, pulumi.Output[str]], protect_data: bool,
                     labels: dict[str, str], opts: pulumi.ResourceOptions) -> CloudSql:
    data = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
        protect=protect_data, depends_on=[network.sql_peering]))  # the private IP needs the peering
    instance = gcp.sql.DatabaseInstance(
        f"{name}-sql", name=physical_name, project=project, region=region,
        database_version=DATABASE_VERSION, deletion_protection=protect_data,
        settings=gcp.sql.DatabaseInstanceSettingsArgs(
            tier=tier, edition=EDITION, availability_type="ZONAL",
            disk_type="PD_SSD", disk_size=DISK_GB, disk_autoresize=True,
            deletion_protection_enabled=protect_data,
            ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                ipv4_enabled=False, private_network=network.network.id, ssl_mode=SSL_MODE),
            backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                enabled=True, start_time=BACKUP_START, point_in_time_recovery_enabled=True,
                transaction_log_retention_days=LOG_RETENTION_DAYS,
                backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                    retained_backups=BACKUPS_KEPT)),
            user_labels=labels,
        ),
        opts=data)
    child = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect_data))
    # ABANDON (pulumi-gcp sql/user.py, sql/database.py): the API cannot drop a PostgreSQL user that owns
    # objects (Kestra's tables), nor a database Kestra is still connected to; both go with the instance.
    # With protectData the users stay in the stack with the instance: after `destroy --exclude-protected`
    # and a new `up`, new generated passwords update them (users.update), so the kept data and the new
    # Secrets agree — the kept-data-credentials rule of the other targets, done by Cloud SQL's API.
    users = []
    for database, user, secret in ((KESTRA_DATABASE, KESTRA_DB_USER, KESTRA_DB_PASSWORD),
                                   (TAXI_DATABASE, TAXI_USER, TAXI_DB_PASSWORD)):
        gcp.sql.Database(f"{name}-db-{database.replace('_', '-')}", name=database, project=project,
                         instance=instance.name, deletion_policy="ABANDON", opts=child)
        users.append(gcp.sql.User(f"{name}-user-{user}", name=user, project=project, instance=instance.name,
                                  password=passwords[secret], deletion_policy="ABANDON", opts=child))
    return CloudSql(instance=instance, private_ip=instance.private_ip_address, users=tuple(users))
