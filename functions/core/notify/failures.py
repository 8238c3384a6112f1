"""The failure handler: the run hook that turns a run's final failure into notices and an error workflow.

When: ``Engine.finish`` calls it (``Platform.run_hooks``) after a run's final save, so an async run the
worker retries (``retry_on_error``, ``functions.core.queued``: saved back to ``queued``, never finished)
is not final and notifies nothing; its last attempt is. Runs closed without their record in hand (the
sweep's ``interrupted``, the worker's last delivery of a platform failure) come through ``closed``.

What it costs: a workflow with no ``on_error`` and no platform default costs nothing (the config is in
memory); otherwise a success reads the workflow's notice state once (GetItem) and a failure makes one
conditional UpdateItem (two when it is folded into the window). The channels come after.

Never a loop: a run started as an error workflow (its inputs carry ``on_error``, the notice) never starts
an error workflow itself, nor does a workflow that names itself; it still notifies through the channels.
A failing channel or error workflow never changes the run: it is logged (masked) and kept as the notice
state's ``last_error``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from functions.core import redaction
from functions.core.notify.base import Notice, Notifier, NotifierError
from functions.core.notify.profiles import TOOLS
from functions.core.notify.state import NoticeStore
from functions.core.runs import FAILED_STATUSES, Run, RunStore, utcnow
from functions.registry.on_error import Notify, OnError
from functions.settings import Settings

if TYPE_CHECKING:
    from functions.core.engine import Engine
    from functions.core.ports import Mailer
    from functions.core.profiles import Profiles
    from functions.registry.discovery import Registry

log = logging.getLogger(__name__)

#: The trigger an error workflow is started with: it must accept "manual".
ERROR_WORKFLOW_TRIGGER = "manual"
#: The input key an error workflow receives the notice under.
INPUT_KEY = "on_error"


class Parts(Protocol):
    settings: Settings
    registry: Registry
    runs: RunStore
    notices: NoticeStore
    profiles: Profiles
    mailer: Mailer
    engine: Engine


def started_as_error_workflow(run: Run) -> bool:
    notice = run.inputs.get(INPUT_KEY) if isinstance(run.inputs, dict) else None
    return isinstance(notice, dict) and "event" in notice and "run" in notice


class FailureHandler:
    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.settings = parts.settings
        self.clock: Callable[[], datetime] = utcnow
        self._default: OnError | None = self._parse_default(self.settings.on_error)

    @staticmethod
    def _parse_default(text: str | None) -> OnError | None:
        if not text:
            return None
        try:
            return OnError.model_validate_json(text)
        except ValueError as exc:
            log.error("WFP_ON_ERROR is not a valid on_error (ignored: no default failure handling): %s", exc)
            return None

    def on_error_of(self, workflow: str) -> OnError | None:
        """The workflow's own ``on_error``, else the platform default; ``None`` when there is nothing to do."""
        try:
            _, config = self.parts.registry.workflow(workflow)
            own = getattr(config, "on_error", None)
        except Exception:  # noqa: BLE001 - a workflow removed or broken since: the default still applies
            own = None
        chosen = own if own is not None else self._default
        return None if chosen is None or chosen.empty else chosen

    # ----- the hooks -------------------------------------------------------------------------------------
    def __call__(self, run: Run) -> None:
        self.finished(run)

    def finished(self, run: Run) -> None:
        if run.status not in FAILED_STATUSES and run.status != "success":
            return
        on_error = self.on_error_of(run.workflow)
        if on_error is None:
            return
        if run.status == "success":
            self._recovered(run, on_error)
        else:
            self._failed(run, on_error)

    def closed(self, run_id: str, workflow: str) -> None:
        """A run closed by the sweep or the worker's give-up: read its record only if it matters."""
        try:
            if self.on_error_of(workflow) is None:
                return
            self.finished(self.parts.runs.get(run_id, consistent=True))
        except Exception:
            log.exception("failure handling of run %s (%s) failed", run_id, workflow)

    # ----- what happens ----------------------------------------------------------------------------------
    def _failed(self, run: Run, on_error: OnError) -> None:
        window = on_error.window_seconds if on_error.window_seconds is not None else self.settings.notice_window_seconds
        now = self.clock()
        folded = self.parts.notices.fail(run.workflow, run.run_id, run.status, now, window)
        if folded is None:
            log.info("run %s of %s failed (%s): folded into the current notice window", run.run_id,
                     run.workflow, run.status)
            return
        notice = self._notice("failure", run, folded)
        errors = self._send(notice, on_error.notify)
        if on_error.workflow:
            if started_as_error_workflow(run) or on_error.workflow == run.workflow:
                log.info("run %s is itself an error workflow's: no error workflow for it", run.run_id)
            else:
                error = self._start(on_error.workflow, notice)
                if error:
                    errors.append(error)
        self._record(run.workflow, errors, now)

    def _recovered(self, run: Run, on_error: OnError) -> None:
        if not on_error.recovery:
            return
        state = self.parts.notices.get(run.workflow)
        if state is None or not state.failing:
            return
        now = self.clock()
        folded = self.parts.notices.recover(run.workflow, run.run_id, now)
        if folded is None:
            return
        self._record(run.workflow, self._send(self._notice("recovery", run, folded), on_error.notify), now)

    def _notice(self, kind: str, run: Run, folded: int) -> Notice:
        return Notice(kind, run, folded, self.settings.prefix, self.settings.public_url)  # type: ignore[arg-type]

    def _send(self, notice: Notice, channels: list[Notify]) -> list[str]:
        errors: list[str] = []
        for channel in channels:
            secrets: tuple[str, ...] = ()
            try:
                notifier = self.notifier(channel)
                secrets = notifier.secrets
                notifier.send(notice)
            except Exception as exc:  # noqa: BLE001 - one channel failing never stops the others, nor the run
                text = redaction.Redactor(secrets).text(f"{type(exc).__name__}: {exc}"
                                                        if not isinstance(exc, NotifierError) else str(exc))
                errors.append(f"{channel.label}: {text}")
                log.warning("notifier %s of workflow %s failed on the %s notice of run %s: %s", channel.label,
                            notice.run.workflow, notice.kind, notice.run.run_id, text)
        return errors

    def notifier(self, channel: Notify) -> Notifier:
        # Imported with the first notice: a run that ends well never loads the channels (nor urllib's).
        from functions.core.notify.email import EmailNotifier
        from functions.core.notify.slack import SlackNotifier
        from functions.core.notify.webhook import WebhookNotifier

        timeout = self.settings.notify_timeout_seconds
        if channel.type == "email":
            return EmailNotifier(self.parts.mailer, self.settings.notify_email_from, channel.to)
        assert channel.profile
        resolved = self.parts.profiles.resolve(TOOLS[channel.type], channel.profile)
        values = [str(v) for v in resolved.params.values() if v not in (None, "")]
        redaction.register_global(*values)  # masked in every run and log, like a webhook secret
        if resolved.missing:
            raise NotifierError(resolved.missing_message())
        params = resolved.params
        if channel.type == "slack":
            return SlackNotifier(str(params["url"]), timeout)
        return WebhookNotifier(str(params["url"]), str(params["secret"]), timeout)

    def _start(self, workflow: str, notice: Notice) -> str | None:
        try:
            submission = self.parts.engine.accept(workflow, {INPUT_KEY: notice.payload}, ERROR_WORKFLOW_TRIGGER,
                                                  wait=None)
            log.info("error workflow %s started for run %s: run %s", workflow, notice.run.run_id,
                     submission.run.run_id)
            return None
        except Exception as exc:  # noqa: BLE001 - refused (inactive, no "manual" trigger) or not queued
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            log.warning("error workflow %s of %s could not start for run %s: %s", workflow, notice.run.workflow,
                        notice.run.run_id, message)
            return f"error workflow {workflow}: {message}"

    def _record(self, workflow: str, errors: list[str], now: datetime) -> None:
        if not errors:
            return
        try:
            self.parts.notices.record_error(workflow, "; ".join(errors)[:2000], now)
        except Exception:
            log.exception("could not record the notifier failure of %s", workflow)
