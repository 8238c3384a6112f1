"""``on_error`` in a workflow's ``config.json`` (and ``WFP_ON_ERROR``, the platform's default): what happens
when a run of the workflow ends ``error``, ``timed_out`` or ``interrupted`` after its last attempt.

    "on_error": {
      "workflow": "notify_team",                         # started (trigger "manual") with the summary
      "notify": [{"type": "slack", "profile": "OPS"},    # Slack incoming webhook: profile of notify_slack
                 {"type": "webhook", "profile": "OPS"},  # signed JSON POST: profile of notify_webhook
                 {"type": "email", "to": ["ops@example.com"]}],  # SES, from WFP_NOTIFY_EMAIL_FROM
      "window_seconds": 3600,                            # one failure notice per window (WFP_NOTICE_WINDOW_SECONDS)
      "recovery": true                                   # a notice when a run succeeds again
    }

Secrets (a Slack hook URL, a webhook's URL and signing secret) are never written here: they are the
profile's parameters, like every tool's (``functions.core.notify.profiles``). The handling itself lives in
``functions.core.notify``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from functions.registry.profile import PROFILE_RE

_NAME = re.compile(r"^[a-z0-9_]+$")
#: Loose on purpose (SES checks the address): one @, no spaces.
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")


class Notify(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    type: Literal["slack", "webhook", "email"]
    #: slack, webhook: the profile of the built-in tool ``notify_slack`` / ``notify_webhook``.
    profile: str | None = None
    #: email: the recipients.
    to: list[str] = []

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not PROFILE_RE.match(value):
            raise ValueError(f"invalid profile name {value!r}: use letters, digits and _ (e.g. OPS)")
        return value.upper()

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not _ADDRESS.match(a)]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Notify:
        if self.type in ("slack", "webhook") and not self.profile:
            raise ValueError(f"a '{self.type}' notifier needs a \"profile\" (its URL and secret live in the "
                             f"profile of tool 'notify_{self.type}')")
        if self.type == "email" and not self.to:
            raise ValueError("an 'email' notifier needs \"to\": [addresses]")
        if self.type == "email" and self.profile:
            raise ValueError("an 'email' notifier takes no profile (the sender is WFP_NOTIFY_EMAIL_FROM)")
        return self

    @property
    def label(self) -> str:
        return f"{self.type} ({self.profile})" if self.profile else f"{self.type} ({', '.join(self.to)})"


class OnError(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    workflow: str | None = None
    notify: list[Notify] = []
    #: One failure notice per workflow within this many seconds (default: ``WFP_NOTICE_WINDOW_SECONDS``).
    window_seconds: int | None = Field(None, ge=0)
    recovery: bool = True

    @field_validator("workflow")
    @classmethod
    def _workflow(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"on_error.workflow {value!r} must be a workflow name ([a-z0-9_]+)")
        return value

    @property
    def empty(self) -> bool:
        return not self.workflow and not self.notify
