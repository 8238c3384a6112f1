"""What of a run's output and log lines its record holds, and where the rest goes.

A run record is one DynamoDB item: 400 KB at most, and every byte of it is paid again at each write.
It holds the output when its JSON fits ``record_output_bytes``, and the log lines when they fit
``record_log_lines`` and ``record_log_bytes``. Beyond that, the whole output (or the whole log) is put
in the run-data bucket, under ``runs/<run_id>/output.json`` (``logs.json``, a JSON list of lines), and
the record keeps a preview (the output's first bytes; the first lines and one saying how many follow)
and the object's key. Reading a run (``DynamoRunStore.get``) puts the whole back: one GetObject per
part kept aside, for the runs that have one; history pages and the search list summaries and never do.

Why a preview rather than nothing: the run stays readable when its object is gone or was never
written. S3 failing at save time does not lose the run: it is saved with its preview, marked
``output_truncated``, and the failure is logged. The bucket's lifecycle expires objects a day after
the record's TTL (``infrastructure/run_data.py``), and DynamoDB's TTL may delete records days late.

Only what the run already scrubbed reaches the bucket: outputs are redacted before they are bounded
(``functions.core.execution``), log lines as they are captured (``functions.core.runlog``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from functions.core.inputs import bounded_json
from functions.core.ports import BlobStore
from functions.core.runs import Run
from functions.settings import Settings

log = logging.getLogger(__name__)

#: The room left in the record's log budget for the line that says how many lines follow.
MARKER_ROOM = 120


def output_key(run_id: str) -> str:
    return f"runs/{run_id}/output.json"


def logs_key(run_id: str) -> str:
    return f"runs/{run_id}/logs.json"


@dataclass
class Kept:
    """What the record of a run holds of its output and logs, and the keys of what went to the bucket."""

    output: Any
    output_truncated: bool
    logs: list[str]
    output_ref: str | None = None
    logs_ref: str | None = None


class RunData:
    def __init__(self, blobs: BlobStore | None, settings: Settings) -> None:
        #: None: no bucket (a store built without one): what does not fit the record is not kept.
        self.blobs = blobs
        self.output_budget = settings.record_output_bytes
        self.line_budget = settings.record_log_lines
        self.log_budget = settings.record_log_bytes

    # ----- saving ------------------------------------------------------------------------------------------
    def keep(self, run: Run) -> Kept:
        """Split a run's output and logs between its record and the bucket (a PutObject per part that
        does not fit; none for the usual run)."""
        kept = Kept(run.output, run.output_truncated, list(run.logs))
        if run.output is not None:
            text = json.dumps(run.output, ensure_ascii=False, default=str)
            if len(text.encode()) > self.output_budget:
                kept.output, _ = bounded_json(run.output, self.output_budget)
                kept.output_ref = self._put(output_key(run.run_id), text, run.run_id, "output")
                kept.output_truncated = run.output_truncated or kept.output_ref is None
        sizes = [len(line.encode("utf-8", errors="replace")) for line in run.logs]
        if len(sizes) > self.line_budget or sum(sizes) > self.log_budget:
            kept.logs_ref = self._put(logs_key(run.run_id), json.dumps(run.logs, ensure_ascii=False),
                                      run.run_id, "log lines")
            head, used = [], 0
            for line, size in zip(run.logs, sizes):
                if len(head) >= self.line_budget - 1 or used + size > self.log_budget - MARKER_ROOM:
                    break
                head.append(line)
                used += size
            more = len(run.logs) - len(head)
            kept.logs = [*head, f"... {more} more line(s): the whole log is kept with the run" if kept.logs_ref
                         else f"... {more} more line(s) not kept"]
        return kept

    def _put(self, key: str, text: str, run_id: str, what: str) -> str | None:
        if self.blobs is None:
            return None
        try:
            self.blobs.put(key, text.encode(), "application/json")
            return key
        except Exception:  # noqa: BLE001 - the run is saved with its preview whatever S3 says
            log.exception("run %s: its %s could not be kept in the run-data bucket; its record keeps "
                          "the first part only", run_id, what)
            return None

    # ----- reading -----------------------------------------------------------------------------------------
    def whole(self, run: Run, output_ref: str | None, logs_ref: str | None) -> Run:
        """Put back the parts of ``run`` kept in the bucket (the record's preview stays if one is gone)."""
        if output_ref:
            body = self._get(output_ref, run.run_id)
            if body is None:
                run.output_truncated = True
            else:
                run.output = json.loads(body)
        if logs_ref:
            body = self._get(logs_ref, run.run_id)
            if body is not None:
                run.logs = list(json.loads(body))
        return run

    def _get(self, key: str, run_id: str) -> bytes | None:
        if self.blobs is None:
            return None
        try:
            return self.blobs.get(key)
        except KeyError:
            log.warning("run %s: %s is no longer in the run-data bucket; showing its record's part", run_id, key)
        except Exception:  # noqa: BLE001 - a run is shown with its preview rather than not at all
            log.exception("run %s: %s could not be read from the run-data bucket", run_id, key)
        return None
