"""Calendar invitations (text/calendar, RFC 5545 and iTIP RFC 5546) summarised for the reader.

Each event becomes a few labelled lines: what, when (with its time zone), how it repeats, where,
who organises it and who is invited with their answers, and the start of its description. The
method says what the message is: an invitation (REQUEST), a cancellation (CANCEL), a reply...
Parsing is icalendar's; a calendar it cannot read is said to be unreadable, never raised.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from mailbag.domain.headers import format_address
from mailbag.domain.models import Address
from mailbag.domain.sanitize import clean_line

_METHODS = {
    "REQUEST": "invitation",
    "CANCEL": "event cancelled",
    "REPLY": "reply to an invitation",
    "COUNTER": "new time proposed",
    "DECLINECOUNTER": "proposed time declined",
    "PUBLISH": "event",
    "ADD": "more dates for an event",
    "REFRESH": "asks for the latest version",
}
_ANSWERS = {
    "NEEDS-ACTION": "not answered yet",
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "tentative",
    "DELEGATED": "delegated",
}
_FREQUENCIES = {
    "SECONDLY": "second",
    "MINUTELY": "minute",
    "HOURLY": "hour",
    "DAILY": "day",
    "WEEKLY": "week",
    "MONTHLY": "month",
    "YEARLY": "year",
}
_LABEL = 11  # "Organizer: "
_MAX_EVENTS = 20
_MAX_ATTENDEES = 20
_MAX_DESCRIPTION_LINES = 20


def calendar_text(data: str) -> str:
    """A summary of the calendar ``data`` (the text of a text/calendar part)."""
    import icalendar  # on first use: a start (mailbag sync too) has no calendar to read

    data, total = _first_events(data)
    try:
        calendar = icalendar.Calendar.from_ical(data)
        events = list(calendar.walk("VEVENT"))
        method = str(calendar.get("METHOD", "")).strip().upper()
    except Exception:  # icalendar raises ValueError and others on malformed data
        return "[-- Calendar: could not be read --]"
    title = _METHODS.get(method, "event")
    if method and method not in _METHODS:
        title = f"event ({clean_line(method)})"
    lines = [f"[-- Calendar: {title} --]"]
    if not events:
        lines.append("(no event in it)")
    for number, event in enumerate(events[:_MAX_EVENTS]):
        if number:
            lines.append("")
        lines.extend(_event_lines(event))
    if total > _MAX_EVENTS:
        lines.append(f"... and {total - _MAX_EVENTS} more events")
    return "\n".join(lines)


def _first_events(data: str) -> tuple[str, int]:
    """The calendar cut after its first events (a whole calendar exported can hold thousands, and
    only those are shown), and how many events it has."""
    upper = data.upper()
    total = upper.count("BEGIN:VEVENT")
    if total <= _MAX_EVENTS:
        return data, total
    end = 0
    for _ in range(_MAX_EVENTS):
        found = upper.find("END:VEVENT", end)
        if found < 0:
            return data, total
        end = found + len("END:VEVENT")
    return data[:end] + "\r\nEND:VCALENDAR\r\n", total


def _event_lines(event: Any) -> list[str]:
    rows: list[tuple[str, str]] = [("What", _text(event.get("SUMMARY")) or "(no title)")]
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        rows.append(("Status", "cancelled"))
    rows.append(("When", _when(event)))
    rows.append(("Your time", _your_time(event)))
    if event.get("RRULE") is not None:
        rows.append(("Repeats", _repeats(event.get("RRULE"))))
    rows.append(("Where", _text(event.get("LOCATION"))))
    organizer = event.get("ORGANIZER")
    if organizer is not None:
        rows.append(("Organizer", _person(organizer)))
    attendees = event.get("ATTENDEE")
    if attendees is not None:
        rows.append(("Attendees", _attendees(attendees if isinstance(attendees, list) else [attendees])))
    lines = [f"{label + ':':<{_LABEL}}{value}" for label, value in rows if value]
    description = str(event.get("DESCRIPTION", "") or "").strip()
    if description:
        text = description.replace("\r\n", "\n").split("\n")
        lines.append("")
        lines.extend(text[:_MAX_DESCRIPTION_LINES])
        if len(text) > _MAX_DESCRIPTION_LINES:
            lines.append(f"[... {len(text) - _MAX_DESCRIPTION_LINES} more lines of description]")
    return lines


def _text(value: object) -> str:
    return clean_line(str(value)) if value is not None else ""


def _times(event: Any) -> tuple[date, date | None] | None:
    try:
        start = event.decoded("DTSTART")
    except Exception:
        return None
    try:
        end = event.end
    except Exception:
        end = None
    return start, end


def _when(event: Any) -> str:
    times = _times(event)
    if times is None:
        return ""
    start, end = times
    if not isinstance(start, datetime):  # a whole day (or days): the end date is exclusive
        last = end - timedelta(days=1) if isinstance(end, date) and not isinstance(end, datetime) else start
        if last > start:
            return f"{_day(start)} - {_day(last)} (all day)"
        return f"{_day(start)} (all day)"
    return f"{_span(start, end)} {_zone(event, start)}"


def _your_time(event: Any) -> str:
    """The event's time where mailbag runs, when that is another offset from UTC."""
    times = _times(event)
    if times is None:
        return ""
    start, end = times
    if not isinstance(start, datetime) or start.tzinfo is None:
        return ""
    try:
        here = start.astimezone()
        if here.utcoffset() == start.utcoffset():
            return ""
        later = end.astimezone() if isinstance(end, datetime) and end.tzinfo is not None else None
    except (OverflowError, ValueError, OSError):
        return ""
    return f"{_span(here, later)} ({clean_line(here.tzname() or '')})"


