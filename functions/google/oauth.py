"""Google OAuth for every Google tool: one sign-in flow, tokens per tool and profile, visible status.

A Google tool declares ``"oauth": {"provider": "google", "service": "calendar"}`` in its config.json.
Its profile supplies the OAuth client (the JSON file Google Cloud Console gives, "web" or "installed"):
* ``credentials_file`` (``GOOGLE_CALENDAR_TEST_CREDENTIALS_FILE``, as in the seed), a path to that file;
* or, in the profile's Secrets Manager secret ``<prefix>/profiles/<tool>/<PROFILE>``, the key
  ``client_config`` (or ``credentials``) holding that JSON (an object or a JSON string), or the secret
  itself being that JSON (top-level ``web`` / ``installed``).

The flow is google-auth-oauthlib's ``Flow`` (with PKCE); this module adds what a stateless, multi-user
server needs around it: the ``state`` record (single use, 10 minutes, DynamoDB TTL) that binds a sign-in
to its tool, profile and redirect URI; the token record in DynamoDB; refresh-and-save; the seed's token
file imported on first use; and a status that says what to do. Google libraries are imported on first
use only (they cost ~160 ms of cold start).

Tokens never leave this module except inside google-auth ``Credentials`` handed to API clients: the
status reports facts about them (expiry, scopes, whether a refresh token exists), never their values,
and the third-party loggers that print tokens at DEBUG level are held at INFO (``functions.core.log_safety``).
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from functions.core import redaction
from functions.core.log_safety import hold_secret_loggers
from functions.errors import BadRequest, Conflict, NotFound, PlatformError
from functions.platform import Platform, get_platform
from functions.registry import profile as profiles
from functions.registry.config import ToolConfig
from functions.settings import REPO_ROOT
from functions.stores.oauth import PendingSignIn, StateError, TokenRecord, new_state

if TYPE_CHECKING:  # pragma: no cover
    from google.oauth2.credentials import Credentials

log = logging.getLogger(__name__)

PROVIDER = "google"
AUTH_PATH = "/oauth/google/auth"
CALLBACK_PATH = "/oauth/google/callback"
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
CLIENT_KEYS = ("client_config", "credentials")


@dataclass(frozen=True)
class ServiceSpec:
    """A Google API as a tool uses it: its discovery name and version, and the scopes it asks for."""

    name: str
    api: str
    version: str
    scopes: tuple[str, ...]
    display_name: str


SERVICES: dict[str, ServiceSpec] = {
    "calendar": ServiceSpec("calendar", "calendar", "v3", ("https://www.googleapis.com/auth/calendar",),
                            "Google Calendar"),
    "drive": ServiceSpec("drive", "drive", "v3", ("https://www.googleapis.com/auth/drive",), "Google Drive"),
    "sheets": ServiceSpec("sheets", "sheets", "v4", ("https://www.googleapis.com/auth/spreadsheets",),
                          "Google Sheets"),
}


def service_spec(oauth: dict[str, Any] | None) -> ServiceSpec:
    """The service a tool's ``oauth`` block names; ``scopes``, ``api``, ``version`` may override the defaults."""
    oauth = oauth or {}
    name = str(oauth.get("service") or "")
    base = SERVICES.get(name)
    scopes = oauth.get("scopes") or (base.scopes if base else ())
    api = oauth.get("api") or (base.api if base else "")
    version = oauth.get("version") or (base.version if base else "")
    if not name or not scopes or not api or not version:
        raise BadRequest(f"unknown Google service {name!r}: use {', '.join(SERVICES)}, or declare \"scopes\", "
                         "\"api\" and \"version\" in the tool's \"oauth\" block")
    display = oauth.get("display_name") or (base.display_name if base else f"Google {name.title()}")
    return ServiceSpec(name, str(api), str(version), tuple(str(s) for s in scopes), str(display))


# ----- errors --------------------------------------------------------------------------------------------
class OAuthNotReady(PlatformError):
    """The tool cannot call Google yet; ``status`` says why and ``auth_url`` where to (re)connect."""

    status_code = 424

    def __init__(self, message: str, status: str, auth_url: str | None = None) -> None:
        super().__init__(message, {"status": status, "auth_url": auth_url})
        self.status, self.auth_url = status, auth_url


