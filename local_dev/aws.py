"""Local AWS: a moto server on 127.0.0.1 whose writes survive restarts.

moto keeps its state in memory. To keep runs (and profiles stored as secrets) across restarts of the
dev server, the moto WSGI app is wrapped by a journal: every successful mutating call (DynamoDB and
Secrets Manager) is appended, as the raw request, to ``.wfp/aws-journal.jsonl`` before its response
leaves the server. At start the journal is replayed into a fresh moto, then compacted to the current
state (one CreateTable per table, one PutItem per item). A line is flushed before the caller sees
its response, so a kill -9 loses nothing that was acknowledged; a torn last line is skipped.

Everything talks to it through ``AWS_ENDPOINT_URL``, exactly as it would talk to LocalStack or AWS:
nothing in ``functions/`` knows it is local. One process owns the server (an flock on
``.wfp/aws.lock``); another (``wfp run`` while ``wfp dev`` runs) finds its address in ``.wfp/aws.json``
and shares it.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

JOURNALED_SERVICES = ("DynamoDB_20120810.", "secretsmanager.")
READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "TransactGet")
KEPT_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_X_AMZ_TARGET", "CONTENT_TYPE", "HTTP_HOST")
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def is_journaled(target: str) -> bool:
    if not target.startswith(JOURNALED_SERVICES):
        return False
    return not target.split(".", 1)[1].startswith(READ_PREFIXES)


class Journal:
    """Append-only JSON lines of raw AWS requests."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._file: io.TextIOWrapper | None = None

    def open(self) -> None:
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the server's life

    def append(self, entry: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._file.flush()  # in the OS before the response goes out: survives kill -9

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None

    def entries(self) -> Iterable[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    yield json.loads(line)
                except ValueError:
                    log.warning("skipping torn line %d of %s", number, self.path)


class JournalingApp:
    """WSGI middleware: run the request through moto, journal it if it changed state."""

    def __init__(self, app: Any, journal: Journal) -> None:
        self.app, self.journal = app, journal
        self.recording = True

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not self.recording or not is_journaled(target):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        status: list[str] = []

        def capture(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

        with self.journal.lock:  # apply and journal in the same order
            result = b"".join(self.app(environ, capture))
            if status and status[0].startswith("2"):
                self.journal.append({
                    "path": environ.get("PATH_INFO", "/"),
                    "headers": {k: environ[k] for k in KEPT_HEADERS if k in environ},
                    "body": base64.b64encode(body).decode(),
                })
        return [result]


def _replay(app: Any, entries: Iterable[dict[str, Any]]) -> int:
    from werkzeug.test import EnvironBuilder

    count = 0
    for entry in entries:
        headers = entry["headers"]
        builder = EnvironBuilder(path=entry.get("path", "/"), method="POST", data=base64.b64decode(entry["body"]),
                                 content_type=headers.get("CONTENT_TYPE"))
        environ = builder.get_environ()
        environ.update({k: v for k, v in headers.items() if k != "CONTENT_TYPE"})
        for _ in app(environ, lambda *a, **k: None):
            pass
        count += 1
    return count


class LocalAws:
    """Owns (or joins) the local moto server for one state folder."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.journal = Journal(state_dir / "aws-journal.jsonl")
        self.endpoint: str | None = None
        self.owner = False
        self._server: Any = None
        self._lock_file: io.TextIOWrapper | None = None

    def start(self, port: int = 0) -> str:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.state_dir / "aws.lock", "a+")  # noqa: SIM115
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = json.loads((self.state_dir / "aws.json").read_text())
            self.endpoint = info["endpoint"]
            log.info("using the local AWS of process %s at %s", info.get("pid"), self.endpoint)
            return self.endpoint
        self.owner = True
        self.endpoint = self._serve(port)
        (self.state_dir / "aws.json").write_text(json.dumps({"endpoint": self.endpoint, "pid": os.getpid()}))
        return self.endpoint

    def _serve(self, port: int) -> str:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        moto_app = DomainDispatcherApplication(create_backend_app)
        app = JournalingApp(moto_app, self.journal)
        app.recording = False
        replayed = _replay(moto_app, list(self.journal.entries()))
        self._compact(moto_app, replayed)
        self.journal.open()
        app.recording = True
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call is noise
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True).start()
        host, bound = self._server.server_address[:2]
        log.info("local AWS (moto) on http://%s:%s, %d journaled call(s) replayed", host, bound, replayed)
        return f"http://{host}:{bound}"

    def _compact(self, moto_app: Any, replayed: int) -> None:
        """Rewrite the journal as the current state, so it does not grow without end."""
        if replayed < 1000:
            return
        from .compaction import snapshot_entries

        tmp = self.journal.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            for entry in snapshot_entries(moto_app):
                handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.journal.path)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        self.journal.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def use_endpoint(endpoint: str) -> None:
    """Point every AWS client of this process at ``endpoint`` (set before the first client is made)."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for key, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
