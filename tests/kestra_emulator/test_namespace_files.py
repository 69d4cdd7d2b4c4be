from __future__ import annotations

import io
import zipfile

import httpx

from tests.kestra_emulator.server import KestraEmulator

FILES = "/namespaces/zoomcamp/files"


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


def test_export_zips_every_file_without_the_leading_slash(api: httpx.Client) -> None:
    _upload(api, "/sql/a.sql", b"1")
    _upload(api, "/b.txt", b"2")
    with zipfile.ZipFile(io.BytesIO(api.get(f"{FILES}/export").content)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == {"b.txt": b"2", "sql/a.sql": b"1"}


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
