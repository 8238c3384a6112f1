"""Email through Amazon SES (the v2 API's SendEmail): the failure notices' ``email`` channel
(``functions.core.notify.email``). Deployed, the function roles may send only as the configured identity
(``WFP_NOTIFY_EMAIL_FROM``, the stack's grant); locally moto's SES records the messages (an identity must
be created there first, as SES requires it verified)."""

from __future__ import annotations

from functions.aws.clients import Clients


class SesMailer:
    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    def send(self, sender: str, to: list[str], subject: str, text: str) -> str:
        response = self.clients.get("sesv2").send_email(
            FromEmailAddress=sender, Destination={"ToAddresses": list(to)},
            Content={"Simple": {"Subject": {"Data": subject[:998], "Charset": "UTF-8"},
                                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}}})
        return str(response.get("MessageId", ""))
