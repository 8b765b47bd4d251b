"""An entry's signals: how the hub tells its entities and call log what changed.

Home Assistant's dispatcher looks a signal's targets up in `hass.data`, checks the
thread and each target's job type at every send; a delivery sends a few signals,
most to one entity. The targets of an entry's signals are kept here, by signal,
and called directly, each in the event loop (every target is a callback).
"""

from collections.abc import Callable
from contextlib import suppress
import logging
from typing import Any

from homeassistant.core import CALLBACK_TYPE
from homeassistant.util.signal_type import SignalType

_LOGGER = logging.getLogger(__name__)


class EntrySignals:
    """The targets of one entry's signals, called in the order they connected."""

    def __init__(self) -> None:
        """Start without targets."""
        self._targets: dict[
            SignalType[*tuple[Any, ...]], list[Callable[..., None]]
        ] = {}

    def connect[*Ts](
        self, signal: SignalType[*Ts], target: Callable[[*Ts], None]
    ) -> CALLBACK_TYPE:
        """Call `target` with a signal's data whenever it is sent; return the disconnect."""
        targets = self._targets.setdefault(signal, [])
        targets.append(target)

        def disconnect() -> None:
            with suppress(ValueError):  # disconnected already
                targets.remove(target)
            if not targets and self._targets.get(signal) is targets:
                del self._targets[signal]

        return disconnect

    def send[*Ts](self, signal: SignalType[*Ts], *args: *Ts) -> None:
        """Call a signal's targets; one that fails is logged and the others still run."""
        if (targets := self._targets.get(signal)) is None:
            return
        # A target may connect or disconnect others: the ones connected now are called.
        for target in tuple(targets):
            try:
                target(*args)
            except Exception:
                _LOGGER.exception("Error in %s, which follows %s", target, signal)


class SignalsByKey[K, *Ts]:
    """Signals of one kind, one per key (a user, an aspect), each made once.

    A delivery sends a few signals: their names are put together once per key,
    and the same object each time is found by identity among the targets.
    """

    def __init__(self, name: Callable[[K], str]) -> None:
        """Make each key's signal with the name `name` gives it."""
        self._name = name
        self._made: dict[K, SignalType[*Ts]] = {}

    def __call__(self, key: K) -> SignalType[*Ts]:
        """Return the signal of a key."""
        if (signal := self._made.get(key)) is None:
            signal = self._made[key] = SignalType(self._name(key))
        return signal

    def forget(self, key: K) -> None:
        """Forget a key's signal (a user who is gone)."""
        self._made.pop(key, None)
