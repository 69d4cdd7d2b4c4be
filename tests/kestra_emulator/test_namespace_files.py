from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from tests.kestra_emulator.conftest import YAML, client_for, flow_source
from tests.kestra_emulator.server import KestraEmulator

FILES = "/namespaces/zoomcamp/files"


def _exported(api: httpx.Client, namespace: str = "zoomcamp") -> dict[str, bytes]:
    response = api.get(f"/namespaces/{namespace}/files/export")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert not any(entry.is_dir() for entry in archive.infolist())
        return {name: archive.read(name) for name in archive.namelist()}


def _upload(api: httpx.Client, path: str, content: bytes, part: str = "fileContent",
            filename: str = "file") -> httpx.Response:
    return api.post(FILES, params={"path": path}, files={part: (filename, content)})


def test_upload_in_part_filecontent_then_read_it_back(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    assert _upload(api, "/sql/load.sql", b"select 1;").status_code == 200
    assert api.get(FILES, params={"path": "/sql/load.sql"}).content == b"select 1;"
    assert kestra_emulator.namespace_files == {("zoomcamp", "/sql/load.sql"): b"select 1;"}


def test_another_part_name_is_rejected_and_nothing_is_written(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    response = _upload(api, "/x.sql", b"select 1;", part="file")
    assert response.status_code == 400
    assert kestra_emulator.namespace_files == {}
    assert kestra_emulator.write_count == 0


def test_directory_listing_shows_files_and_subdirectories(api: httpx.Client) -> None:
    _upload(api, "/top.sql", b"1")
    _upload(api, "/sql/a.sql", b"22")
    root = api.get(f"{FILES}/directory").json()
    assert sorted((entry["fileName"], entry["type"]) for entry in root) == [("sql", "Directory"), ("top.sql", "File")]
    nested = api.get(f"{FILES}/directory", params={"path": "/sql"}).json()
    assert [(entry["fileName"], entry["size"]) for entry in nested] == [("a.sql", 2)]
    assert api.get(f"{FILES}/directory", params={"path": "/nope"}).status_code == 404


def test_delete_then_missing_file_is_404(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    _upload(api, "/a.sql", b"1")
    assert api.delete(FILES, params={"path": "/a.sql"}).status_code == 200
    assert api.get(FILES, params={"path": "/a.sql"}).status_code == 404
    assert kestra_emulator.namespace_files == {}


def test_export_zips_every_file_recursively_without_the_leading_slash_or_directories(api: httpx.Client) -> None:
    _upload(api, "/sql/deep/a.sql", b"1")
    _upload(api, "/b.txt", b"2")
    assert _exported(api) == {"b.txt": b"2", "sql/deep/a.sql": b"1"}


def test_export_of_a_namespace_without_files_or_storage_is_200_and_an_empty_archive(api: httpx.Client) -> None:
    assert _exported(api, "never.used") == {}


def test_export_skips_names_ending_in_metadata(api: httpx.Client) -> None:
    # LocalStorage.allByPrefix (0.20.7) keeps its own `.metadata` files out of every listing.
    _upload(api, "/a.sql.metadata", b"1")
    _upload(api, "/a.sql", b"2")
    assert _exported(api) == {"a.sql": b"2"}


def test_export_adds_each_flow_of_exactly_that_namespace_under_flows(api: httpx.Client) -> None:
    """NamespaceFileController.export (0.20.7 and 1.1): files, then `_flows/<id>.yml` per flow of the
    namespace (findByNamespaceWithSource: last revision, not deleted, no sub-namespaces)."""
    _upload(api, "/a.sql", b"1")
    api.post("/flows", content=flow_source("kept"), headers=YAML)
    api.put("/flows/zoomcamp/kept", content=flow_source("kept", extra="description: v2\n"), headers=YAML)
    api.post("/flows", content=flow_source("gone"), headers=YAML)
    api.delete("/flows/zoomcamp/gone")
    api.post("/flows", content=flow_source("child", "zoomcamp.sub"), headers=YAML)
    assert _exported(api) == {"a.sql": b"1", "_flows/kept.yml": flow_source("kept", extra="description: v2\n").encode()}


@pytest.mark.parametrize(("version", "prefix", "served"), [
    ("0.20.7", "/api/v1", flow_source("numbered")),  # FlowWithSource.getSource drops the first `revision:` line
    ("1.1.0", "/api/v1/main", flow_source("numbered", extra="revision: 7\n")),  # 1.x: the source as sent
])
def test_export_serves_the_flow_source_as_that_version_does(version: str, prefix: str, served: str) -> None:
    with KestraEmulator(version=version) as emulator, client_for(emulator, prefix) as client:
        client.post("/flows", content=flow_source("numbered", extra="revision: 7\n"), headers=YAML)
        assert _exported(client) == {"_flows/numbered.yml": served.encode()}


@pytest.mark.parametrize("path", ["/_flows/kept.yml", "_flows/kept.yml", "/_flows"])
def test_delete_under_flows_is_422_forbidden_path_and_deletes_nothing(api: httpx.Client, kestra_emulator: KestraEmulator,
                                                                     path: str) -> None:
    api.post("/flows", content=flow_source("kept"), headers=YAML)
    response = api.delete(FILES, params={"path": path})
    assert response.status_code == 422
    assert "Forbidden path: /_flows" in response.json()["message"]
    assert set(kestra_emulator.flows) == {("zoomcamp", "kept")}


def test_a_zip_upload_is_unpacked(api: httpx.Client, kestra_emulator: KestraEmulator) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sql/a.sql", "1")
    _upload(api, "/", buffer.getvalue(), filename="files.zip")
    assert kestra_emulator.namespace_files == {("zoomcamp", "/sql/a.sql"): b"1"}


def test_a_file_under_flows_is_imported_as_a_flow_of_the_namespace(api: httpx.Client,
                                                                  kestra_emulator: KestraEmulator) -> None:
    source = "id: imported\nnamespace: other\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n"
    assert _upload(api, "/_flows/imported.yml", source.encode()).status_code == 200
    assert set(kestra_emulator.flows) == {("zoomcamp", "imported")}
    assert kestra_emulator.namespace_files == {}
    assert api.get(FILES, params={"path": "/_flows/imported.yml"}).status_code == 422


@pytest.mark.parametrize(("version", "prefix", "status"), [
    ("0.20.7", "/api/v1", 422),      # forbiddenPathPatterns `/_flows.*` (v0.20.7): any name starting with it
    ("1.1.0", "/api/v1/main", 404),  # `/_flows(/.*)?$` in 1.x: only the folder itself
])
def test_a_name_starting_with_flows_is_forbidden_in_0_20_only(version: str, prefix: str, status: int) -> None:
    with KestraEmulator(version=version) as emulator, client_for(emulator, prefix) as client:
        assert client.get(FILES, params={"path": "/_flowsbackup/a.sql"}).status_code == status
