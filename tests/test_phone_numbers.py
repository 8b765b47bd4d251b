"""A number's last digits tell lines apart without reading the number."""

import random

import phonenumbers
from phonenumbers import PhoneNumberFormat
import pytest

from custom_components.wildix.phone_numbers import key_tail, number_key, number_tail

# Where Home Assistant may be: the number's own country, others, none.
HOMES = ("DE", "US", "IT", "AR", "MX", "BR", "GB", "KR", "AE", None)


def test_every_example_number_keeps_its_last_digits_however_written() -> None:
    """The example number of every type in every region (libphonenumber's), however written.

    Read in its own country and in others: where `number_tail` gives digits, they
    are the last digits of the number `number_key` reads.
    """
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(11):  # fixed line, mobile, toll free... (PhoneNumberType)
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            for written in (
                e164,
                f"00{e164[1:]}",
                phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL),
                phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL),
                phonenumbers.format_out_of_country_calling_number(example, "US"),
            ):
                if (tail := number_tail(written)) is None:
                    continue
                for home in (region, "DE", None):
                    assert key_tail(number_key(written, home)) == tail, (written, home)
                    checked += 1
    assert checked > 10_000


def test_adversarial_numbers_keep_their_last_digits() -> None:
    """Random numbers built to trip it keep their last digits too.

    Every country code, prefixes that read as trunk or carrier codes, national
    numbers of one to thirteen digits.
    """
    rng = random.Random(25)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    checked = 0
    while checked < 20_000:
        rest = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 13)))
        prefix = rng.choice(("", "0", "00", "08", "084", "01", "15", "9", "044", "8"))
        number = f"{rng.choice(codes)}{prefix}{rest}"
        written = rng.choice(
            (f"+{number}", f"00{number}", f"011{number}", f"0{prefix}{rest}", rest)
        )
        if (tail := number_tail(written)) is None:
            continue
        home = rng.choice(HOMES)
        assert key_tail(number_key(written, home)) == tail, (written, home)
        checked += 1


@pytest.mark.parametrize(
    "written",
    [
        "1-800-FLOWERS",  # letters: read to know the digits
        "+49 30 1234567 ext. 12",  # an extension is taken off the end
        "+49301234567;ext=12",
        "+4930123456#7",
        "+٤٩٣٠١٢٣٤٥٦٧",  # digits that are not ASCII
        "123456",  # too short to be a line
        "",
    ],
)
def test_numbers_not_written_with_digits_alone_have_no_tail(written: str) -> None:
    """What reading could change at the end, or what is no line, must be read."""
    assert number_tail(written) is None


def test_separators_do_not_count() -> None:
    """Spaces, dashes, dots, slashes and brackets are taken off, as number_key does."""
    assert number_tail(" +49 (30) 555-010.2/03 ") == "0203"
    assert key_tail("+4930555010203") == "0203"
