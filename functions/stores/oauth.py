"""OAuth records in DynamoDB: pending sign-ins (``state``) and the tokens they produce.

Two tables, both derived from the models below (the CDK, the local server and the tests create them
from ``functions.stores.base.all_models()``):

* ``<prefix>-oauth-states``: one item per sign-in started, keyed by its random ``state``. It binds the
  state to the tool, profile, service and redirect URI (and holds the PKCE verifier), expires through
  DynamoDB TTL, and is consumed with a conditional update, so two callbacks racing with the same state
  cannot both succeed. DynamoDB deletes expired items lazily (up to days later), so expiry is also
  checked here; the used item is kept as a tombstone until its TTL so a replay gets a precise answer.
* ``<prefix>-tokens``: one item per tool and profile (hash ``tool``, range ``profile``). It holds the
  access and refresh tokens but not the OAuth client's secret, which stays in the profile (file or
  Secrets Manager) and is read when a refresh needs it. The table is encrypted at rest by DynamoDB.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from functions.core.log_safety import hold_secret_loggers
from functions.errors import BadRequest
from functions.settings import Settings
from functions.stores.base import TableName, bind, conditionally, register

hold_secret_loggers()  # pynamodb and botocore would log token records at DEBUG


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@register
class OAuthStateModel(Model):
    class Meta:
        # save_state: PutItem; consume_state: GetItem, then a conditional UpdateItem (used_at).
        table_name = TableName("oauth_states_table", operations=("PutItem", "GetItem", "UpdateItem"))
        billing_mode = "PAY_PER_REQUEST"

    state = UnicodeAttribute(hash_key=True)
    provider = UnicodeAttribute()
    tool = UnicodeAttribute()
    service = UnicodeAttribute()
    profile = UnicodeAttribute()
    redirect_uri = UnicodeAttribute()
    code_verifier = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()


@register
class OAuthTokenModel(Model):
    class Meta:
        # get_token: GetItem; save_token: PutItem. Nothing deletes a token: signing in again replaces it.
        table_name = TableName("tokens_table", operations=("GetItem", "PutItem"))
        billing_mode = "PAY_PER_REQUEST"

    tool = UnicodeAttribute(hash_key=True)
    profile = UnicodeAttribute(range_key=True)
    provider = UnicodeAttribute()
    service = UnicodeAttribute(null=True)
    #: ``connected`` or ``reauth_required`` (the refresh token was refused: the user must sign in again).
    status = UnicodeAttribute(default="connected")
    access_token = UnicodeAttribute(null=True)
    refresh_token = UnicodeAttribute(null=True)
    scopes = ListAttribute(of=UnicodeAttribute, null=True)
    expiry = UTCDateTimeAttribute(null=True)
    client_id = UnicodeAttribute(null=True)
    #: ``oauth`` (signed in through /oauth/google/auth) or ``token_file`` (imported seed token file).
    source = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()


# ----- states --------------------------------------------------------------------------------------------
class StateError(BadRequest):
    """The callback's ``state`` cannot be used; ``reason`` is ``missing``, ``unknown``, ``used`` or ``expired``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, {"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class PendingSignIn:
    state: str
    provider: str
    tool: str
    service: str
    profile: str
    redirect_uri: str
    code_verifier: str | None


def new_state() -> str:
    """256 bits from the OS's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


# ----- tokens --------------------------------------------------------------------------------------------
@dataclass
class TokenRecord:
    """A stored token, as the rest of the platform sees it (never serialized into a response)."""

    tool: str
    profile: str
    provider: str
    service: str | None = None
    status: str = "connected"
    access_token: str | None = None
    refresh_token: str | None = None
    scopes: list[str] | None = None
    expiry: datetime | None = None
    client_id: str | None = None
    source: str | None = None
    error: str | None = None
    updated_at: datetime | None = None

    def __repr__(self) -> str:  # never print a token, even in a traceback or a debugger
        return (f"TokenRecord(tool={self.tool!r}, profile={self.profile!r}, status={self.status!r}, "
                f"expiry={self.expiry!r}, has_refresh_token={bool(self.refresh_token)})")


_TOKEN_FIELDS = ("provider", "service", "status", "access_token", "refresh_token", "scopes", "expiry",
                 "client_id", "source", "error", "updated_at")


class OAuthStore:
    """Sign-in states and tokens on their two tables (moto locally and in tests, DynamoDB deployed)."""

    def __init__(self, settings: Settings) -> None:
        bind(settings)
        self.state_ttl = settings.oauth_state_ttl_seconds

    def save_state(self, sign_in: PendingSignIn) -> datetime:
        """Record a sign-in about to start; returns when it expires."""
        now = utcnow()
        expires = now + timedelta(seconds=self.state_ttl)
        OAuthStateModel(sign_in.state, provider=sign_in.provider, tool=sign_in.tool, service=sign_in.service,
                        profile=sign_in.profile, redirect_uri=sign_in.redirect_uri,
                        code_verifier=sign_in.code_verifier, created_at=now, expires_at=expires).save()
        return expires

    def consume_state(self, state: str | None) -> PendingSignIn:
        """The sign-in a state belongs to, marked used: a state works once, within its lifetime."""
        if not state:
            raise StateError("missing", "the callback has no 'state' parameter: start the sign-in again")
        try:
            item = OAuthStateModel.get(state)
        except DoesNotExist:
            raise StateError("unknown", "unknown sign-in state: this link was not issued by this platform or "
                                        "has been purged; start the sign-in again") from None
        if item.used_at is not None:
            raise StateError("used", "this sign-in link was already used: start the sign-in again")
        if item.expires_at is None or item.expires_at <= utcnow():
            raise StateError("expired", f"this sign-in link has expired (it is valid for {self.state_ttl // 60} "
                                        "minutes): start the sign-in again")
        if not conditionally(lambda: item.update(
                actions=[OAuthStateModel.used_at.set(utcnow())],
                condition=OAuthStateModel.state.exists() & OAuthStateModel.used_at.does_not_exist())):
            raise StateError("used", "this sign-in link was already used: start the sign-in again")
        return PendingSignIn(item.state, item.provider, item.tool, item.service, item.profile, item.redirect_uri,
                             item.code_verifier)

    def get_token(self, tool: str, profile: str) -> TokenRecord | None:
        try:
            item = OAuthTokenModel.get(tool, profile, consistent_read=True)
        except DoesNotExist:
            return None
        values: dict[str, Any] = {name: getattr(item, name) for name in _TOKEN_FIELDS}
        values["scopes"] = list(values["scopes"] or [])
        return TokenRecord(tool=item.tool, profile=item.profile, **values)

    def save_token(self, record: TokenRecord) -> None:
        record.updated_at = utcnow()
        OAuthTokenModel(record.tool, record.profile,
                        **{name: getattr(record, name) for name in _TOKEN_FIELDS}).save()
