"""The delivery log of an entry: counters, recent deliveries, and the repair issues they raise."""

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .const import (
    NO_EVENTS_GRACE,
    RECENT_DELIVERIES,
    REJECTION_STREAK,
    REJECTION_WINDOW,
)
from .issues import Issue, async_clear_issue, async_open_issues, async_raise_issue


class Outcome(StrEnum):
    """What became of a verified delivery."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


class Rejection(StrEnum):
    """Why a transport refused a delivery."""

    SIGNATURE = "signature"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    UNDECODABLE = "undecodable"


@dataclass(slots=True)
class Delivery:
    """One delivery as diagnostics show it: what, when and what became of it.

    Not changed once made (not frozen: a frozen dataclass costs a call per field,
    and one is made for every delivery).
    """

    received: datetime
    type: str | None
    result: str


class DeliveryLog:
    """Counts an entry's deliveries and raises or clears its repair issues."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Initialise the log of a config entry, with the issues open in Repairs."""
        self._hass = hass
        self._entry = entry
        self.counters: Counter[str] = Counter()
        self.recent: deque[Delivery] = deque(maxlen=RECENT_DELIVERIES)
        self._rejections: deque[float] = deque(maxlen=REJECTION_STREAK)
        self._issues: set[Issue] = async_open_issues(hass, entry.entry_id)

    @callback
    def async_rejected(self, reason: Rejection) -> None:
        """Count a refused delivery; a run of bad signatures raises an issue."""
        now = dt_util.utcnow()
        result = f"rejected_{reason}"
        self.counters["received"] += 1
        self.counters[result] += 1
        self.recent.append(Delivery(now, None, result))
        if reason is Rejection.MALFORMED:
            self._async_signature_accepted()
        elif reason is Rejection.SIGNATURE:
            self._rejections.append(now.timestamp())
            if (
                len(self._rejections) == REJECTION_STREAK
                and self._rejections[-1] - self._rejections[0] <= REJECTION_WINDOW
            ):
                self.async_raise(Issue.SIGNATURE_REJECTED)

    @callback
    def async_verified(
        self, event_type: str, outcome: Outcome, received: datetime
    ) -> None:
        """Count a delivery whose signature was right, received at the hub's clock read."""
        self.counters["received"] += 1
        self.counters[outcome] += 1
        self.recent.append(Delivery(received, event_type, outcome))
        # Nearly always nothing to forget or clear: a look, not a call per delivery.
        if self._rejections or self._issues:
            self._async_signature_accepted()
            if outcome is Outcome.ACCEPTED:
                self.async_clear(Issue.NO_EVENTS)

    @callback
    def async_secret_changed(self) -> None:
        """Forget the bad signatures counted against the old secret."""
        self._rejections.clear()

    @callback
    def async_watch_first_event(
        self, events_arrived: Callable[[], bool]
    ) -> CALLBACK_TYPE:
        """Raise an issue if no event arrives within a day of adding the entry."""
        waited = dt_util.utcnow() - self._entry.created_at

        @callback
        def check(_now: Any) -> None:
            if not events_arrived():
                self.async_raise(Issue.NO_EVENTS)

        return async_call_later(
            self._hass, max(0.0, NO_EVENTS_GRACE - waited.total_seconds()), check
        )

    def is_open(self, issue: Issue) -> bool:
        """Return whether an issue of this entry is in Repairs."""
        return issue in self._issues

    @callback
    def async_raise(self, issue: Issue, **placeholders: str) -> None:
        """Show an issue in Repairs."""
        self._issues.add(issue)
        async_raise_issue(self._hass, self._entry, issue, **placeholders)

    @callback
    def async_clear(self, issue: Issue) -> None:
        """Take an issue out of Repairs."""
        # Every accepted event clears; only touch the registry if it has one.
        if issue in self._issues:
            self._issues.discard(issue)
            async_clear_issue(self._hass, self._entry.entry_id, issue)

    @callback
    def _async_signature_accepted(self) -> None:
        self._rejections.clear()
        self.async_clear(Issue.SIGNATURE_REJECTED)
