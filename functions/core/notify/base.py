"""What a notice says (``Notice``) and what sends one (``Notifier``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from functions.core.runs import Run

#: The longest error text a notice carries (the run record keeps the whole of it).
MAX_ERROR_CHARS = 2000
EVENTS = {"failure": "workflow.failed", "recovery": "workflow.recovered"}


class NotifierError(Exception):
    """A notifier could not deliver (its endpoint refused, was unreachable, its profile is incomplete)."""


def summary(run: Run, public_url: str | None = None) -> dict[str, Any]:
    """The run as a notice shows it: no inputs, no output, no logs (they may hold what a notice must not)."""
    fields: dict[str, Any] = {
        "run_id": run.run_id, "workflow": run.workflow, "trigger": run.trigger, "status": run.status,
        "attempt": run.attempt, "created_at": _iso(run.created_at), "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at), "duration_ms": run.duration_ms, "message": run.message,
        "error": (run.error or "")[:MAX_ERROR_CHARS] or None,
    }
    if public_url:
        fields["url"] = f"{public_url}/api/runs/{run.run_id}"
    return fields


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def folded_text(count: int) -> str:
    return f"{count} more failure{'s' if count != 1 else ''} since the last notice" if count else ""


@dataclass(frozen=True)
class Notice:
    kind: Literal["failure", "recovery"]
    run: Run
    #: Failures not notified (inside the window) since the previous notice.
    folded: int
    platform: str
    public_url: str | None = None

    @property
    def event(self) -> str:
        return EVENTS[self.kind]

    @property
    def text(self) -> str:
        run = self.run
        if self.kind == "failure":
            what = run.error or run.message or "no message"
            text = (f"Workflow '{run.workflow}' failed: run {run.run_id} ended {run.status} (trigger {run.trigger}, "
                    f"attempt {max(run.attempt, 1)}): {what[:500]}")
        else:
            text = f"Workflow '{run.workflow}' recovered: run {run.run_id} succeeded"
        if self.folded:
            text += f" ({folded_text(self.folded)})"
        if self.public_url:
            text += f" {self.public_url}/api/runs/{run.run_id}"
        return text

    @property
    def subject(self) -> str:
        how = f"failed ({self.run.status})" if self.kind == "failure" else "recovered"
        return f"[{self.platform}] workflow {self.run.workflow} {how}"

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON a webhook receives and the error workflow's ``on_error`` input."""
        return {"event": self.event, "platform": self.platform, "workflow": self.run.workflow,
                "run": summary(self.run, self.public_url), "folded": self.folded, "text": self.text}


class Notifier:
    """One channel. ``send`` raises ``NotifierError`` (or anything) when the notice did not get through;
    the caller logs it and records it, the run never hears of it."""

    kind = "notifier"

    def send(self, notice: Notice) -> None:
        raise NotImplementedError

    #: Values to mask wherever this notifier's failure is reported (its URL, its secret).
    secrets: tuple[str, ...] = ()


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    """POST a JSON body; a status other than 2xx, a refused connection or a timeout is a NotifierError."""
    import urllib.error
    import urllib.request

    if not url.startswith(("https://", "http://")):
        raise NotifierError("the URL must start with https:// (or http://)")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "wfp-notifier",
                                              **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        raise NotifierError(f"the endpoint answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifierError(f"could not reach the endpoint: {type(reason).__name__}: {reason}") from None


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str).encode("utf-8")
