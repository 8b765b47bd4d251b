"""Phone numbers in one form (E.164), so that the same line compares equal however it was written.

No Home Assistant imports. Webhooks report outside numbers as `+4930…`, the PBX's
call history the dialled string (`0049…`, `030…`), phonebooks whatever was typed.
"""

from functools import lru_cache
import re

import phonenumbers

from .protocol import is_internal_number

_SEPARATORS = str.maketrans("", "", " ()-./\u00a0")
# A number written with digits alone (separators aside), long enough to be a line's.
_PLAIN = re.compile(r"\+?[0-9]{7,}")
TAIL_DIGITS = 4


# Parsing a number is the dearest step of following a call (callbacks, phonebook
# names); the same few numbers come back again and again.
@lru_cache(maxsize=4096)
def number_key(number: str, region: str | None) -> str:
    """Return a number in E.164 when it can be read as one, else its digits.

    `region` is the country (ISO 3166 alpha-2) a number without a country code is
    read in. Internal extensions stay as they are.
    """
    raw = _as_written(number)
    if not raw or is_internal_number(raw):
        return raw
    if raw.startswith("00"):
        raw = f"+{raw[2:]}"
    try:
        parsed = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    digits = "".join(ch for ch in raw if ch.isdigit())
    return f"+{digits}" if raw.startswith("+") else digits


def number_tail(number: str) -> str | None:
    """Return the last digits of a number written with digits alone, else None.

    Reading a number (`number_key`) takes off or adds only what comes first: an
    international or trunk prefix, a country code, a carrier code. The last four
    digits stay as written (tested against every example number of every region
    libphonenumber knows, in every format, and adversarial random numbers), so two
    numbers whose last four digits differ are different lines, without reading
    either. Letters, extensions and other digits than ASCII ones give None.
    """
    raw = _as_written(number)
    if _PLAIN.fullmatch(raw) is None:
        return None
    return raw[-TAIL_DIGITS:]


def key_tail(key: str) -> str:
    """Return the last digits of a number as `number_key` returns it."""
    if (tail := key[-TAIL_DIGITS:]).isdigit():
        return tail
    return "".join(ch for ch in key if ch.isdigit())[-TAIL_DIGITS:]


def _as_written(number: str) -> str:
    """Return a number as written, without the spaces and separators around its digits."""
    return number.strip().translate(_SEPARATORS)
