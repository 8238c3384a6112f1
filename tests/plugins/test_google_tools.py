"""The Google Calendar, Drive and Sheets tools, each action through a fake Google API over real HTTP.

The tools are connected through the real sign-in flow, then called as the seed calls them
(``CalendarTool(profile="TEST").execute("list_events", {"count": 5})``); the fake records what it
received, so each test checks the method, path, query and body Google would have seen.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.google import FakeGoogle, profile_env, sign_in

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(google: FakeGoogle, tmp_path: Path) -> dict[str, str]:
    client = tmp_path / "google_test_credentials.json"
    client.write_text(json.dumps(google.client_config()))
    return profile_env(google, str(client))


@pytest.fixture
def connected(make_platform: Any, env: dict[str, str]) -> Any:
    """The repo's plugins with profile TEST of the three Google tools signed in to the fake."""
    platform = make_platform(**env)
    for service in ("calendar", "drive", "sheets"):
        assert sign_in(platform.client, service).status_code == 200
    return platform


def calendar() -> Any:
    from plugins.tools.google_calendar.main import CalendarTool

    return CalendarTool(profile="TEST")


def drive() -> Any:
    from plugins.tools.google_drive.main import DriveTool

    return DriveTool(profile="TEST")


def sheets() -> Any:
    from plugins.tools.google_sheets.main import SheetsTool

    return SheetsTool(profile="TEST")


def ok(result: dict[str, Any]) -> Any:
    assert result.get("status") == "success", result
    return result["data"]


def api_calls(google: FakeGoogle) -> list[Any]:
    return [r for r in google.requests if r.path not in ("/token", "/o/oauth2/auth")]


# ----- Calendar ------------------------------------------------------------------------------------------
def test_the_seed_usage_lists_events(connected: Any, google: FakeGoogle) -> None:
    tool = calendar()
    assert tool.authenticate() is True

    data = ok(tool.execute("list_events", {"count": 5}))

    assert data == {"calendar_id": "primary", "count": 0, "events": [], "next_page_token": None}
    [call] = google.received("GET", "/calendar/v3/calendars/primary/events")
    assert call.query["maxResults"] == "5"
    assert call.query["singleEvents"] == "true" and call.query["orderBy"] == "startTime"
    assert call.query["timeMin"].startswith("20")
    assert call.headers["authorization"].startswith("Bearer ya29.fake-access-")


def test_execute_authenticates_by_itself(connected: Any, google: FakeGoogle) -> None:
    assert ok(calendar().execute("list_events", {}))["count"] == 0


def test_create_event_sends_the_event(connected: Any, google: FakeGoogle) -> None:
    data = ok(calendar().execute("create_event", {
        "summary": "Meeting with test@example.com", "start_time": "2030-12-25T14:00:00",
        "end_time": "2030-12-25T15:00:00", "description": "Agenda", "location": "Room 1",
        "attendees": "a@example.com, b@example.com", "calendar_id": "team@example.com"}))

    [call] = google.received("POST", r"/calendar/v3/calendars/.*/events")
    assert call.path == "/calendar/v3/calendars/team%40example.com/events"  # as sent on the wire
    assert call.query["sendUpdates"] == "none"
    assert call.json() == {
        "summary": "Meeting with test@example.com", "description": "Agenda", "location": "Room 1",
        "attendees": [{"email": "a@example.com"}, {"email": "b@example.com"}],
        "start": {"dateTime": "2030-12-25T14:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2030-12-25T15:00:00", "timeZone": "UTC"}}
    assert data["event_id"] == "evt0001" and data["event"]["summary"] == "Meeting with test@example.com"
    assert data["html_link"].startswith("https://calendar.google.com/")
    listed = ok(calendar().execute("list_events", {"calendar_id": "team@example.com", "time_min": "2030-01-01"}))
    assert [e["id"] for e in listed["events"]] == ["evt0001"]


