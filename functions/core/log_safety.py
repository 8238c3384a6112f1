"""Keep secrets out of log lines that third-party libraries write at DEBUG level.

At DEBUG, requests-oauthlib logs whole token responses and request bodies (client secret, refresh
token), google-auth logs request headers (the bearer token), pynamodb logs every item it writes (the
token record) and botocore logs request and response bodies (token records, Secrets Manager values).
Whatever level the application or a user sets on the root logger, those lines must not be written, so
these loggers' own level is held at INFO. Their INFO and WARNING lines still flow as usual.
"""

from __future__ import annotations

import logging

SECRET_LOGGERS = (
    "requests_oauthlib",
    "oauthlib",
    "google.auth",
    "google.oauth2",
    "google_auth_oauthlib",
    "google_auth_httplib2",
    "pynamodb.connection",
    "botocore.endpoint",
    "botocore.parsers",
)


def hold_secret_loggers() -> None:
    """Raise each of ``SECRET_LOGGERS`` to INFO if it is set lower (idempotent, costs microseconds)."""
    for name in SECRET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
