"""The notifiers' secrets are tool profiles, like every other secret: the built-in tools ``notify_slack``
(``url``) and ``notify_webhook`` (``url``, ``secret``), resolved by ``functions.core.profiles`` from
``NOTIFY_SLACK_<PROFILE>_URL`` / ``NOTIFY_WEBHOOK_<PROFILE>_URL`` and ``..._SECRET`` (``.env``, the
environment) or the Secrets Manager secret ``<prefix>/profiles/notify_slack/<PROFILE>`` (``{"url": ...}``).
Every value is a required parameter, so it is masked in every run and log like a profile's credentials."""

from __future__ import annotations

from functions.registry.config import ToolConfig

TOOLS = {
    "slack": ToolConfig(tool_name="notify_slack", display_name="Slack notices",
                        description="Incoming webhook of the channel failure notices go to",
                        required_params=["url"]),
    "webhook": ToolConfig(tool_name="notify_webhook", display_name="Webhook notices",
                          description="Where signed failure notices are POSTed, and the HMAC key",
                          required_params=["url", "secret"]),
}
#: Tool names a plugin must not take (the notifiers' profiles live under them).
RESERVED_TOOLS = frozenset(config.tool_name for config in TOOLS.values())
