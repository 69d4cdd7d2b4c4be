"""The VM's boot script: shellcheck, and its behaviour on first boot, on reboot and on failures, run
for real by bash against a scratch root with stub machine commands (tests/infra/boot_sandbox.py)."""

from __future__ import annotations

import base64
import stat
import subprocess

import pytest
import yaml

from tests.infra.boot_sandbox import BOOT_SCRIPT, TOKEN, BootRun, BootSandbox, require_tool
from tests.infra.validators import compose_resolved, shellcheck
from tests.infra.vm_plan import plan_sandbox, secret_data

COMPOSE = "name: kestra-stack\nservices: {}\n"
SECRETS = {"KESTRA_PASSWORD": "Kp4ssw0rdGenerated24chrs", "TAXI_DB_PASSWORD": "Tx9dbPasswordGenerated24"}
# A file holds any bytes: quotes, '$', '#', ':', spaces and no trailing newline.
FILES = {"kestra-postgres-password": ("Pg'\"$x #: y\\z9Generated", 999, 0o400),
         "kestra-config": ("kestra:\n  server: {basic-auth: {password: 'a #b'}}\n", 1000, 0o400)}
DOCKER = "5:28.5.2-1~debian.12~bookworm"
COMPOSE_PLUGIN = "2.40.3-1~debian.12~bookworm"
DEVICE_CALLS = ("mkfs.ext4",)


@pytest.fixture
def vm(tmp_path) -> BootSandbox:
    return BootSandbox(tmp_path, COMPOSE, SECRETS)


@pytest.fixture(scope="module")
def rebooted(tmp_path_factory) -> tuple[BootSandbox, BootRun, BootRun]:
    """One VM booted twice: (sandbox, first boot, reboot)."""
    sandbox = BootSandbox(tmp_path_factory.mktemp("vm"), COMPOSE, SECRETS, FILES)
    first = sandbox.boot()
    assert first.returncode == 0, first.output
    return sandbox, first, sandbox.boot()


def index_of(calls: list[str], prefix: str) -> int:
    for index, call in enumerate(calls):
        if call.startswith(prefix):
            return index
    raise AssertionError(f"no call starting with {prefix!r} in {calls}")


def assert_no_secret_in(text: str) -> None:
    assert_no_secret_in_values(text, SECRETS | {name: content for name, (content, _, _) in FILES.items()})


def assert_no_secret_in_values(text: str, secrets: dict[str, str]) -> None:
    for value in [*secrets.values(), TOKEN]:
        assert value not in text


@pytest.mark.validators
def test_boot_script_passes_shellcheck():
    result = shellcheck(BOOT_SCRIPT)
    assert result.ok, result.output


@pytest.mark.validators
def test_shellcheck_rejects_a_broken_boot_script(tmp_path):
    script = tmp_path / "boot.sh"
    text = BOOT_SCRIPT.read_text()
    broken = text.replace('mkdir -p "$DATA_MOUNT"', "mkdir -p $DATA_MOUNT/$UNSET_DIR")
    assert broken != text
    script.write_text(broken)
    result = shellcheck(script)
    assert not result.ok
    assert "SC2086" in result.output or "SC2154" in result.output


