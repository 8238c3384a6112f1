"""Email through the ``Mailer`` port (``functions.aws.email``: SES's SendEmail deployed, moto's locally), from
the one identity the platform may send as (``WFP_NOTIFY_EMAIL_FROM``) to the ``to`` of the notifier."""

from __future__ import annotations

import json

from functions.core.notify.base import Notice, Notifier, NotifierError, summary
from functions.core.ports import Mailer


class EmailNotifier(Notifier):
    kind = "email"

    def __init__(self, mailer: Mailer, sender: str | None, to: list[str]) -> None:
        self.mailer, self.sender, self.to = mailer, sender, to

    def send(self, notice: Notice) -> None:
        if not self.sender:
            raise NotifierError("no sender: set WFP_NOTIFY_EMAIL_FROM to an SES-verified identity")
        body = f"{notice.text}\n\n{json.dumps(summary(notice.run, notice.public_url), indent=2)}\n"
        self.mailer.send(self.sender, self.to, notice.subject, body)
