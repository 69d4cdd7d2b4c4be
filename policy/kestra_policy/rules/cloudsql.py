"""Cloud SQL instances: no public IP, encrypted connections only, automated backups.

Defaults (pulumi-gcp 10.2.0 sql/_inputs.py): `ip_configuration.ipv4_enabled` is true unless set false
(a public IP); `ssl_mode` left unset allows unencrypted connections; backups are off unless
`backup_configuration.enabled`. Deletion protection is judged by data-protected, with the other data.
"""
from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationPolicy

from .. import types as t
from ..props import UNKNOWN, as_bool, get

_ENCRYPTED = frozenset({"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"})


def validate_cloud_sql(args: Any, report_violation: ReportViolation) -> None:
    if args.resource_type != t.SQL_INSTANCE:
        return
    settings = get(args.props, "settings")
    if settings is UNKNOWN:
        return
    ip = get(settings, "ipConfiguration")
    if ip is not UNKNOWN:
        public = as_bool(get(ip, "ipv4Enabled"))
        if public is not UNKNOWN and public is not False:
            report_violation("settings.ipConfiguration.ipv4Enabled is not false: the instance gets a public IP.")
        mode = get(ip, "sslMode")
        if mode is not UNKNOWN and mode not in _ENCRYPTED and as_bool(get(ip, "requireSsl")) is not True:
            report_violation(f"settings.ipConfiguration.sslMode is {mode or 'not set'}: unencrypted connections "
                             "are accepted.")
    backups = as_bool(get(settings, "backupConfiguration", "enabled"))
    if backups is not UNKNOWN and backups is not True:
        report_violation("settings.backupConfiguration.enabled is not true: no automated backups.")


cloud_sql_private_encrypted_backed_up = ResourceValidationPolicy(
    name="cloud-sql-private-encrypted-backed-up",
    description="Cloud SQL instances have no public IP, accept encrypted connections only and are backed up.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_cloud_sql,
    remediation_steps="Set ip_configuration.ipv4_enabled false with a private_network (Private Service Access), "
    "ssl_mode ENCRYPTED_ONLY, and backup_configuration.enabled true.",
)
