"""A fake Google on 127.0.0.1: the OAuth consent and token endpoints and the Calendar, Drive and Sheets
APIs, over real HTTP, so the platform's Google code runs unmodified (google-auth-oauthlib, google-auth,
google-api-python-client) and the tests check what actually went over the wire.

    with FakeGoogle() as google:
        client_json = google.client_config()       # auth_uri / token_uri point here
        endpoint = google.url + "/calendar/v3/"    # a tool profile's api_endpoint
        google.requests                            # every request received (method, path, query, body)

Behaviour follows Google's: codes are single use and bound to the client, redirect URI and PKCE
challenge; refresh tokens can be revoked (``invalid_grant``); API calls need a valid bearer token
(401 otherwise); the APIs keep what they are given (events, files, cells) so a read sees a write.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import json
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def decoded_path(self) -> str:
        return urllib.parse.unquote(self.path)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))


@dataclass
class Grant:
    client_id: str
    scope: str
    revoked: bool = False


@dataclass
class FakeState:
    clients: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    events: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    sheets: dict[str, dict[str, list[list[Any]]]] = field(default_factory=dict)


class FakeGoogle:
    def __init__(self, access_token_ttl: int = 3600) -> None:
        self.access_token_ttl = access_token_ttl
        self.deny_consent = False
        self.state = FakeState()
        self.requests: list[Received] = []
        #: Every access token ever issued, revoked or not.
        self.issued_access_tokens: list[str] = []
        self.client_id = "fake-client-123.apps.googleusercontent.com"
        self.client_secret = "fake-client-secret-" + secrets.token_hex(8)
        self.state.clients[self.client_id] = self.client_secret
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ----- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "FakeGoogle":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeGoogle":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ----- helpers for tests -------------------------------------------------------------------------
    @property
    def auth_uri(self) -> str:
        return self.url + "/o/oauth2/auth"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    def client_config(self, kind: str = "web") -> dict[str, Any]:
        return {kind: {"client_id": self.client_id, "client_secret": self.client_secret,
                       "project_id": "fake-project", "auth_uri": self.auth_uri, "token_uri": self.token_uri,
                       "auth_provider_x509_cert_url": self.url + "/certs",
                       "redirect_uris": ["http://testserver/oauth/google/callback"]}}

    def received(self, method: str | None = None, path: str | None = None) -> list[Received]:
        """Requests received, by method and a regex on the (percent-decoded) path."""
        return [r for r in self.requests
                if (method is None or r.method == method) and (path is None or re.fullmatch(path, r.decoded_path))]

    def issue_tokens(self, scope: str, ttl: int | None = None) -> tuple[str, str]:
        """Tokens as if a sign-in had happened elsewhere (the seed's token file)."""
        refresh = "1//fake-refresh-" + secrets.token_urlsafe(16)
        with self._lock:
            self.state.refresh_tokens[refresh] = Grant(self.client_id, scope)
            return self._new_access_token(scope, refresh, ttl), refresh

    def revoke(self, token: str) -> None:
        with self._lock:
            if token in self.state.refresh_tokens:
                self.state.refresh_tokens[token].revoked = True
            self.state.access_tokens.pop(token, None)
            for access, info in list(self.state.access_tokens.items()):
                if info["refresh_token"] == token:
                    del self.state.access_tokens[access]

    def expire_access_tokens(self) -> None:
        with self._lock:
            for info in self.state.access_tokens.values():
                info["expires_at"] = time.time() - 1

    def all_secrets(self) -> set[str]:
        """Every token and the client secret this fake ever handed out: none may leak."""
        with self._lock:
            return {self.client_secret, *self.issued_access_tokens, *self.state.refresh_tokens}

    def _new_access_token(self, scope: str, refresh: str | None, ttl: int | None = None) -> str:
        token = "ya29.fake-access-" + secrets.token_urlsafe(24)
        self.state.access_tokens[token] = {"scope": scope, "refresh_token": refresh,
                                           "expires_at": time.time() + (ttl or self.access_token_ttl)}
        self.issued_access_tokens.append(token)
        return token


def _handler_for(fake: FakeGoogle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _handle(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(self.command, parsed.path, dict(urllib.parse.parse_qsl(parsed.query)),
                                {k.lower(): v for k, v in self.headers.items()}, body)
            with fake._lock:
                fake.requests.append(received)
            try:
                status, headers, payload = _route(fake, received)
            except Exception as exc:  # noqa: BLE001 - a bug in the fake shows as a 500 with its reason
                status, headers, payload = 500, {"Content-Type": "text/plain"}, f"fake error: {exc!r}".encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler


Response = tuple[int, dict[str, str], bytes]


def _json(status: int, data: Any) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def _api_error(status: int, message: str, reason: str) -> Response:
    return _json(status, {"error": {"code": status, "message": message, "errors": [
        {"message": message, "domain": "global", "reason": reason}], "status": reason.upper()}})


def _route(fake: FakeGoogle, r: Received) -> Response:
    if r.path == "/o/oauth2/auth" and r.method == "GET":
        return _consent(fake, r)
    if r.path == "/token" and r.method == "POST":
        return _token(fake, r)
    auth = r.headers.get("authorization", "")
    with fake._lock:
        info = fake.state.access_tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
    if info is None or info["expires_at"] <= time.time():
        return _api_error(401, "Request had invalid authentication credentials.", "unauthenticated")
    for pattern, handler in _API_ROUTES:
        match = re.fullmatch(pattern, r.path)
        if match:
            with fake._lock:
                return handler(fake, r, *[None if g is None else urllib.parse.unquote(g) for g in match.groups()])
    return _api_error(404, f"fake Google has no {r.method} {r.path}", "notFound")


# ----- OAuth ----------------------------------------------------------------------------------------------
def _consent(fake: FakeGoogle, r: Received) -> Response:
    """The consent screen, already answered: redirects back with a code (or access_denied)."""
    q = r.query
    redirect_uri = q.get("redirect_uri", "")
    if q.get("client_id") not in fake.state.clients or not redirect_uri:
        return 400, {"Content-Type": "text/plain"}, b"Error 400: invalid_request (unknown client or no redirect_uri)"
    if q.get("response_type") != "code" or not q.get("scope"):
        return 400, {"Content-Type": "text/plain"}, b"Error 400: invalid_request"
    if fake.deny_consent:
        back = {"error": "access_denied", "state": q.get("state", "")}
    else:
        code = "4/fake-code-" + secrets.token_urlsafe(16)
        with fake._lock:
            fake.state.codes[code] = {"client_id": q["client_id"], "redirect_uri": redirect_uri,
                                      "scope": q["scope"], "challenge": q.get("code_challenge"),
                                      "method": q.get("code_challenge_method"), "used": False,
                                      "access_type": q.get("access_type")}
        back = {"state": q.get("state", ""), "code": code, "scope": q["scope"]}
    return 302, {"Location": f"{redirect_uri}?{urllib.parse.urlencode(back)}"}, b""


def _client_auth(fake: FakeGoogle, r: Received, form: dict[str, str]) -> str | None:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    basic = r.headers.get("authorization", "")
    if basic.startswith("Basic "):
        client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        client_id, secret = urllib.parse.unquote(client_id), urllib.parse.unquote(secret)
    if client_id and fake.state.clients.get(client_id) == secret:
        return client_id
    return None


def _token(fake: FakeGoogle, r: Received) -> Response:
    form = r.form()
    with fake._lock:
        client_id = _client_auth(fake, r, form)
        if client_id is None:
            return _json(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
        if form.get("grant_type") == "authorization_code":
            grant = fake.state.codes.get(form.get("code", ""))
            if (grant is None or grant["used"] or grant["client_id"] != client_id
                    or grant["redirect_uri"] != form.get("redirect_uri")):
                return _json(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            if grant["challenge"]:
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if digest != grant["challenge"]:
                    return _json(400, {"error": "invalid_grant", "error_description": "Invalid code verifier."})
            grant["used"] = True
            refresh = "1//fake-refresh-" + secrets.token_urlsafe(16)
            fake.state.refresh_tokens[refresh] = Grant(client_id, grant["scope"])
            access = fake._new_access_token(grant["scope"], refresh)
            body = {"access_token": access, "expires_in": fake.access_token_ttl, "scope": grant["scope"],
                    "token_type": "Bearer"}
            if grant.get("access_type") == "offline":
                body["refresh_token"] = refresh
            return _json(200, body)
        if form.get("grant_type") == "refresh_token":
            grant = fake.state.refresh_tokens.get(form.get("refresh_token", ""))
            if grant is None or grant.revoked or grant.client_id != client_id:
                return _json(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
            access = fake._new_access_token(grant.scope, form["refresh_token"])
            return _json(200, {"access_token": access, "expires_in": fake.access_token_ttl, "scope": grant.scope,
                               "token_type": "Bearer"})
    return _json(400, {"error": "unsupported_grant_type"})


# ----- Calendar -------------------------------------------------------------------------------------------
def _events(fake: FakeGoogle, r: Received, calendar: str) -> Response:
    store = fake.state.events.setdefault(calendar, {})
    if r.method == "GET":
        items = sorted(store.values(), key=lambda e: e["start"].get("dateTime") or e["start"].get("date", ""))
        if "timeMin" in r.query:
            items = [e for e in items if (e["start"].get("dateTime") or e["start"].get("date", "")) >= r.query["timeMin"][:10]]
        limit = int(r.query.get("maxResults", 250))
        return _json(200, {"kind": "calendar#events", "summary": calendar, "items": items[:limit]})
    if r.method == "POST":
        event = dict(r.json())
        if not event.get("start") or not event.get("end"):
            return _api_error(400, "Missing end time.", "required")
        event.update(id=f"evt{len(store) + 1:04d}", status="confirmed", kind="calendar#event",
                     htmlLink=f"https://calendar.google.com/event?eid=evt{len(store) + 1:04d}")
        store[event["id"]] = event
        return _json(200, event)
    return _api_error(405, "method not allowed", "methodNotAllowed")


def _event(fake: FakeGoogle, r: Received, calendar: str, event_id: str) -> Response:
    store = fake.state.events.setdefault(calendar, {})
    if event_id not in store:
        return _api_error(404, "Not Found", "notFound")
    if r.method == "GET":
        return _json(200, store[event_id])
    if r.method == "PATCH":
        store[event_id].update(r.json())
        return _json(200, store[event_id])
    if r.method == "DELETE":
        del store[event_id]
        return 204, {}, b""
    return _api_error(405, "method not allowed", "methodNotAllowed")


# ----- Drive ----------------------------------------------------------------------------------------------
def _files(fake: FakeGoogle, r: Received) -> Response:
    files = [f["meta"] for f in fake.state.files.values()]
    return _json(200, {"kind": "drive#fileList", "files": files[: int(r.query.get("pageSize", 100))]})


def _upload(fake: FakeGoogle, r: Received) -> Response:
    if r.query.get("uploadType") != "multipart":
        return _api_error(400, "only multipart uploads in the fake", "badRequest")
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        b"Content-Type: " + r.headers["content-type"].encode() + b"\r\n\r\n" + r.body)
    parts = list(message.iter_parts())
    meta = json.loads(parts[0].get_content())
    content = parts[1].get_payload(decode=True)
    file_id = f"file{len(fake.state.files) + 1:04d}"
    meta = {**meta, "id": file_id, "size": str(len(content)), "kind": "drive#file",
            "mimeType": meta.get("mimeType") or parts[1].get_content_type(),
            "webViewLink": f"https://drive.google.com/file/d/{file_id}/view"}
    fake.state.files[file_id] = {"meta": meta, "content": content}
    return _json(200, meta)


def _file(fake: FakeGoogle, r: Received, file_id: str) -> Response:
    entry = fake.state.files.get(file_id)
    if entry is None:
        return _api_error(404, f"File not found: {file_id}.", "notFound")
    if r.query.get("alt") == "media":
        return 200, {"Content-Type": entry["meta"].get("mimeType", "application/octet-stream")}, entry["content"]
    return _json(200, entry["meta"])


def _export(fake: FakeGoogle, r: Received, file_id: str) -> Response:
    entry = fake.state.files.get(file_id)
    if entry is None:
        return _api_error(404, f"File not found: {file_id}.", "notFound")
    return 200, {"Content-Type": r.query.get("mimeType", "text/plain")}, entry["content"]


# ----- Sheets ---------------------------------------------------------------------------------------------
def _a1(range_: str) -> tuple[str, int, int]:
    """'Sheet1!B2:C3' -> ('Sheet1', row 1, col 1) (0-based top-left); 'Sheet1' -> ('Sheet1', 0, 0)."""
    sheet, _, cells = range_.partition("!")
    match = re.match(r"([A-Z]*)(\d*)", cells.split(":")[0] if cells else "")
    letters, digits = match.groups() if match else ("", "")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return sheet, (int(digits) - 1 if digits else 0), (col - 1 if letters else 0)


def _col(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _values(fake: FakeGoogle, r: Received, spreadsheet: str, range_: str, append: str | None) -> Response:
    book = fake.state.sheets.setdefault(spreadsheet, {})
    sheet, row, col = _a1(range_)
    grid = book.setdefault(sheet, [])
    if r.method == "GET" and not append:
        values = [line[col:] for line in grid[row:]]
        while values and not any(v not in ("", None) for v in values[-1]):
            values.pop()
        return _json(200, {"range": range_, "majorDimension": "ROWS", "values": values})
    body = r.json() or {}
    rows = body.get("values") or []
    if "valueInputOption" not in r.query:
        return _api_error(400, "'valueInputOption' is required but not specified", "badRequest")
    if append and r.method == "POST":
        row = len(grid)
    elif r.method != "PUT":
        return _api_error(405, "method not allowed", "methodNotAllowed")
    for i, values in enumerate(rows):
        while len(grid) <= row + i:
            grid.append([])
        line = grid[row + i]
        while len(line) < col + len(values):
            line.append("")
        line[col: col + len(values)] = values
    width = max((len(v) for v in rows), default=0)
    written = f"{sheet}!{_col(col)}{row + 1}:{_col(col + width - 1)}{row + len(rows)}"
    cells = sum(len(v) for v in rows)
    result = {"spreadsheetId": spreadsheet, "updatedRange": written, "updatedRows": len(rows),
              "updatedColumns": width, "updatedCells": cells}
    if append:
        return _json(200, {"spreadsheetId": spreadsheet, "tableRange": range_, "updates": result})
    return _json(200, result)


_API_ROUTES: list[tuple[str, Any]] = [
    (r"/calendar/v3/calendars/([^/]+)/events", _events),
    (r"/calendar/v3/calendars/([^/]+)/events/([^/]+)", _event),
    (r"/drive/v3/files", _files),
    (r"/upload/drive/v3/files", _upload),
    (r"/drive/v3/files/([^/]+)", _file),
    (r"/drive/v3/files/([^/]+)/export", _export),
    (r"/v4/spreadsheets/([^/]+)/values/([^/:]+)(?::(append))?",
     lambda fake, r, sid, rng, append=None: _values(fake, r, sid, rng, append)),
]


# ----- driving the platform's sign-in like a browser -----------------------------------------------------
API_PATHS = {"calendar": "/calendar/v3/", "drive": "/drive/v3/", "sheets": "/"}


def profile_env(fake: FakeGoogle, credentials_file: str, profile: str = "TEST",
                services: tuple[str, ...] = ("calendar", "drive", "sheets")) -> dict[str, str]:
    """Seed-style variables pointing the Google tools' profile at the fake."""
    env = {}
    for service in services:
        env[f"GOOGLE_{service.upper()}_{profile}_CREDENTIALS_FILE"] = credentials_file
        env[f"GOOGLE_{service.upper()}_{profile}_API_ENDPOINT"] = fake.url + API_PATHS[service]
    return env


def start_sign_in(client: Any, service: str = "calendar", profile: str = "TEST") -> str:
    """GET /oauth/google/auth on the platform; returns Google's consent URL it redirects to."""
    response = client.get("/oauth/google/auth", params={"service": service, "profile": profile},
                          follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def consent(consent_url: str) -> str:
    """What the browser does at Google: returns the callback URL Google redirects to."""
    import requests

    response = requests.get(consent_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def follow_callback(client: Any, callback_url: str) -> Any:
    parts = urllib.parse.urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client: Any, service: str = "calendar", profile: str = "TEST") -> Any:
    """The whole dance; returns the platform's callback response."""
    return follow_callback(client, consent(start_sign_in(client, service, profile)))