def test_create_event_defaults_the_end_and_uses_the_profile_timezone(connected: Any, google: FakeGoogle,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CALENDAR_TEST_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("GOOGLE_CALENDAR_TEST_CALENDAR_ID", "work@example.com")
    ok(calendar().execute("create_event", {"summary": "Stand-up", "start_time": "2030-03-01T09:00:00",
                                           "duration_minutes": 15}))
    ok(calendar().execute("create_event", {"summary": "Holiday", "start_time": "2030-08-01"}))

    timed, all_day = [c.json() for c in google.received("POST", "/calendar/v3/calendars/work@example.com/events")]
    assert timed["start"] == {"dateTime": "2030-03-01T09:00:00", "timeZone": "Europe/Paris"}
    assert timed["end"] == {"dateTime": "2030-03-01T09:15:00", "timeZone": "Europe/Paris"}
    assert all_day["start"] == {"date": "2030-08-01"} and all_day["end"] == {"date": "2030-08-02"}


def test_update_event_patches_only_what_changes(connected: Any, google: FakeGoogle) -> None:
    event_id = ok(calendar().execute("create_event", {"summary": "Draft", "start_time": "2030-05-01T10:00:00"}))[
        "event_id"]

    data = ok(calendar().execute("update_event", {"event_id": event_id, "summary": "Final",
                                                  "start_time": "2030-05-02T10:00:00+02:00",
                                                  "end_time": "2030-05-02T11:00:00+02:00"}))

    [call] = google.received("PATCH", f"/calendar/v3/calendars/primary/events/{event_id}")
    assert call.json() == {"summary": "Final",
                           "start": {"dateTime": "2030-05-02T10:00:00+02:00", "timeZone": "UTC"},
                           "end": {"dateTime": "2030-05-02T11:00:00+02:00", "timeZone": "UTC"}}
    assert data["event"]["summary"] == "Final"


def test_delete_event(connected: Any, google: FakeGoogle) -> None:
    event_id = ok(calendar().execute("create_event", {"summary": "Gone", "start_time": "2030-05-01T10:00:00"}))[
        "event_id"]

    assert ok(calendar().execute("delete_event", {"event_id": event_id})) == {
        "deleted": True, "event_id": event_id, "calendar_id": "primary"}

    assert len(google.received("DELETE", f"/calendar/v3/calendars/primary/events/{event_id}")) == 1
    assert ok(calendar().execute("list_events", {"time_min": "2030-01-01"}))["events"] == []
    again = calendar().execute("delete_event", {"event_id": event_id})
    assert again["status"] == "error" and again["http_status"] == 404
    assert again["error"] == "Google Calendar API refused delete_event: HTTP 404 - Not Found"


BAD_CALENDAR_PARAMS = [
    ("create_event", {"start_time": "2030-01-01T10:00:00"}, "parameter 'summary' is required"),
    ("create_event", {"summary": "x"}, "parameter 'start_time' is required"),
    ("create_event", {"summary": "x", "start_time": "tomorrow"}, "parameter 'start_time' must be an ISO 8601"),
    ("create_event", {"summary": "x", "start_time": "2030-01-01T10:00:00", "end_time": "2030-01-01T09:00:00"},
     "end_time must be after start_time"),
    ("create_event", {"summary": "x", "start_time": "2030-01-01", "end_time": "2030-01-01T09:00:00"},
     "both be dates or both be date-times"),
    ("create_event", {"summary": "x", "start_time": "2030-01-01T10:00:00", "timezone": "Mars/Olympus"},
     "unknown timezone 'Mars/Olympus'"),
    ("create_event", {"summary": "x", "start_time": "2030-01-01T10:00:00", "send_updates": "everyone"},
     "'send_updates' must be one of all, externalOnly, none"),
    ("create_event", {"summary": {"nested": 1}, "start_time": "2030-01-01T10:00:00"},
     "parameter 'summary' must be a string"),
    ("list_events", {"count": "five"}, "parameter 'count' must be an integer"),
    ("list_events", {"count": 0}, "parameter 'count' must be between 1 and 2500"),
    ("update_event", {"summary": "x"}, "parameter 'event_id' is required"),
    ("update_event", {"event_id": "e1"}, "give at least one field to change"),
    ("delete_event", {}, "parameter 'event_id' is required"),
    ("send_invites", {}, "action 'send_invites' not supported by google_calendar (available: list_events, "
                         "create_event, update_event, delete_event)"),
]


def assert_clear_errors(tool: Any, cases: list[tuple[str, dict[str, Any], str]], google: FakeGoogle) -> None:
    """Each bad call is an error naming the problem, and nothing reaches Google."""
    for action, params, words in cases:
        result = tool.execute(action, params)
        assert result["status"] == "error", (action, params, result)
        assert words in result["error"], (action, params, result)
    assert api_calls(google) == []


def test_bad_calendar_params_are_clear_errors_and_call_nothing(connected: Any, google: FakeGoogle) -> None:
    assert_clear_errors(calendar(), BAD_CALENDAR_PARAMS, google)


def test_params_must_be_an_object(connected: Any) -> None:
    result = calendar().execute("list_events", ["count", 5])  # type: ignore[arg-type]
    assert result == {"status": "error", "error": "google_calendar.list_events: params must be an object, got list"}


# ----- Drive ---------------------------------------------------------------------------------------------
def test_upload_text_file(connected: Any, google: FakeGoogle) -> None:
    data = ok(drive().execute("upload_file", {"name": "notes.txt", "content": "Hello from a workflow"}))

    [call] = google.received("POST", "/upload/drive/v3/files")
    assert call.query["uploadType"] == "multipart"
    assert call.headers["content-type"].startswith("multipart/related")
    stored = google.state.files[data["file_id"]]
    assert stored["content"] == b"Hello from a workflow"
    assert stored["meta"]["name"] == "notes.txt" and stored["meta"]["mimeType"] == "text/plain"
    assert data["size"] == 21 and data["name"] == "notes.txt"
    assert data["web_view_link"].startswith("https://drive.google.com/")


def test_upload_binary_into_a_folder_and_from_a_path(connected: Any, google: FakeGoogle, tmp_path: Path) -> None:
    blob = bytes(range(256))
    first = ok(drive().execute("upload_file", {"name": "blob.bin", "content_base64": base64.b64encode(blob).decode(),
                                               "folder_id": "folder42", "mime_type": "application/x-blob"}))
    local = tmp_path / "report.csv"
    local.write_text("a,b\n1,2\n")
    second = ok(drive().execute("upload_file", {"path": str(local)}))

    assert google.state.files[first["file_id"]]["content"] == blob
    assert google.state.files[first["file_id"]]["meta"]["parents"] == ["folder42"]
    assert google.state.files[first["file_id"]]["meta"]["mimeType"] == "application/x-blob"
    assert google.state.files[second["file_id"]]["meta"]["name"] == "report.csv"
    assert google.state.files[second["file_id"]]["meta"]["mimeType"] == "text/csv"
    assert google.state.files[second["file_id"]]["content"] == b"a,b\n1,2\n"


def test_list_files_builds_the_drive_query(connected: Any, google: FakeGoogle) -> None:
    ok(drive().execute("upload_file", {"name": "a.txt", "content": "a"}))

    data = ok(drive().execute("list_files", {"query": "name contains 'a'", "folder_id": "it's", "count": 7}))

    [call] = google.received("GET", "/drive/v3/files")
    assert call.query["q"] == "trashed = false and 'it\\'s' in parents and (name contains 'a')"
    assert call.query["pageSize"] == "7"
    assert call.query["orderBy"] == "modifiedTime desc"
    assert "files(id, name, mimeType" in call.query["fields"]
    assert data["count"] == 1 and data["files"][0]["name"] == "a.txt"


def test_download_text_binary_and_to_a_file(connected: Any, google: FakeGoogle, tmp_path: Path) -> None:
    text_id = ok(drive().execute("upload_file", {"name": "t.txt", "content": "héllo"}))["file_id"]
    blob_id = ok(drive().execute("upload_file", {"name": "b.bin", "content_base64": base64.b64encode(b"\xff\x00\xfe").decode()}))["file_id"]

    text = ok(drive().execute("download_file", {"file_id": text_id}))
    blob = ok(drive().execute("download_file", {"file_id": blob_id}))
    target = tmp_path / "out" / "b.bin"
    saved = ok(drive().execute("download_file", {"file_id": blob_id, "save_to": str(target)}))

    assert text == {"file_id": text_id, "name": "t.txt", "mime_type": "text/plain", "size": 6, "content": "héllo"}
    assert base64.b64decode(blob["content_base64"]) == b"\xff\x00\xfe" and "content" not in blob
    assert saved["saved_to"] == str(target) and target.read_bytes() == b"\xff\x00\xfe"
    media = google.received("GET", f"/drive/v3/files/{text_id}")
    assert [c.query.get("alt") for c in media] == ["json", "media"]  # metadata, then content


def test_download_exports_google_docs(connected: Any, google: FakeGoogle) -> None:
    google.state.files["doc1"] = {"meta": {"id": "doc1", "name": "Plan", "mimeType": "application/vnd.google-apps.document"},
                                  "content": b"The plan"}
    data = ok(drive().execute("download_file", {"file_id": "doc1"}))
    [call] = google.received("GET", "/drive/v3/files/doc1/export")
    assert call.query["mimeType"] == "text/plain"
    assert data["content"] == "The plan" and data["mime_type"] == "text/plain"


BAD_DRIVE_PARAMS = [
    ("upload_file", {"name": "x"}, "give exactly one of 'content' (text), 'content_base64' or 'path' (got none)"),
    ("upload_file", {"name": "x", "content": "a", "content_base64": "YQ=="}, "(got content, content_base64)"),
    ("upload_file", {"name": "x", "content_base64": "not base64!"}, "'content_base64' is not valid base64"),
    ("upload_file", {"content": "a"}, "parameter 'name' is required"),
    ("upload_file", {"path": "/no/such/file"}, "no file at '/no/such/file'"),
    ("download_file", {}, "parameter 'file_id' is required"),
    ("list_files", {"count": 5000}, "parameter 'count' must be between 1 and 1000"),
]


def test_bad_drive_params_are_clear_errors(connected: Any, google: FakeGoogle) -> None:
    assert_clear_errors(drive(), BAD_DRIVE_PARAMS, google)


def test_download_errors(connected: Any, google: FakeGoogle) -> None:
    missing = drive().execute("download_file", {"file_id": "nope"})
    assert missing["status"] == "error" and missing["http_status"] == 404
    assert "Google Drive API refused download_file: HTTP 404 - File not found: nope." == missing["error"]
    google.state.files["dir"] = {"meta": {"id": "dir", "name": "D", "mimeType": "application/vnd.google-apps.folder"},
                                 "content": b""}
    folder = drive().execute("download_file", {"file_id": "dir"})
    assert folder["status"] == "error" and "is a folder" in folder["error"]


# ----- Sheets --------------------------------------------------------------------------------------------
def test_update_then_read_a_range(connected: Any, google: FakeGoogle) -> None:
    update = ok(sheets().execute("update_range", {"spreadsheet_id": "S1", "range": "Sheet1!A1:B2",
                                                  "values": [["name", "score"], ["Ada", 42]]}))
    read = ok(sheets().execute("read_range", {"spreadsheet_id": "S1", "range": "Sheet1!A1:B2"}))

    [put] = google.received("PUT", "/v4/spreadsheets/S1/values/Sheet1!A1:B2")
    assert put.path == "/v4/spreadsheets/S1/values/Sheet1%21A1%3AB2"
    assert put.query["valueInputOption"] == "USER_ENTERED"
    assert put.json()["values"] == [["name", "score"], ["Ada", 42]]
    assert update == {"updated_range": "Sheet1!A1:B2", "updated_rows": 2, "updated_columns": 2, "updated_cells": 4}
    [get] = google.received("GET", "/v4/spreadsheets/S1/values/Sheet1!A1:B2")
    assert get.query["valueRenderOption"] == "FORMATTED_VALUE"
    assert read == {"range": "Sheet1!A1:B2", "rows": 2, "values": [["name", "score"], ["Ada", 42]]}


def test_append_rows_after_the_table(connected: Any, google: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_SHEETS_TEST_SPREADSHEET_ID", "S2")
    ok(sheets().execute("update_range", {"range": "Sheet1!A1", "values": [["header"]]}))

    data = ok(sheets().execute("append_rows", {"range": "Sheet1!A:B", "rows": [["x", 1], ["y", 2]],
                                               "value_input_option": "raw"}))

    [post] = google.received("POST", "/v4/spreadsheets/S2/values/Sheet1!A:B:append")
    assert post.query["valueInputOption"] == "RAW" and post.query["insertDataOption"] == "INSERT_ROWS"
    assert post.json() == {"values": [["x", 1], ["y", 2]]}
    assert data == {"appended_rows": 2, "updated_range": "Sheet1!A2:B3", "updated_cells": 4,
                    "table_range": "Sheet1!A:B"}
    assert ok(sheets().execute("read_range", {"range": "Sheet1"}))["values"] == [["header"], ["x", 1], ["y", 2]]


def test_a_flat_list_is_one_row(connected: Any, google: FakeGoogle) -> None:
    ok(sheets().execute("append_rows", {"spreadsheet_id": "S3", "rows": ["a", "b"]}))
    assert google.received("POST", r"/v4/spreadsheets/S3/values/.*")[0].json() == {"values": [["a", "b"]]}


BAD_SHEETS_PARAMS = [
    ("read_range", {"spreadsheet_id": "S"}, "parameter 'range' is required"),
    ("read_range", {"range": "A1"}, "parameter 'spreadsheet_id' is required (or set GOOGLE_SHEETS_TEST_SPREADSHEET_ID)"),
    ("append_rows", {"spreadsheet_id": "S"}, "parameter 'rows' is required"),
    ("append_rows", {"spreadsheet_id": "S", "rows": "a,b"}, "parameter 'rows' must be a list of rows"),
    ("append_rows", {"spreadsheet_id": "S", "rows": [["a"], [["nested"]]]}, "row 1 must be a list of cell values"),
    ("update_range", {"spreadsheet_id": "S", "range": "A1", "values": [["a"]], "value_input_option": "HTML"},
     "parameter 'value_input_option' must be one of USER_ENTERED, RAW"),
]


def test_bad_sheets_params_are_clear_errors(connected: Any, google: FakeGoogle) -> None:
    assert_clear_errors(sheets(), BAD_SHEETS_PARAMS, google)


# ----- not connected, catalog, workflows -----------------------------------------------------------------
def test_a_tool_that_is_not_connected_says_where_to_connect(make_platform: Any, env: dict[str, str],
                                                            google: FakeGoogle) -> None:
    make_platform(**env)
    tool = drive()
    assert tool.authenticate() is False
    assert tool.auth_status == "not_connected"
    assert "/oauth/google/auth?service=drive&profile=TEST" in tool.last_error
    result = tool.execute("list_files", {})
    assert result["status"] == "error" and result["auth_required"] is True
    assert result["auth_url"] == "/oauth/google/auth?service=drive&profile=TEST"
    assert api_calls(google) == []


def test_the_catalog_documents_the_google_tools(make_platform: Any, env: dict[str, str]) -> None:
    platform = make_platform(**env)
    tools = {t["name"]: t for t in platform.client.get("/api/tools").json()}
    expected = {"google_calendar": ["list_events", "create_event", "update_event", "delete_event"],
                "google_drive": ["list_files", "upload_file", "download_file"],
                "google_sheets": ["read_range", "append_rows", "update_range"]}
    for name, actions in expected.items():
        tool = tools[name]
        assert tool["status"] == "ok" and tool["oauth"] is True and tool["warnings"] == []
        assert [a["name"] for a in tool["actions"]] == actions
        for action in tool["actions"]:
            assert action["description"] and action["parameters"]
            assert action["example"]["action"] == action["name"]
        assert "api_endpoint" in tool["optional_params"] and tool["profiles"] == ["TEST"]


def copy_google_tools(plugins_root: Path) -> None:
    for name in ("google_calendar", "google_drive", "google_sheets"):
        shutil.copytree(REPO / "plugins" / "tools" / name, plugins_root / "tools" / name)


AGENDA = """
def execute(data, tools):
    calendar = tools["google_calendar"]
    created = calendar.execute("create_event", {"summary": data["title"], "start_time": "2030-06-01T09:00:00"})
    if created.get("status") != "success":
        return {"status": "error", "message": created.get("error")}
    print("created", created["data"]["event_id"])
    listed = calendar.execute("list_events", {"count": 5, "time_min": "2030-01-01"})
    return {"status": "success", "data": {"titles": [e["summary"] for e in listed["data"]["events"]]}}
"""


def test_a_workflow_uses_a_connected_google_tool(make_platform: Any, plugin_dir: Any, env: dict[str, str],
                                                 google: FakeGoogle) -> None:
    copy_google_tools(plugin_dir.root)
    plugin_dir.workflow("agenda", {"name": "Agenda", "triggers": ["manual"], "tools_required": ["google_calendar"],
                                   "tools_profiles": {"google_calendar": "TEST"},
                                   "inputs_schema": [{"name": "title", "type": "text", "required": True}]}, AGENDA)
    platform = make_platform(plugin_dir.root, **env)
    assert sign_in(platform.client).status_code == 200

    response = platform.client.post("/api/workflows/execute/agenda", json={"title": "Kick-off"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["data"] == {"titles": ["Kick-off"]}
    run = platform.client.get(f"/api/runs/{body['run_id']}").text
    assert "created evt0001" in run
    for secret in google.all_secrets():
        assert secret not in run and secret not in response.text


def test_a_workflow_whose_google_tool_is_not_connected_is_an_error_run_naming_the_auth_url(
        make_platform: Any, plugin_dir: Any, env: dict[str, str]) -> None:
    copy_google_tools(plugin_dir.root)
    plugin_dir.workflow("agenda", {"name": "Agenda", "triggers": ["manual"], "tools_required": ["google_calendar"],
                                   "tools_profiles": {"google_calendar": "TEST"}}, AGENDA)
    platform = make_platform(plugin_dir.root, **env)

    body = platform.client.post("/api/workflows/execute/agenda", json={"title": "x"}).json()

    assert body["status"] == "error"
    assert "not connected to Google Calendar" in body["error"]
    assert "/oauth/google/auth?service=calendar&profile=TEST" in body["error"]