def test_first_boot_formats_the_blank_disk_mounts_it_before_docker_and_starts_the_stack(rebooted):
    vm, run, _ = rebooted
    device = str(vm.device)
    assert vm.state_lines("formatted") == [device]
    mounted = vm.state_lines("mounted")
    assert mounted == [str(vm.path("/mnt/disks/kestra-data")), str(vm.path("/var/lib/docker/volumes"))]
    calls = run.calls
    assert index_of(calls, "mount -o") < index_of(calls, f"resize2fs {device}") < index_of(calls, "mount --bind")
    assert index_of(calls, "mount --bind") < index_of(calls, "apt-get -o Acquire::Retries=5 install -y -qq --allow-downgrades")
    assert index_of(calls, "mount --bind") < index_of(calls, "systemctl start docker.service")
    # Docker restarts the containers as it starts: their secret files must be there by then.
    assert index_of(calls, "chown") < index_of(calls, "systemctl start docker.service")
    installed = dict(line.split("=", 1) for line in vm.state_lines("installed"))
    assert (installed["docker-ce"], installed["docker-compose-plugin"]) == (DOCKER, COMPOSE_PLUGIN)
    assert "systemctl disable --quiet docker.service docker.socket" in calls
    compose_up = calls[index_of(calls, "docker compose")]
    assert compose_up.endswith("up --detach --remove-orphans --force-recreate --wait --wait-timeout 900")
    assert (vm.state / "compose-file-seen").read_text() == COMPOSE


def test_secrets_reach_only_a_root_only_env_file_and_owned_files_on_tmpfs_and_never_the_output(rebooted):
    vm, first, second = rebooted
    env_file = vm.path("/run/kestra-stack/secrets.env")
    assert env_file.read_text() == "".join(f"{name}={value}\n" for name, value in SECRETS.items())
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    directory = vm.path("/run/kestra-stack/secrets")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert sorted(path.name for path in directory.iterdir()) == sorted(FILES)
    for name, (content, owner, mode) in FILES.items():
        path = directory / name
        assert path.read_bytes() == content.encode()  # byte for byte, no newline added or lost
        assert stat.S_IMODE(path.stat().st_mode) == mode
        assert f"{owner}:{owner} {vm.path('/run/kestra-stack/staging/secrets')}/{name}" in vm.state_lines("owners")
    assert (vm.state / "compose-env-seen").read_text() == env_file.read_text()
    for run in (first, second):
        assert_no_secret_in(run.output)
        assert_no_secret_in("\n".join(run.calls))


def test_reboot_keeps_the_disk_and_skips_installed_packages(rebooted):
    vm, _, run = rebooted
    assert run.returncode == 0, run.output
    assert not [call for call in run.calls if call.startswith(DEVICE_CALLS)]
    assert not [call for call in run.calls if call.startswith("apt-get")]
    assert vm.state_lines("formatted") == [str(vm.device)]
    assert [call.split()[-1] for call in run.calls if call.startswith("mount ")] == [
        str(vm.path("/mnt/disks/kestra-data")), str(vm.path("/var/lib/docker/volumes"))]
    assert vm.path("/run/kestra-stack/secrets.env").is_file()
    assert any(call.startswith("docker compose") for call in run.calls)


def test_a_disk_that_has_a_filesystem_is_never_formatted(vm):
    vm.state.joinpath("formatted").write_text(f"{vm.device}\n")
    run = vm.boot()
    assert run.returncode == 0, run.output
    assert not [call for call in run.calls if call.startswith(DEVICE_CALLS)]


def test_a_disk_that_cannot_be_probed_is_left_alone_and_nothing_starts(vm):
    run = vm.boot(STUB_BLKID_EXIT="4")
    assert run.returncode != 0
    assert "refusing to format" in run.output
    assert not [call for call in run.calls if call.startswith((*DEVICE_CALLS, "docker", "apt-get"))]


def test_a_missing_data_disk_stops_the_boot_before_docker(vm):
    vm.device.unlink()
    run = vm.boot()
    assert run.returncode != 0
    assert "data disk" in run.output and "not attached" in run.output
    assert not [call for call in run.calls if call.startswith(("docker", "apt-get", "systemctl start"))]


def test_containers_are_recreated_only_when_their_secrets_changed(tmp_path):
    vm = BootSandbox(tmp_path, COMPOSE, SECRETS, FILES)
    runs = [vm.boot(), vm.boot()]
    vm.state.joinpath("secrets", "kestra-prod-secret-3").write_text("kestra: {changed: true}\n")
    runs.append(vm.boot())
    ups = [next(call for call in run.calls if call.startswith("docker compose")) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], runs[-1].output
    assert ["--force-recreate" in up for up in ups] == [True, False, True]
    assert "secrets changed" in runs[2].output


