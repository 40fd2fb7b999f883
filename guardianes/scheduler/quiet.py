"""Quiet hours: a local window (e.g. 21:00-08:00) in which bulk messages wait.

Broadcasts, visit notices and reminders queued inside the window are held until it ends;
replies to someone who just wrote are never held. The window is read in
`GUARDIANES_TIMEZONE` and may cross midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from guardianes.config import Settings
from guardianes.domain.timezone import zone


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From `start` to `end` local time (end excluded); `start > end` crosses midnight."""

    start: time
    end: time
    timezone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Settings) -> QuietHours | None:
        """The configured window, or None when bulk messages may go at any hour."""
        if settings.quiet_hours_start is None or settings.quiet_hours_end is None:
            return None
        if settings.quiet_hours_start == settings.quiet_hours_end:
            return None
        return cls(settings.quiet_hours_start, settings.quiet_hours_end, zone(settings.timezone))

    def contains(self, moment: datetime) -> bool:
        """True when `moment` (aware, any zone) falls inside the window."""
        local = moment.astimezone(self.timezone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, moment: datetime) -> datetime:
        """When the window that holds `moment` ends (as UTC); `moment` itself if outside."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.timezone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.timezone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.timezone)
        return end.astimezone(moment.tzinfo)
