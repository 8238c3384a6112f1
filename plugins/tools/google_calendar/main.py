"""Google Calendar: list, create, update and delete events.

OAuth, the API client and errors are handled by ``GoogleTool``; this file maps actions to API calls.
The seed's usage works unchanged::

    calendar = CalendarTool(profile="TEST")
    if calendar.authenticate():
        calendar.execute("list_events", {"count": 5})
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.google.tool import ActionParams, GoogleTool, ParamError

SEND_UPDATES = ("all", "externalOnly", "none")


class CalendarTool(GoogleTool):
    # ----- actions ---------------------------------------------------------------------------------------
    def list_events(self, p: ActionParams) -> dict[str, Any]:
        calendar_id = self._calendar(p)
        tz = self._timezone(p)
        time_min = self._instant(p, "time_min", tz) or datetime.now(timezone.utc).isoformat()
        query: dict[str, Any] = {"calendarId": calendar_id, "maxResults": p.integer("count", 10, 1, 2500),
                                 "timeMin": time_min, "singleEvents": True, "orderBy": "startTime"}
        if p.has("time_max"):
            query["timeMax"] = self._instant(p, "time_max", tz)
        if p.has("query"):
            query["q"] = p.text("query")
        if p.has("page_token"):
            query["pageToken"] = p.text("page_token")
        result = self.call(self.api().events().list(**query))
        events = result.get("items", [])
        return {"calendar_id": calendar_id, "count": len(events), "events": events,
                "next_page_token": result.get("nextPageToken")}

    def create_event(self, p: ActionParams) -> dict[str, Any]:
        body = self._event_body(p, creating=True)
        event = self.call(self.api().events().insert(calendarId=self._calendar(p), body=body,
                                                     sendUpdates=self._send_updates(p)))
        return {"event_id": event.get("id"), "html_link": event.get("htmlLink"), "event": event}

    def update_event(self, p: ActionParams) -> dict[str, Any]:
        event_id = p.required("event_id")
        body = self._event_body(p, creating=False)
        if not body:
            raise ParamError("google_calendar.update_event: give at least one field to change (summary, "
                             "start_time, end_time, description, location, attendees)")
        event = self.call(self.api().events().patch(calendarId=self._calendar(p), eventId=event_id, body=body,
                                                    sendUpdates=self._send_updates(p)))
        return {"event_id": event.get("id", event_id), "html_link": event.get("htmlLink"), "event": event}

    def delete_event(self, p: ActionParams) -> dict[str, Any]:
        event_id = p.required("event_id")
        calendar_id = self._calendar(p)
        self.call(self.api().events().delete(calendarId=calendar_id, eventId=event_id,
                                             sendUpdates=self._send_updates(p)))
        return {"deleted": True, "event_id": event_id, "calendar_id": calendar_id}

    # ----- parameters ------------------------------------------------------------------------------------
    def _calendar(self, p: ActionParams) -> str:
        return p.text("calendar_id") or str(self.config.get("calendar_id") or "primary")

    def _timezone(self, p: ActionParams) -> str:
        name = p.text("timezone") or str(self.config.get("timezone") or "UTC")
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ParamError(f"google_calendar.{p.action}: unknown timezone {name!r} (use an IANA name such as "
                             "Europe/Paris)") from None
        return name

    @staticmethod
    def _send_updates(p: ActionParams) -> str:
        value = p.text("send_updates", "none") or "none"
        if value not in SEND_UPDATES:
            raise ParamError(f"google_calendar.{p.action}: parameter 'send_updates' must be one of "
                             f"{', '.join(SEND_UPDATES)}, got {value!r}")
        return value

    @staticmethod
    def _parse(p: ActionParams, name: str) -> date | datetime | None:
        raw = p.text(name)
        if raw is None:
            return None
        try:
            if len(raw) == 10:
                return date.fromisoformat(raw)
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ParamError(f"google_calendar.{p.action}: parameter '{name}' must be an ISO 8601 date-time "
                             f"(2024-12-25T14:00:00) or date (2024-12-25), got {raw!r}") from None

    def _instant(self, p: ActionParams, name: str, tz: str) -> str | None:
        value = self._parse(p, name)
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.combine(value, datetime.min.time())
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(tz))
        return value.isoformat()

    def _event_body(self, p: ActionParams, creating: bool) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if creating:
            body["summary"] = p.required("summary")
        elif p.has("summary"):
            body["summary"] = p.text("summary")
        for name in ("description", "location"):
            if p.has(name):
                body[name] = p.text(name)
        if p.has("attendees"):
            body["attendees"] = [{"email": email} for email in p.strings("attendees")]
        start, end = self._parse(p, "start_time"), self._parse(p, "end_time")
        if creating and start is None:
            raise ParamError("google_calendar.create_event: parameter 'start_time' is required "
                             "(2024-12-25T14:00:00, or 2024-12-25 for an all-day event)")
        if start is not None and end is None and creating:
            end = (start + timedelta(days=1) if not isinstance(start, datetime)
                   else start + timedelta(minutes=p.integer("duration_minutes", 60, 1, 60 * 24 * 31)))
        if start is not None and end is not None:
            if isinstance(start, datetime) != isinstance(end, datetime):
                raise ParamError(f"google_calendar.{p.action}: start_time and end_time must both be dates or "
                                 "both be date-times")
            if _comparable(end) <= _comparable(start):
                raise ParamError(f"google_calendar.{p.action}: end_time must be after start_time")
        tz = self._timezone(p) if start is not None or end is not None else None
        if start is not None:
            body["start"] = _when(start, tz)
        if end is not None:
            body["end"] = _when(end, tz)
        return body


def _when(value: date | datetime, tz: str | None) -> dict[str, str]:
    """The Calendar API's EventDateTime: ``date`` for all-day, else ``dateTime`` (+ ``timeZone``)."""
    if not isinstance(value, datetime):
        return {"date": value.isoformat()}
    when = {"dateTime": value.isoformat()}
    if tz:
        when["timeZone"] = tz
    return when


def _comparable(value: date | datetime) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time())
    return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)
