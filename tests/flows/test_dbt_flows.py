"""03_postgres_dbt and 07_gcp_dbt against the dbt project they clone, as recorded from the pinned commit
(tests/data/dbt/zoomcamp_taxi_rides_ny.json, see tests/data/SOURCES.md; nothing is fetched): the clone is
pinned, every dbt command finds the project whichever plugin-dbt builds it, the profile is the one the
project names, and its sources resolve to the tables the load flows write."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import TEST_DATA
from tests.flows.flow_runner import load_flow
from tests.flows.pebble import Context, Renderer
from tests.flows.taxi_months import COLUMNS

PROJECT = json.loads((TEST_DATA / "dbt/zoomcamp_taxi_rides_ny.json").read_text())
DBT_FLOWS = ["03_postgres_dbt", "07_gcp_dbt"]
# where each dbt flow's sources must point: the database/project and the schema/dataset its load flow writes
LOAD_TARGETS = {
    "03_postgres_dbt": {"DBT_DATABASE": ("dbname", "{{ kv('TAXI_POSTGRES').database }}"), "DBT_SCHEMA": ("schema", "public")},
    "07_gcp_dbt": {"DBT_DATABASE": ("project", "{{ kv('GCP_PROJECT_ID') }}"),
                   "DBT_SCHEMA": ("dataset", "{{ kv('GCP_DATASET') }}")},
}


def task(flow: dict, task_type: str) -> dict:
    (found,) = [t for t in flow["tasks"][0]["tasks"] if t["type"] == task_type]
    return found


def plugin_dbt_commands(dbt_task: dict, rendered: list[str], project_dir: str, version: str) -> list[str]:
    """The commands DbtCLI.run hands to the shell (kestra-io/plugin-dbt src/main/java/io/kestra/plugin/dbt/cli/
    DbtCLI.java): v1.1.1 only appends `--log-format json` to a command starting with `dbt`; v1.1.2 first
    appends `--project-dir <projectDir>` when projectDir is set and the command lacks `--project-dir`."""
    assert dbt_task.get("logFormat") is None  # the default, JSON
    commands = []
    for command in rendered:
        if version == "v1.1.2" and command.startswith("dbt") and project_dir and "--project-dir" not in command:
            command += f" --project-dir {project_dir}"
        if command.startswith("dbt"):
            command += " --log-format json"
        commands.append(command)
    return commands


def dbt_project_dir(command: str, cwd: Path) -> Path:
    """Where dbt-core 1.9 looks for dbt_project.yml (dbt/cli/params.py, resolvers.py at 1.9.0): the last
    --project-dir given, else the first of the working directory and its parents holding one, else cwd."""
    words = shlex.split(command)
    given = [words[i + 1] for i, word in enumerate(words) if word == "--project-dir"]
    if given:
        return cwd / given[-1]
    return next((path for path in (cwd, *cwd.parents) if (path / "dbt_project.yml").exists()), cwd)


def clone_of_the_pinned_commit(root: Path) -> Path:
    """The clone's layout as far as dbt sees it: the project directory and its dbt_project.yml."""
    project = root / PROJECT["project_dir"]
    project.mkdir(parents=True)
    (project / "dbt_project.yml").write_text(f"name: taxi_rides_ny\nprofile: '{PROJECT['profile']}'\n")
    return root


def profile_settings(profiles: str) -> tuple[str, dict[str, str]]:
    """The profiles.yml template's profile name (its one top-level key) and its output's settings."""
    names = re.findall(r"^(\w+):\s*$", profiles, flags=re.MULTILINE)
    settings = dict(re.findall(r"^ {6}(\w+): (.+)$", profiles, flags=re.MULTILINE))
    return names[0] if len(names) == 1 else "", {key: value.strip('"') for key, value in settings.items()}


@pytest.mark.parametrize("flow_id", DBT_FLOWS)
def test_the_clone_is_pinned_to_the_recorded_commit(flow_id):
    clone = task(load_flow(flow_id), "io.kestra.plugin.git.Clone")
    assert clone["url"] == PROJECT["repository"]
    assert clone.get("commit") == PROJECT["commit"]
    assert "branch" not in clone and "tag" not in clone  # plugin-git ignores both once commit is set


@pytest.mark.parametrize("plugin_version", ["v1.1.1", "v1.1.2"])
@pytest.mark.parametrize("dbt_command", ["dbt build", "dbt debug"])
@pytest.mark.parametrize("flow_id", DBT_FLOWS)
def test_every_dbt_command_finds_the_project_and_the_profile(flow_id, dbt_command, plugin_version, tmp_path):
    flow = load_flow(flow_id)
    dbt_task = task(flow, "io.kestra.plugin.dbt.cli.DbtCLI")
    context = Context(inputs={"dbt_command": dbt_command}, variables=flow.get("variables", {}), execution_id="Dbt1",
                      namespace="zoomcamp", namespace_files=Path("."))
    renderer = Renderer()
    project_dir = renderer.render(dbt_task["projectDir"], context)
    assert project_dir == PROJECT["project_dir"]
    rendered = [renderer.render(command, context) for command in dbt_task["commands"]]
    # the working directory: the clone's root, with the profiles.yml DbtCLI writes there
    root = clone_of_the_pinned_commit(tmp_path / "workdir")
    (root / "profiles.yml").write_text(dbt_task["profiles"])

    commands = plugin_dbt_commands(dbt_task, rendered, project_dir, plugin_version)
    assert [shlex.split(command)[:2] for command in commands] == [["dbt", "deps"], shlex.split(dbt_command)]
    for command in commands:
        project = dbt_project_dir(command, root)
        assert (project / "dbt_project.yml").is_file(), f"{command}: no dbt_project.yml in {project}"
        assert command.count("--project-dir") == 1
    # dbt-core 1.9 reads profiles.yml from the working directory when it is there (default_profiles_dir)
    name, _ = profile_settings((root / "profiles.yml").read_text())
    assert name == PROJECT["profile"]


@pytest.mark.parametrize("flow_id", DBT_FLOWS)
def test_the_sources_env_vars_point_where_the_profile_connects_and_the_load_flow_writes(flow_id):
    dbt_task = task(load_flow(flow_id), "io.kestra.plugin.dbt.cli.DbtCLI")
    _, settings = profile_settings(dbt_task["profiles"])
    (source,) = PROJECT["sources"]
    needed = set(re.findall(r"env_var\('(\w+)'", source["database"] + source["schema"]))
    assert needed == set(LOAD_TARGETS[flow_id])
    for variable, (setting, value) in LOAD_TARGETS[flow_id].items():
        # the source's database must be the connection's (dbt-postgres refuses cross-database references)
        assert dbt_task["env"][variable] == settings[setting] == value, variable


def test_the_source_tables_are_the_load_flows_tables_with_every_column_the_models_read():
    (source,) = PROJECT["sources"]
    # the load flows write <taxi>_tripdata in the schema / dataset the sources name (see the test above)
    assert load_flow("02_postgres_taxi")["variables"]["table"] == "public.{{ inputs.taxi }}_tripdata"
    assert load_flow("06_gcp_taxi")["variables"]["table"].endswith(".{{ inputs.taxi }}_tripdata")
    for table in source["tables"]:
        taxi = table.removesuffix("_tripdata")
        assert set(PROJECT["columns_read"][table]) <= {column.lower() for column in COLUMNS[taxi]}, table
