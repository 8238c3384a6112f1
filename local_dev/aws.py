"""Local AWS: a moto server on 127.0.0.1 whose writes survive restarts.

moto keeps its state in memory. To keep runs (and profiles stored as secrets, and the run-data bucket's
large outputs and logs) across restarts of the dev server, the moto WSGI app is wrapped by a journal:
every successful mutating call (DynamoDB, Secrets Manager, S3) is appended, as the raw request, to
``.wfp/aws-journal.jsonl`` before its response leaves the server. At start the journal is replayed into
a fresh moto, then compacted to the current state (one CreateTable per table, one PutItem per item,
one PutObject per object). A line is flushed before the caller sees its response, so a kill -9 loses
nothing that was acknowledged; a torn last line is skipped.

The local platform runs moto in a process of its own (``local_dev.aws_server``, see
``LocalAws.separate_process``); tests run it in theirs. Starting is fast whatever the journal's size:
PutItems are replayed straight into moto's tables (``DirectLoader``), compaction reads moto's objects,
and moto's per-request backend lookup is cached (``CachedDispatcher``).

Everything talks to it through ``AWS_ENDPOINT_URL``, exactly as it would talk to LocalStack or AWS:
nothing in ``functions/`` knows it is local. One process owns the server (an flock on
``.wfp/aws.lock``); another (``wfp run`` while ``wfp dev`` runs) finds its address in ``.wfp/aws.json``
and shares it (see ``LocalAws.start``).
"""

from __future__ import annotations

import base64
import fcntl
import gc
import io
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

JOURNALED_SERVICES = ("DynamoDB_20120810.", "secretsmanager.")
READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "TransactGet")
KEPT_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_X_AMZ_TARGET", "CONTENT_TYPE", "HTTP_HOST")
PUT_ITEM = "DynamoDB_20120810.PutItem"
S3_WRITES = ("PUT", "POST", "DELETE")
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def is_journaled(target: str) -> bool:
    if not target.startswith(JOURNALED_SERVICES):
        return False
    return not target.split(".", 1)[1].startswith(READ_PREFIXES)


def is_journaled_s3(environ: dict[str, Any]) -> bool:
    """An S3 write (the run-data bucket: CreateBucket, PutObject...): a REST call, no X-Amz-Target."""
    if environ.get("REQUEST_METHOD") not in S3_WRITES or environ.get("HTTP_X_AMZ_TARGET"):
        return False
    scope = credential_scope(environ.get("HTTP_AUTHORIZATION", ""))
    return scope is not None and scope[2] == "s3"


def s3_headers(environ: dict[str, Any]) -> dict[str, str]:
    """What an S3 write needs to be replayed: its signature's scope, its content type and every x-amz
    header (an aws-chunked body with a checksum trailer is decoded by moto from those)."""
    return {k: v for k, v in environ.items()
            if k in ("CONTENT_TYPE", "HTTP_CONTENT_ENCODING", *KEPT_HEADERS) or k.startswith("HTTP_X_AMZ_")}


class Journal:
    """Append-only JSON lines of raw AWS requests."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._file: io.TextIOWrapper | None = None

    def open(self) -> None:
        self._drop_torn_tail()
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the server's life

    def _drop_torn_tail(self) -> None:
        """Cut a last line that has no newline: a write killed mid-way, never acknowledged. Left there,
        the next write would be appended to it, and skipped with it at the next replay: lost."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as handle:
            end = handle.seek(0, os.SEEK_END)
            if end == 0 or (handle.seek(end - 1), handle.read(1))[1] == b"\n":
                return
            position = end
            while position > 0:
                start = max(0, position - 65536)
                handle.seek(start)
                newline = handle.read(position - start).rfind(b"\n")
                if newline >= 0:
                    handle.truncate(start + newline + 1)
                    return
                position = start
            handle.truncate(0)

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
        s3 = not target and is_journaled_s3(environ)
        if not self.recording or not (s3 or is_journaled(target)):
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
                entry = {"path": environ.get("PATH_INFO", "/"),
                         "headers": s3_headers(environ) if s3 else {k: environ[k] for k in KEPT_HEADERS if k in environ},
                         "body": base64.b64encode(body).decode()}
                if s3:
                    entry.update(method=environ["REQUEST_METHOD"], query=environ.get("QUERY_STRING", ""))
                self.journal.append(entry)
        return [result]