class OAuthFlowError(PlatformError):
    """The sign-in could not complete (refused, bad code, Google unreachable); nothing was stored."""

    status_code = 400


# ----- the third-party libraries, lazily (each first use also holds their DEBUG loggers at INFO) -------
def _flow_class() -> Any:
    hold_secret_loggers()
    from google_auth_oauthlib.flow import Flow

    return Flow


def _transport_request() -> Any:
    hold_secret_loggers()
    from google.auth.transport.requests import Request

    return Request()


def _naive_utc(value: datetime | None) -> datetime | None:
    """google-auth compares expiries as naive UTC datetimes."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _aware_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _parse_json_value(value: Any, what: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError(f"{what} is not valid JSON") from None
    return value


def _find_file(raw: str) -> Path:
    """A profile's file path: absolute, or relative to the working directory, then to the repository."""
    path = Path(raw).expanduser()
    if path.is_absolute() or path.exists():
        return path
    candidate = REPO_ROOT / path
    return candidate if candidate.exists() else path


# ----- one tool + profile --------------------------------------------------------------------------------
class GoogleConnection:
    """Everything OAuth about one Google tool with one profile: client, sign-in, token, status."""

    def __init__(self, tool_config: ToolConfig, profile: str, params: dict[str, Any] | None = None,
                 platform: "Platform | None" = None) -> None:
        self.platform = platform or get_platform()
        self.store = self.platform.oauth
        self.tool_config = tool_config
        self.tool = tool_config.tool_name
        self.profile = profiles.normalize_profile(profile)
        self.spec = service_spec(tool_config.oauth)
        self.params = params if params is not None else self.platform.profiles.resolve(tool_config, self.profile).params
        self._client: dict[str, Any] | None = None

    # ----- the OAuth client --------------------------------------------------------------------------
    @property
    def secret_name(self) -> str:
        return self.platform.settings.profile_secret_name(self.tool, self.profile)

    def _var(self, param: str) -> str:
        return profiles.env_var(self.tool, self.profile, param)

    def _client_from(self, source: dict[str, Any], where: str) -> dict[str, Any] | None:
        for key in CLIENT_KEYS:
            if source.get(key) not in (None, ""):
                return _parse_json_value(source[key], f"{where} key {key!r}")
        if "web" in source or "installed" in source:
            return {k: source[k] for k in ("web", "installed") if k in source}
        return None

    def client_config(self) -> dict[str, Any]:
        """The OAuth client JSON (``{"web": {...}}`` or ``{"installed": {...}}``), validated."""
        if self._client is not None:
            return self._client
        try:
            config = self._client_from(self.params, "profile parameter")
            if config is None and self.params.get("credentials_file"):
                path = _find_file(str(self.params["credentials_file"]))
                try:
                    config = json.loads(path.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    raise ValueError(f"credentials file {str(path)!r} (from {self._var('credentials_file')}) "
                                     "does not exist") from None
                except ValueError:
                    raise ValueError(f"credentials file {str(path)!r} is not valid JSON") from None
            if config is None:
                # The profile may live in .env and keep only the client in Secrets Manager.
                try:
                    secret = self.platform.profiles.read(self.secret_name) or {}
                except Exception as exc:  # noqa: BLE001 - no AWS here means "no secret", said in the message
                    log.info("secret %s unreadable: %s", self.secret_name, type(exc).__name__)
                    secret = {}
                config = self._client_from(secret, f"secret {self.secret_name!r}")
        except ValueError as exc:
            raise OAuthNotReady(f"{self.label}: {exc}", "not_configured", self.auth_url()) from None
        if config is None:
            raise OAuthNotReady(
                f"{self.label} has no Google OAuth client: set {self._var('credentials_file')} to the client "
                f"JSON file downloaded from Google Cloud Console, or put that JSON under the key "
                f"\"client_config\" of the Secrets Manager secret '{self.secret_name}'",
                "not_configured", self.auth_url())
        self._client = self._validate_client(config)
        return self._client

    def _validate_client(self, config: Any) -> dict[str, Any]:
        kind = next((k for k in ("web", "installed") if isinstance(config, dict) and k in config), None)
        if kind is None or not isinstance(config[kind], dict):
            raise OAuthNotReady(f"{self.label}: the OAuth client JSON must have a \"web\" or \"installed\" "
                                "section (download it from Google Cloud Console > Credentials)",
                                "not_configured", self.auth_url())
        section = dict(config[kind])
        missing = [k for k in ("client_id", "client_secret") if not section.get(k)]
        if missing:
            raise OAuthNotReady(f"{self.label}: the OAuth client JSON lacks {', '.join(missing)}",
                                "not_configured", self.auth_url())
        section.setdefault("auth_uri", GOOGLE_AUTH_URI)
        section.setdefault("token_uri", GOOGLE_TOKEN_URI)
        return {kind: section}

    @property
    def client(self) -> dict[str, Any]:
        """The client section (``web`` or ``installed``) of the client config."""
        return next(iter(self.client_config().values()))

    # ----- URLs ----------------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return f"tool '{self.tool}' profile '{self.profile}'"

    def redirect_uri(self, request_base: str) -> str:
        """The profile's ``redirect_uri`` if set, else the callback under this request's public base URL."""
        configured = str(self.params.get("redirect_uri") or "").strip()
        return configured or f"{request_base.rstrip('/')}{CALLBACK_PATH}"

    def auth_url(self, base: str | None = None) -> str:
        """Where a person (re)connects this tool; relative when no public base URL is known."""
        if base is None:
            configured = str(self.params.get("redirect_uri") or "").strip()
            if configured.endswith(CALLBACK_PATH):
                base = configured[: -len(CALLBACK_PATH)]
            else:
                base = self.platform.settings.public_url or ""
        query = {"service": self.spec.name, "profile": self.profile}
        if self.tool != f"google_{self.spec.name}":
            query["tool"] = self.tool
        return f"{base.rstrip('/')}{AUTH_PATH}?{urllib.parse.urlencode(query)}"

    # ----- the sign-in -----------------------------------------------------------------------------------
    def _flow(self, redirect_uri: str, state: str, code_verifier: str | None) -> Any:
        return _flow_class().from_client_config(
            self.client_config(), scopes=list(self.spec.scopes), redirect_uri=redirect_uri, state=state,
            code_verifier=code_verifier, autogenerate_code_verifier=code_verifier is None)

    def start(self, request_base: str) -> str:
        """Record a new sign-in and return Google's consent URL for it."""
        from oauthlib.oauth2.rfc6749.errors import OAuth2Error

        redirect_uri = self.redirect_uri(request_base)
        state = new_state()
        flow = self._flow(redirect_uri, state, None)
        try:
            url, _ = flow.authorization_url(access_type="offline", prompt="consent")
        except OAuth2Error as exc:  # e.g. an http:// auth_uri outside tests
            raise OAuthNotReady(f"{self.label}: cannot build the Google sign-in URL: {exc}", "not_configured") from None
        self.store.save_state(PendingSignIn(state, PROVIDER, self.tool, self.spec.name, self.profile,
                                             redirect_uri, flow.code_verifier))
        log.info("OAuth sign-in started for %s %s (service %s)", self.tool, self.profile, self.spec.name)
        return str(url)

    def finish(self, sign_in: PendingSignIn, code: str | None) -> TokenRecord:
        """Exchange the authorization code for tokens and store them."""
        import requests
        from oauthlib.oauth2.rfc6749.errors import OAuth2Error

        if not code:
            raise OAuthFlowError("the callback has no 'code' parameter: start the sign-in again at "
                                 f"{self.auth_url()}")
        flow = self._flow(sign_in.redirect_uri, sign_in.state, sign_in.code_verifier)
        try:
            token = dict(flow.fetch_token(code=code))
        except Warning as warning:  # oauthlib: granted scopes differ from requested (the user unticked some)
            token = dict(getattr(warning, "token", None) or {})
            if not token.get("access_token"):
                raise OAuthFlowError(f"Google's answer could not be used: {warning}") from None
        except OAuth2Error as exc:
            raise OAuthFlowError(f"Google refused the authorization code ({exc.error}"
                                 f"{': ' + exc.description if exc.description else ''}): start the sign-in "
                                 "again") from None
        except requests.RequestException as exc:
            error = OAuthFlowError(f"could not reach Google's token endpoint ({type(exc).__name__}): try again")
            error.status_code = 502
            raise error from None
        record = self._record_from_token(token, source="oauth")
        self.store.save_token(record)
        log.info("OAuth connected: %s %s (scopes: %s)", self.tool, self.profile, " ".join(record.scopes or []))
        return record

    def _record_from_token(self, token: dict[str, Any], source: str) -> TokenRecord:
        scope = token.get("scope") or token.get("scopes") or list(self.spec.scopes)
        scopes = scope.split() if isinstance(scope, str) else [str(s) for s in scope]
        expiry: datetime | None = None
        if token.get("expires_at"):
            expiry = datetime.fromtimestamp(float(token["expires_at"]), timezone.utc)
        elif token.get("expires_in"):
            expiry = datetime.now(timezone.utc) + timedelta(seconds=float(token["expires_in"]))
        elif token.get("expiry"):
            expiry = _aware_utc(datetime.fromisoformat(str(token["expiry"]).replace("Z", "+00:00")))
        return TokenRecord(tool=self.tool, profile=self.profile, provider=PROVIDER, service=self.spec.name,
                           status="connected", access_token=token.get("access_token") or token.get("token"),
                           refresh_token=token.get("refresh_token"), scopes=scopes, expiry=expiry,
                           client_id=token.get("client_id") or self._client_id(), source=source)

    def _client_id(self) -> str | None:
        try:
            return str(self.client["client_id"])
        except OAuthNotReady:
            return None

    # ----- the token -------------------------------------------------------------------------------------
    def record(self) -> TokenRecord | None:
        """The stored token; on first use, the seed's token file (``token_file``) is imported."""
        record = self.store.get_token(self.tool, self.profile)
        if record is None and self.params.get("token_file"):
            record = self._import_token_file(str(self.params["token_file"]))
        return record

    def _import_token_file(self, raw: str) -> TokenRecord | None:
        path = _find_file(raw)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None  # the seed wrote this file after the first sign-in: not there yet is normal
        except ValueError:
            log.warning("token file %s (%s) is not valid JSON: ignored", path, self._var("token_file"))
            return None
        if not isinstance(data, dict) or not (data.get("token") or data.get("access_token")
                                              or data.get("refresh_token")):
            log.warning("token file %s (%s) holds no token: ignored", path, self._var("token_file"))
            return None
        record = self._record_from_token(data, source="token_file")
        self.store.save_token(record)
        log.info("imported the token file of %s %s into the tokens table", self.tool, self.profile)
        return record

    def _not_connected(self, link: str | None = None) -> OAuthNotReady:
        return OAuthNotReady(f"{self.label} is not connected to {self.spec.display_name}: open "
                             f"{link or self.auth_url()} to connect it", "not_connected", self.auth_url())

    def _reauth(self, record: TokenRecord, link: str | None = None) -> OAuthNotReady:
        why = f" ({record.error})" if record.error else ""
        return OAuthNotReady(f"{self.label}: Google no longer accepts the stored authorization{why}; "
                             f"sign in again at {link or self.auth_url()}", "reauth_required", self.auth_url())

    def credentials(self) -> "Credentials":
        """Ready google-auth credentials, refreshed (and the refresh saved) when the access token expired."""
        client = self.client  # raises OAuthNotReady when the profile has no OAuth client
        record = self.record()
        if record is not None and record.status == "reauth_required":
            raise self._reauth(record)
        if record is None or not (record.access_token or record.refresh_token):
            raise self._not_connected()
        hold_secret_loggers()
        from google.oauth2.credentials import Credentials

        redaction.register(record.access_token, record.refresh_token, client.get("client_secret"))
        creds = Credentials(token=record.access_token, refresh_token=record.refresh_token,
                            token_uri=client["token_uri"], client_id=client["client_id"],
                            client_secret=client["client_secret"], scopes=record.scopes or None,
                            expiry=_naive_utc(record.expiry))
        if creds.valid:
            return creds
        if not record.refresh_token:
            raise OAuthNotReady(f"{self.label}: the access token expired and there is no refresh token; "
                                f"sign in again at {self.auth_url()}", "expired", self.auth_url())
        self.refresh(creds, record)
        return creds

    def refresh(self, creds: "Credentials", record: TokenRecord | None = None) -> None:
        """Refresh now and save the new access token; ``invalid_grant`` marks the record reauth_required."""
        from google.auth.exceptions import RefreshError, TransportError

        record = record or self.record()
        try:
            creds.refresh(_transport_request())
        except RefreshError as exc:
            if record is not None and _is_invalid_grant(exc):
                record.status, record.error = "reauth_required", _refresh_reason(exc)
                record.access_token = record.refresh_token = None
                self.store.save_token(record)
                log.warning("OAuth refresh refused for %s %s: reauth required", self.tool, self.profile)
                raise self._reauth(record) from None
            raise OAuthNotReady(f"{self.label}: refreshing the access token failed: {_refresh_reason(exc)}",
                                "refresh_failed", None) from None
        except TransportError as exc:
            raise OAuthNotReady(f"{self.label}: could not reach Google to refresh the access token "
                                f"({type(exc).__name__}): try again", "refresh_failed", None) from None
        redaction.register(creds.token, creds.refresh_token)
        self.save_if_changed(creds, record)
        log.info("OAuth access token refreshed for %s %s", self.tool, self.profile)

    def save_if_changed(self, creds: "Credentials", record: TokenRecord | None = None) -> bool:
        """Store what google-auth refreshed on its own (an API client refreshes on a 401, too)."""
        record = record or self.store.get_token(self.tool, self.profile)
        if record is None or not creds.token:
            return False
        if creds.token == record.access_token and (creds.refresh_token or None) in (None, record.refresh_token):
            return False
        record.access_token = creds.token
        record.refresh_token = creds.refresh_token or record.refresh_token
        record.expiry = _aware_utc(creds.expiry)
        if creds.granted_scopes:
            record.scopes = list(creds.granted_scopes)
        record.status, record.error = "connected", None
        self.store.save_token(record)
        return True

    def mark_reauth(self, reason: str) -> OAuthNotReady:
        """An API call hit ``invalid_grant`` while refreshing on its own: remember it."""
        record = self.store.get_token(self.tool, self.profile)
        if record is not None:
            record.status, record.error = "reauth_required", reason
            record.access_token = record.refresh_token = None
            self.store.save_token(record)
            return self._reauth(record)
        return self._not_connected()

    # ----- status ----------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Facts about the connection, never a token: what the status endpoints and the dashboard show."""
        out: dict[str, Any] = {
            "tool": self.tool, "profile": self.profile, "requires_oauth": True, "provider": PROVIDER,
            "service": self.spec.name, "requested_scopes": list(self.spec.scopes),
        }
        try:
            self.client_config()
            configured, message = True, None
        except OAuthNotReady as exc:
            configured, message = False, exc.message
        record = self.record()
        now = datetime.now(timezone.utc)
        expired = bool(record and record.expiry and record.expiry <= now)
        has_refresh = bool(record and record.refresh_token)
        if not configured:
            state = "not_configured"
        elif record is None or not (record.access_token or record.refresh_token):
            state = "reauth_required" if record and record.status == "reauth_required" else "not_connected"
        elif record.status == "reauth_required":
            state = "reauth_required"
        elif expired and not has_refresh:
            state = "expired"
        else:
            state = "connected"
        if state == "reauth_required" and record is not None:
            message = self._reauth(record, "the auth_url").message
        elif state == "expired":
            message = (f"{self.label}: the access token expired and there is no refresh token; open the "
                       "auth_url to connect again")
        elif state == "not_connected":
            message = self._not_connected("the auth_url").message
        granted = list(record.scopes or []) if record else []
        missing = [s for s in self.spec.scopes if s not in granted] if record and state == "connected" else []
        out.update({
            "status": state, "connected": state == "connected", "configured": configured,
            "scopes": granted, "missing_scopes": missing,
            "expiry": record.expiry.isoformat() if record and record.expiry else None,
            "expired": expired, "has_refresh_token": has_refresh,
            "updated_at": record.updated_at.isoformat() if record and record.updated_at else None,
            "source": record.source if record else None,
            "auth_url": self.auth_url() if state != "connected" or missing else None,
            "message": message,
        })
        return out


def _refresh_reason(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    return str(args[0]) if args else type(exc).__name__


def _is_invalid_grant(exc: Exception) -> bool:
    args = getattr(exc, "args", ())
    body = args[1] if len(args) > 1 else None
    if isinstance(body, dict) and body.get("error") == "invalid_grant":
        return True
    return "invalid_grant" in (str(args[0]) if args else "")


# ----- finding the tool a sign-in is for -----------------------------------------------------------------
def google_tools(registry: Any) -> list[ToolConfig]:
    """The loadable tools whose config.json says ``"oauth": {"provider": "google", ...}``."""
    found = []
    for plugin in registry.of_kind("tool"):
        config = plugin.config
        if plugin.error or not isinstance(config, ToolConfig) or not config.oauth:
            continue
        if str(config.oauth.get("provider", PROVIDER)).lower() == PROVIDER:
            found.append(config)
    return found


def tool_for_service(registry: Any, service: str, tool: str | None = None) -> ToolConfig:
    """The tool to connect for ``?service=`` (the seed's names: calendar, drive, sheets).

    ``tool=`` picks one when several tools use the same service; otherwise ``google_<service>`` wins.
    """
    candidates = google_tools(registry)
    services = sorted({str((c.oauth or {}).get("service")) for c in candidates})
    if tool:
        match = [c for c in candidates if c.tool_name == tool]
        if not match:
            raise NotFound(f"no Google OAuth tool named {tool!r} (known: "
                           f"{', '.join(c.tool_name for c in candidates) or 'none'})")
        if service and str((match[0].oauth or {}).get("service")) != service:
            raise NotFound(f"tool {tool!r} uses service {match[0].oauth.get('service')!r}, not {service!r}")
        return match[0]
    match = [c for c in candidates if str((c.oauth or {}).get("service")) == service]
    if not match:
        raise NotFound(f"unknown Google service {service!r}: use one of {', '.join(services) or 'none'} "
                         "(the service named in a Google tool's config.json \"oauth\" block)")
    preferred = [c for c in match if c.tool_name == f"google_{service}"]
    if preferred:
        return preferred[0]
    if len(match) > 1:
        raise Conflict(f"several tools use service {service!r} "
                         f"({', '.join(c.tool_name for c in match)}): add &tool=<name> to choose")
    return match[0]


def complete_sign_in(state: str | None, code: str | None, error: str | None,
                     tool_config_of: Callable[[str], ToolConfig],
                     platform: "Platform | None" = None) -> tuple[GoogleConnection, TokenRecord]:
    """The callback: consume the state (always, even on refusal), then exchange the code."""
    platform = platform or get_platform()
    if error:
        sign_in = None
        if state:
            try:
                sign_in = platform.oauth.consume_state(state)
            except StateError:
                pass
        what = f"{sign_in.service} for profile {sign_in.profile}" if sign_in else "access"
        again = ""
        if sign_in is not None:
            again = (f" Open {GoogleConnection(tool_config_of(sign_in.tool), sign_in.profile, platform=platform).auth_url()}"
                     " to try again.")
        reason = "you declined" if error == "access_denied" else f"Google answered {error!r}"
        raise OAuthFlowError(f"Google did not grant {what}: {reason}. No token was stored.{again}",
                             {"error": error})
    sign_in = platform.oauth.consume_state(state)
    connection = GoogleConnection(tool_config_of(sign_in.tool), sign_in.profile, platform=platform)
    return connection, connection.finish(sign_in, code)