def _span(start: datetime, end: date | None) -> str:
    when = f"{_day(start)} {start:%H:%M}"
    if isinstance(end, datetime) and end != start:
        end = end.astimezone(start.tzinfo) if start.tzinfo and end.tzinfo else end
        when += f"-{end:%H:%M}" if end.date() == start.date() else f" - {_day(end)} {end:%H:%M}"
    return when


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _zone(event: Any, start: datetime) -> str:
    """The event's time zone, e.g. "(Europe/Berlin, UTC+01:00)"; "(floating time)" without one."""
    if start.tzinfo is None:
        return "(local time wherever you are)"
    offset = start.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    utc = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    name = clean_line(str(event["DTSTART"].params.get("TZID", "") or getattr(start.tzinfo, "key", "") or ""))
    if not name or name.upper() in ("UTC", "Z", "ETC/UTC"):
        return "(UTC)" if not offset else f"({utc})"
    return f"({name}, {utc})"


def _repeats(rule: Any) -> str:
    try:
        frequency = str(rule.get("FREQ", [""])[0]).upper()
        interval = int(rule.get("INTERVAL", [1])[0])
        unit = _FREQUENCIES.get(frequency)
        if unit is None:
            raise ValueError(frequency)
        text = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
        if "BYDAY" in rule:
            text += " on " + ", ".join(str(day) for day in rule["BYDAY"])
        if "COUNT" in rule:
            text += f", {int(rule['COUNT'][0])} times"
        if "UNTIL" in rule:
            until = rule["UNTIL"][0]
            text += f", until {_day(until)}" if isinstance(until, date) else ""
        return clean_line(text)
    except Exception:
        return clean_line(rule.to_ical().decode("utf-8", "replace"))


def _person(value: Any) -> str:
    address = str(value).strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    name = str(getattr(value, "params", {}).get("CN", "") or "").strip().strip('"')
    return clean_line(format_address(Address(name=name, email=address)))


def _attendees(values: list[Any]) -> str:
    people = []
    for value in values[:_MAX_ATTENDEES]:
        answer = str(getattr(value, "params", {}).get("PARTSTAT", "") or "").upper()
        said = _ANSWERS.get(answer, answer.lower())
        people.append(f"{_person(value)} ({clean_line(said)})" if said else _person(value))
    if len(values) > _MAX_ATTENDEES:
        people.append(f"+{len(values) - _MAX_ATTENDEES} more")
    return ", ".join(people)