def credential_scope(authorization: str) -> tuple[str, str, str] | None:
    """``(access key, region, service)`` of a SigV4 ``Authorization`` header, or None."""
    try:
        credential = authorization.split(",")[0].split()[1].removeprefix("Credential=")
        key, _, region, service, _ = credential.split("/")
    except (IndexError, ValueError):
        return None
    return key, region, service.lower()


#: Services whose moto backend app depends only on the service a request is signed for (and, for
#: DynamoDB, the X-Amz-Target API): the ones the platform uses.
CACHED_SERVICES = frozenset({"dynamodb", "secretsmanager", "sqs", "events", "scheduler", "sts"})


class CachedDispatcher:
    """moto's ``DomainDispatcherApplication`` without its per-request backend discovery.

    For every request moto's dispatcher works out which backend app serves it under one process-wide
    lock, listing the ~150 folders of the moto package on the way (``list_of_moto_modules``): most of
    the cost of a small request, and a queue for concurrent ones. For the services above the answer
    depends only on the service (and DynamoDB's API version), so it is asked once per service and
    kept; any other request goes through the dispatcher as before.
    """

    def __init__(self, dispatcher: Any) -> None:
        self.dispatcher = dispatcher
        self._apps: dict[tuple[str, str], Any] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        scope = credential_scope(environ.get("HTTP_AUTHORIZATION", ""))
        key = (scope[2], environ.get("HTTP_X_AMZ_TARGET", "").split(".", 1)[0]) if scope else None
        app = self._apps.get(key) if key and key[0] in CACHED_SERVICES else None
        if app is None:
            app = self.dispatcher.get_application(environ)
            if key and key[0] in CACHED_SERVICES:
                self._apps[key] = app
        return app(environ, start_response)


class DirectLoader:
    """Replays journaled DynamoDB PutItems straight into moto's DynamoDB backend.

    Through moto's HTTP layer a line costs 2-4 ms (routing, request parsing, response rendering), and
    a compacted journal is almost only PutItems, one per item: 10,000 runs took 30-50 s to start.
    The journal holds only writes that succeeded, replayed in order into a fresh backend, so their
    conditions would hold again: the item is simply stored. ``put`` answers False (replay the line
    through HTTP) for anything unexpected.
    """

    def __init__(self) -> None:
        self._tables: dict[tuple[str, str], Any] = {}

    def put(self, headers: dict[str, str], body: bytes) -> bool:
        authorization = headers.get("HTTP_AUTHORIZATION", "")
        try:
            request = json.loads(body)
            table = self._table(authorization, request["TableName"])
            if table is None:
                return False
            store_item(table, request["Item"])
        except Exception:  # noqa: BLE001 - whatever it is, the HTTP replay will do it properly (or say why)
            return False
        return True

    def _table(self, authorization: str, name: str) -> Any:
        key = (authorization, name)
        if key not in self._tables:
            scope = credential_scope(authorization)
            if scope is None or scope[2] != "dynamodb":
                return None
            from moto.dynamodb.models import dynamodb_backends
            from moto.iam.models import get_account_id_from

            account = os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(scope[0])
            self._tables[key] = dynamodb_backends[account][scope[1]].get_table(name)
        return self._tables[key]


def store_item(table: Any, attrs: dict[str, Any]) -> None:
    """Put an already validated item into a moto table, as ``Table.put_item`` stores it.

    ``Table.put_item`` rebuilds the item's attributes one key at a time, and moto's
    ``LimitedSizeDict`` re-measures the whole item at each key (quadratic: ~0.3 ms for a run record).
    The item passed every check when it was first written, so it is built the way moto's own
    ``Item.__deepcopy__`` builds a copy, without re-measuring. Tables with a stream (the platform has
    none) go through ``put_item``, which also feeds the stream.
    """
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    if getattr(table, "stream_shard", None) is not None:
        table.put_item(attrs)
        return
    values = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(values, {name: _dynamo_value(value) for name, value in attrs.items()})
    item = Item.__new__(Item)
    item.attrs = values
    item.hash_key = values[table.hash_key_attr]
    item.range_key = values[table.range_key_attr] if table.range_key_attr else None
    if item.range_key is not None:
        table.items[item.hash_key][item.range_key] = item
    else:
        table.items[item.hash_key] = item


