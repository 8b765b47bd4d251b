"""Which numbers an entry's actions may dial: never feature codes; with prefixes, only those and colleagues."""

from collections.abc import Collection, Mapping
from enum import StrEnum
import re
from typing import Any, Final

CONF_DIAL_PREFIXES: Final = "dial_prefixes"

# What people write between digits; removed from numbers and prefixes alike.
_SEPARATORS: Final = re.compile(r"[\s().\-]")
_PREFIX: Final = re.compile(r"\+?[0-9]{1,15}")
# Digits the PBX reads as a feature code (call forwarding, pickup, voicemail, …).
_FEATURE_CHARACTERS: Final = frozenset("*#")


class DialRefusal(StrEnum):
    """Why a number may not be dialled; the value is the action error's translation key."""

    FEATURE_CODE = "dial_feature_code"
    NOT_ALLOWED = "dial_not_allowed"


def normalize_prefix(text: str) -> str:
    """Return a dial prefix without separators, or raise ValueError.

    A prefix is digits with an optional leading `+` (at most 15 digits, as E.164).
    """
    prefix = _SEPARATORS.sub("", text) if isinstance(text, str) else ""
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"not a dial prefix: {text!r}")
    return prefix


def dial_prefixes(options: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Return an entry's dial prefixes; None when it has none (any number may be dialled).

    A malformed prefix (saved by hand) allows nothing: with only malformed ones, only
    internal numbers may be dialled, never every number.
    """
    saved = options.get(CONF_DIAL_PREFIXES)
    if not saved:
        return None
    if not isinstance(saved, list | tuple):
        saved = [saved]
    prefixes: list[str] = []
    for text in saved:
        try:
            prefix = normalize_prefix(text)
        except ValueError:
            continue
        if prefix not in prefixes:
            prefixes.append(prefix)
    return tuple(prefixes)


def dial_refusal(
    number: str, prefixes: Collection[str] | None, extensions: Collection[str]
) -> DialRefusal | None:
    """Return why a number may not be dialled, or None if it may.

    `extensions` are the PBX's users (internal numbers). Without prefixes (None)
    every number but a feature code may be dialled.
    """
    number = _SEPARATORS.sub("", number)
    if _FEATURE_CHARACTERS.intersection(number):
        return DialRefusal.FEATURE_CODE
    if prefixes is None or number in extensions:
        return None
    if any(number.startswith(prefix) for prefix in prefixes):
        return None
    return DialRefusal.NOT_ALLOWED
