"""Dates as people read them: in the portal's time zone, a term's last day the same everywhere.

An application asks for whole days (``starts_on`` to ``ends_on``, both included). Its grant runs
from the start of the first day to the end of the last one, midnight in the portal's time zone
(``PDS_TIME_ZONE``). Pages show the end as 24:00 of that last day in the user's zone (the web
layer's ``until`` filter), so the application's ``ends_on``, the grant's ``last_day(ends_at)``
and the workspace's welcome notebook agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Asia/Shanghai"


def zone(name: str) -> ZoneInfo:
    """The time zone ``name`` (an IANA name such as Asia/Shanghai); ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)"
        ) from None


def term(starts_on: date, ends_on: date, time_zone: str) -> tuple[datetime, datetime]:
    """The instants (UTC) a term of whole days starts and ends: midnight before ``starts_on``
    and midnight after ``ends_on``, in ``time_zone``."""
    tz = zone(time_zone)
    start = datetime.combine(starts_on, time.min, tzinfo=tz)
    end = datetime.combine(ends_on + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def last_day(ends_at: datetime, time_zone: str) -> date:
    """The last day of a term ending at ``ends_at``: the day before, when it ends at midnight."""
    return (ends_at.astimezone(zone(time_zone)) - timedelta(microseconds=1)).date()