def _dynamo_value(value: dict[str, Any]) -> Any:
    """``DynamoType(value)``, built directly (its constructor inspects the dict three times)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    (kind, inner), = value.items()
    typed = DynamoType.__new__(DynamoType)
    typed.type = kind
    if kind == "L":
        typed.value = [_dynamo_value(v) for v in inner]
    elif kind == "M":
        typed.value = {k: _dynamo_value(v) for k, v in inner.items()}
    else:
        typed.value = inner
    return typed


def _replay(app: Any, entries: Iterable[dict[str, Any]]) -> int:
    from werkzeug.test import EnvironBuilder

    direct = DirectLoader()
    count = 0
    for entry in entries:
        headers = entry["headers"]
        body = base64.b64decode(entry["body"])
        count += 1
        if headers.get("HTTP_X_AMZ_TARGET") == PUT_ITEM and direct.put(headers, body):
            continue
        builder = EnvironBuilder(path=entry.get("path", "/"), method=entry.get("method", "POST"), data=body,
                                 content_type=headers.get("CONTENT_TYPE"), query_string=entry.get("query") or None)
        environ = builder.get_environ()
        environ.update({k: v for k, v in headers.items() if k != "CONTENT_TYPE"})
        for _ in app(environ, lambda *a, **k: None):
            pass
    return count


class LocalAws:
    """Owns (or joins) the local moto server for one state folder."""

    #: A start that replays at least this many journal lines rewrites the journal as the current state.
    compact_after = 1000
    #: Serve moto from a process of its own (``local_dev.aws_server``) rather than from this one. The
    #: local platform does (``local_dev.environment``): moto's work per AWS call is about half of a
    #: webhook's, and in its own process it runs on the other core instead of competing for this
    #: process's interpreter lock; the replay of a large journal also overlaps the app's import.
    separate_process = False

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.journal = Journal(state_dir / "aws-journal.jsonl")
        self.endpoint: str | None = None
        self.owner = False
        self._server: Any = None
        self._child: Any = None
        self._child_tables: set[str] = set()
        self._lock_file: io.TextIOWrapper | None = None
        self._users_file: io.TextIOWrapper | None = None

    def start(self, port: int = 0, wait: float = 60.0) -> str:
        """Own the local AWS, or join the process that owns it.

        The owner publishes ``aws.json`` only once it serves, and withdraws it before it stops; a
        process that joins holds a shared lock on ``aws.users`` while it uses the endpoint, and the
        owner waits for those locks before shutting down. So a ``wfp run`` started while ``wfp dev``
        is still starting waits for it, and one started next to another ``wfp run`` is not cut off
        when the first one finishes.
        """
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.state_dir / "aws.lock", "a+")  # noqa: SIM115
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if self._join():
                    return self.endpoint  # type: ignore[return-value]
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local AWS in {self.state_dir} is locked by a process that does not "
                                   "publish its address (aws.json): stop the other wfp process and retry")
            time.sleep(0.1)
        self.owner = True
        self._info.unlink(missing_ok=True)  # left by a process that was killed
        self.endpoint = self._serve(port)
        tmp = self._info.with_suffix(".tmp")
        tmp.write_text(json.dumps({"endpoint": self.endpoint, "pid": os.getpid()}))
        os.replace(tmp, self._info)
        return self.endpoint

    @property
    def _info(self) -> Path:
        return self.state_dir / "aws.json"

    def _join(self) -> bool:
        """Use the owner's endpoint if it publishes one; hold ``aws.users`` (shared) meanwhile."""
        users = open(self.state_dir / "aws.users", "a+")  # noqa: SIM115 - held until stop()
        fcntl.flock(users, fcntl.LOCK_SH)  # blocks only while an owner is shutting down
        try:
            info = json.loads(self._info.read_text())
        except (OSError, ValueError):
            users.close()  # not published yet (starting) or withdrawn (stopping): try again
            return False
        self._users_file = users
        self.endpoint = info["endpoint"]
        log.info("using the local AWS of process %s at %s", info.get("pid"), self.endpoint)
        return True

    def _wait_for_users(self, timeout: float = 60.0) -> None:
        with open(self.state_dir / "aws.users", "a+") as users:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return  # released when the file closes
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        log.warning("stopping the local AWS although other wfp processes still use it")
                        return
                    time.sleep(0.05)

    def _serve(self, port: int) -> str:
        if self.separate_process:
            return self._serve_in_child(port)
        return self.serve_here(port)

    def serve_here(self, port: int = 0) -> str:
        """Replay the journal into a moto in this process and serve it; its address."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from .moto_speedups import install

        install()  # moto's SQS without its per-message queue scans (same answers)
        moto_app = CachedDispatcher(DomainDispatcherApplication(create_backend_app))
        app = JournalingApp(moto_app, self.journal)
        app.recording = False
        # The replay builds one object tree per stored item; the collector would rescan the growing
        # heap many times over for nothing (half the replay's time): they live as long as the server.
        gc.disable()
        try:
            replayed = _replay(moto_app, list(self.journal.entries()))
            gc.freeze()
        finally:
            gc.enable()
        self._compact(moto_app, replayed)
        self.journal.open()
        app.recording = True
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call is noise
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True).start()
        host, bound = self._server.server_address[:2]
        log.info("local AWS (moto) on http://%s:%s, %d journaled call(s) replayed", host, bound, replayed)
        return f"http://{host}:{bound}"

    def _serve_in_child(self, port: int) -> str:
        """Start ``local_dev.aws_server`` for this state folder; its address once it serves.

        This process keeps the lock and publishes the address (``start``); the child only serves, and
        leaves when its stdin closes: at ``stop``, or when this process dies, however it dies.
        """
        import subprocess
        import sys

        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, "-m", "local_dev.aws_server", str(self.state_dir), "--port", str(port),
                   "--compact-after", str(self.compact_after)]
        self._child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
        assert self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            code = self._child.wait()
            self._child = None
            raise RuntimeError(f"the local AWS process exited with {code} before serving (its error is above)")
        ready = json.loads(line)
        self._child_tables = set(ready["tables"])
        return str(ready["endpoint"])

    def _compact(self, moto_app: Any, replayed: int) -> None:
        """Rewrite the journal as the current state, so it does not grow without end: when it has at
        least ``compact_after`` lines and a quarter more than the state would take (a journal that
        is already the state, 10,000 runs say, is not rewritten at every start)."""
        if replayed < self.compact_after:
            return
        from .compaction import snapshot_entries, state_size

        size = state_size()
        if size is not None and replayed <= size * 1.25:
            return

        tmp = self.journal.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            for entry in snapshot_entries(moto_app):
                handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.journal.path)

    def tables(self) -> set[str] | None:
        """The tables of the local AWS when this process owns it (its moto process created the
        platform's; or its moto is in this process), else None: the caller asks the endpoint, as it
        would ask AWS."""
        if not self.owner:
            return None
        if self.separate_process:
            return set(self._child_tables)
        from .compaction import table_names

        return table_names()

    def stop(self) -> None:
        if self.owner and (self._server is not None or self._child is not None):
            self._info.unlink(missing_ok=True)  # no new process joins from now on
            self._wait_for_users()
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._child is not None:
            self._child.stdin.close()  # the child's signal to stop
            try:
                self._child.wait(timeout=30)
            except Exception:  # noqa: BLE001 - a stuck child must not keep this process alive
                self._child.kill()
            self._child = None
        self.journal.close()
        if self._users_file is not None:
            self._users_file.close()
            self._users_file = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def use_endpoint(endpoint: str) -> None:
    """Point every AWS client of this process at ``endpoint`` (set before the first client is made)."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for key, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
