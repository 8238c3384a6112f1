"""Slack incoming webhook: ``POST {"text": ...}`` to the hook URL (the profile's ``url``: a secret, since
whoever holds it can post to the channel)."""

from __future__ import annotations

from functions.core.notify.base import Notice, Notifier, dumps, post_json


class SlackNotifier(Notifier):
    kind = "slack"

    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self.secrets = (url,)

    def send(self, notice: Notice) -> None:
        post_json(self.url, dumps({"text": notice.text}), {}, self.timeout)