def test_an_unreadable_secret_stops_the_boot_without_a_partial_env_file(vm):
    vm.state.joinpath("secrets", "kestra-prod-secret-1").unlink()
    run = vm.boot()
    assert run.returncode != 0
    assert not any(call.startswith("docker compose") for call in run.calls)
    assert list(vm.path("/run/kestra-stack").iterdir()) == []
    assert_no_secret_in(run.output)


def test_a_secret_an_env_file_cannot_hold_is_named_not_printed(vm):
    bad_value = "with space$and dollar"
    vm.state.joinpath("secrets", "kestra-prod-secret-0").write_text(bad_value)
    run = vm.boot()
    assert run.returncode != 0
    assert "secret KESTRA_PASSWORD" in run.output
    assert bad_value not in run.output
    assert not any(call.startswith("docker compose") for call in run.calls)


def boot_the_plan(tmp_path, plan) -> tuple[BootSandbox, BootRun]:
    vm = plan_sandbox(tmp_path, plan)
    run = vm.boot()
    assert run.returncode == 0, run.output
    assert_no_secret_in_values(run.output, secret_data(plan))
    return vm, run


@pytest.mark.validators
def test_on_the_real_prod_plan_compose_gives_kestra_the_base64_taxi_password_from_the_env_file(tmp_path, prod_plan):
    vm, _ = boot_the_plan(tmp_path, prod_plan)
    env_file = vm.path("/run/kestra-stack/secrets.env")
    resolved = yaml.safe_load(compose_resolved(vm.state / "compose-file-seen", env_file))
    kestra_env = resolved["services"]["kestra"]["environment"]
    taxi_password = prod_plan.outputs["postgres_password"]
    assert kestra_env["SECRET_TAXI_POSTGRES_PASSWORD"] == base64.b64encode(taxi_password.encode()).decode()


def test_base64_padding_and_symbols_reach_the_env_file_unchanged(tmp_path):
    encoded = base64.b64encode(b"\xfb\xff taxi").decode()  # '+', '/' and '=' padding
    assert {"+", "/", "="} <= set(encoded)
    vm = BootSandbox(tmp_path, COMPOSE, {"TAXI_DB_PASSWORD_BASE64": encoded})
    run = vm.boot()
    assert run.returncode == 0, run.output
    assert vm.path("/run/kestra-stack/secrets.env").read_text() == f"TAXI_DB_PASSWORD_BASE64={encoded}\n"
    assert encoded not in run.output


def sleeps(run: BootRun) -> list[int]:
    return [int(call.split()[1]) for call in run.calls if call.startswith("sleep ")]


@pytest.mark.parametrize("fault, answer, status", [("secrets-denied", "secret-denied", 403),
                                                   ("secrets-versionless", "secret-not-found", 404)])
def test_secret_manager_403s_and_404s_while_iam_propagates_are_retried_with_backoff_and_the_stack_starts(
        vm, fault, answer, status):
    faults = vm.state / fault
    faults.mkdir()
    faults.joinpath("kestra-prod-secret-0").write_text("3")
    run = vm.boot()
    assert run.returncode == 0, run.output
    assert [call for call in run.calls if "kestra-prod-secret-0" in call] == [
        *[f"curl {answer} kestra-prod-secret-0"] * 3, "curl secret kestra-prod-secret-0"]
    assert sleeps(run) == [2, 4, 8]
    assert (f"kestra-boot: secret KESTRA_PASSWORD: Secret Manager answers HTTP {status} (IAM bindings take "
            "minutes to apply); retrying in 2s (0s of 600s waited)") in run.output
    assert vm.path("/run/kestra-stack/secrets.env").read_text() == "".join(
        f"{name}={value}\n" for name, value in SECRETS.items())
    assert any(call.startswith("docker compose") for call in run.calls)
    assert_no_secret_in(run.output)


