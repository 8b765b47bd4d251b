"""An entry's options: which and how many users get devices, how long calls and triggers live, privacy, events."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from .const import (
    CONF_EXTENSIONS,
    CONF_MAX_EVENT_AGE,
    CONF_MAX_USERS,
    CONF_MISSED_INTERNAL,
    CONF_PASS_THROUGH,
    CONF_SHOW_REMOTE,
    CONF_STALE_CALL_TIMEOUT,
    DEFAULT_MAX_EVENT_AGE,
)
from .dial_rules import CONF_DIAL_PREFIXES
from .model import DEFAULT_MAX_USERS, DEFAULT_STALE_CALL_TIMEOUT, MAX_USERS

DEFAULT_OPTIONS: dict[str, Any] = {
    CONF_EXTENSIONS: [],
    CONF_STALE_CALL_TIMEOUT: DEFAULT_STALE_CALL_TIMEOUT / 3600,
    CONF_MAX_EVENT_AGE: DEFAULT_MAX_EVENT_AGE / 60,
    CONF_SHOW_REMOTE: True,
    CONF_MAX_USERS: DEFAULT_MAX_USERS,
    CONF_PASS_THROUGH: True,
    CONF_MISSED_INTERNAL: False,
    CONF_DIAL_PREFIXES: [],
}


@dataclass(frozen=True, slots=True)
class WildixOptions:
    """The options of an entry in the units the hub and the model use."""

    extensions: frozenset[str] | None
    stale_call_timeout: float
    max_event_age: float
    show_remote: bool
    max_users: int
    pass_through: bool
    missed_internal: bool

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """Read an entry's options; an empty user list means every user."""
        values = DEFAULT_OPTIONS | dict(options)
        return cls(
            extensions=frozenset(values[CONF_EXTENSIONS]) or None,
            stale_call_timeout=float(values[CONF_STALE_CALL_TIMEOUT]) * 3600,
            max_event_age=float(values[CONF_MAX_EVENT_AGE]) * 60,
            show_remote=bool(values[CONF_SHOW_REMOTE]),
            # Saved before a new entity lowered the limit: the entities must still fit.
            max_users=min(int(values[CONF_MAX_USERS]), MAX_USERS),
            pass_through=bool(values[CONF_PASS_THROUGH]),
            missed_internal=bool(values[CONF_MISSED_INTERNAL]),
        )