def test_a_secret_denied_for_ten_minutes_fails_the_boot_clearly_and_no_later(vm):
    denied = vm.state / "secrets-denied"
    denied.mkdir()
    denied.joinpath("kestra-prod-secret-1").write_text("always")
    run = vm.boot()
    assert run.returncode != 0
    waits = sleeps(run)
    assert 600 <= sum(waits) < 600 + 60 and max(waits) == 60  # backoff capped at a minute, ~10 minutes in all
    assert waits == sorted(waits)
    assert ("kestra-boot: error: secret TAXI_DB_PASSWORD: Secret Manager still answers HTTP 403 after "
            f"{sum(waits)}s; check that the VM's service account has roles/secretmanager.secretAccessor") in run.output
    assert len([call for call in run.calls if call == "curl secret-denied kestra-prod-secret-1"]) == len(waits) + 1
    assert not any(call.startswith("docker compose") for call in run.calls)
    assert list(vm.path("/run/kestra-stack").iterdir()) == []
    assert_no_secret_in(run.output)


def test_other_secret_manager_errors_fail_at_once_after_curls_own_retries(vm):
    failing = vm.state / "secrets-failing"
    failing.mkdir()
    failing.joinpath("kestra-prod-secret-0").write_text("always")
    run = vm.boot()
    assert run.returncode != 0
    assert "kestra-boot: error: secret KESTRA_PASSWORD: Secret Manager answers HTTP 500" in run.output
    assert run.calls.count("curl secret-internal-error kestra-prod-secret-0") == 6  # --retry 5
    assert sleeps(run) == []
    assert list(vm.path("/run/kestra-stack").iterdir()) == []


def test_the_docker_apt_key_download_rides_out_transient_errors(vm):
    vm.state.joinpath("docker-gpg-unavailable").write_text("2")
    run = vm.boot()
    assert run.returncode == 0, run.output
    assert [call for call in run.calls if call.startswith("curl docker-gpg-key")] == [
        "curl docker-gpg-key 503", "curl docker-gpg-key 503", "curl docker-gpg-key"]
    assert vm.path("/etc/apt/keyrings/docker.asc").read_text().startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")


def test_a_kept_disk_blkid_cannot_identify_but_holding_data_is_not_formatted(vm):
    """blkid's exit 2 ("nothing identified") alone is no proof: the disk's first MiB is not zeros."""
    with vm.device.open("r+b") as disk:
        disk.seek(4096)
        disk.write(b"postgres data the probe could not read")
    run = vm.boot(STUB_BLKID_EXIT="2")
    assert run.returncode != 0
    assert "it is not blank" in run.output and "refusing to format it" in run.output
    assert not [call for call in run.calls if call.startswith((*DEVICE_CALLS, "mount", "docker", "apt-get"))]


def test_a_disk_with_a_filesystem_signature_is_not_formatted_even_when_blkid_exits_2(vm):
    real_mkfs = require_tool("mkfs.ext4", "e2fsprogs")  # the real one (the sandbox's stub is not on this PATH)
    subprocess.run([real_mkfs, "-q", "-F", str(vm.device)], check=True, capture_output=True)
    run = vm.boot(STUB_BLKID_EXIT="2")
    assert run.returncode != 0
    assert "it is not blank" in run.output
    assert not [call for call in run.calls if call.startswith((*DEVICE_CALLS, "mount", "docker"))]


def test_a_blank_disk_blkid_finds_nothing_on_is_formatted(vm):
    """The control for the two tests above: the same sandbox disk, all zeros, is formatted."""
    run = vm.boot(STUB_BLKID_EXIT="2")
    assert run.returncode == 0, run.output
    assert [call for call in run.calls if call.startswith(DEVICE_CALLS)] == [f"mkfs.ext4 {vm.device}"]
    assert "kestra-boot: formatting the new data disk" in run.output
