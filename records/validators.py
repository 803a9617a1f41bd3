"""Validation of identity documents and coded values.

Every function raises ``django.core.exceptions.ValidationError`` keyed by the field that is
wrong, with a message naming the rule, so forms, the API and services report the same thing.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import InvalidComponent
from stdnum.exceptions import InvalidFormat
from stdnum.exceptions import InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from notifications.rendering import RESIDENT_ID_LIKE
from records.choices import Gender
from records.choices import IdType

RIC_LENGTH = _(
    "A resident ID number has 18 characters (GB 11643-1999), or 15 digits on a card issued "
    "before 1999."
)
RIC_LEGACY_FORMAT = _(
    "A 15-character resident ID number (issued before 1999) is 15 digits, with no check character."
)
RIC_FORMAT = _("A resident ID number is 17 digits followed by a digit or X.")
RIC_CHECKSUM = _("The check character of this ID number is wrong (ISO 7064 MOD 11-2).")
RIC_BIRTH_DATE = _("Positions 7-14 of this ID number are not a valid date.")
RIC_REGION = _("Positions 1-6 of this ID number are not a known administrative division.")
RIC_BIRTH_MISMATCH = _(
    "The birth date %(birth)s does not match the ID number, which says %(id_birth)s."
)
RIC_GENDER_MISMATCH = _(
    "The gender does not match the ID number (digit 17, or 15 of a 15-digit number, is odd "
    "for male, even for female)."
)
HMT_RESIDENCE_LENGTH = _("A residence permit number has 18 characters (GB 11643-1999).")
HMT_RESIDENCE_AREA = _(
    "A Hong Kong, Macao or Taiwan residence permit number starts with 81, 82 or 83."
)
DOCUMENT_FORMAT = _("This is not the format of a %(type)s number: %(rule)s.")
UNKNOWN_ID_TYPE = _("Unknown identity document type.")

RIC_DIGITS = 18
# A first-generation card (issued before 1999): region, YYMMDD of a 19xx birth, a 3-digit
# sequence whose last digit's parity is the gender, no check character (DOMAIN.md §3.5).
RIC_LEGACY_DIGITS = 15

# Format rules of the non-resident documents: (regex, human description of the rule).
_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    IdType.PASSPORT: (re.compile(r"^[A-Z0-9]{5,20}$"), "5-20 letters or digits"),
    IdType.HK_MACAU_PERMIT: (re.compile(r"^[HM]\d{8}(\d{2})?$"), "H or M, then 8 or 10 digits"),
    IdType.TAIWAN_PERMIT: (re.compile(r"^\d{8}(\d{2})?$"), "8 or 10 digits"),
    IdType.FOREIGN_PERMANENT_RESIDENCE: (
        re.compile(r"^(9\d{16}[0-9X]|[A-Z]{3}\d{12})$"),
        "18 characters starting with 9 (2023 card) or 3 letters and 12 digits (2004 card)",
    ),
}


def _error(field: str, message: object, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})  # type: ignore[arg-type]


def normalize_id_number(id_number: str) -> str:
    """Upper-case and strip spaces, as people type them."""
    return re.sub(r"\s+", "", id_number or "").upper()


def _gb11643_structure(number: str, length_message: Any = RIC_LENGTH) -> datetime.date:
    """Check length, digits and check character; return the encoded birth date."""
    if len(number) != RIC_DIGITS:
        raise _error("id_number", length_message, "length")
    try:
        if not number[:17].isdigit() or not re.match(r"^[0-9X]$", number[17]):
            raise InvalidFormat
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum
        return ric.get_birth_date(number)
    except InvalidLength as exc:
        raise _error("id_number", length_message, "length") from exc
    except InvalidFormat as exc:
        raise _error("id_number", RIC_FORMAT, "format") from exc
    except InvalidChecksum as exc:
        raise _error("id_number", RIC_CHECKSUM, "checksum") from exc
    except InvalidComponent as exc:
        raise _error("id_number", RIC_BIRTH_DATE, "birth_date") from exc


@functools.lru_cache(maxsize=65_536)
def _region_known(region: str, year: str) -> bool:
    """Whether stdnum's database knows the region code for someone born that year: the one
    check of ``ric.validate`` beyond the structure, and its slow one (a lookup in a data
    file), asked once per region and year (an import checks 100,000 numbers of few regions)."""
    try:
        ric.get_birth_place(f"{region}{year}01010000")
    except StdnumError:
        return False
    return True


def _legacy_structure(number: str) -> datetime.date:
    """A 15-digit number's digits and encoded birth date (19YY-MM-DD)."""
    if not number.isdigit():
        raise _error("id_number", RIC_LEGACY_FORMAT, "format")
    try:
        return datetime.date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError as exc:
        raise _error("id_number", RIC_BIRTH_DATE, "birth_date") from exc


def _validate_ric(number: str) -> datetime.date:
    if len(number) == RIC_LEGACY_DIGITS:
        birth = _legacy_structure(number)
    else:
        birth = _gb11643_structure(number)
    if not _region_known(number[:6], f"{birth.year:04d}"):
        raise _error("id_number", RIC_REGION, "region")
    return birth


def _sequence_digit(number: str) -> int:
    """The sequence's last digit: odd for a man, even for a woman."""
    return int(number[14] if len(number) == RIC_LEGACY_DIGITS else number[16])


def _validate_hmt_residence(number: str) -> datetime.date:
    birth = _gb11643_structure(number, HMT_RESIDENCE_LENGTH)
    if number[:2] not in {"81", "82", "83"}:
        raise _error("id_number", HMT_RESIDENCE_AREA, "region")
    return birth


def validate_identity(
    *, id_type: str, id_number: str, birth_date: datetime.date | None, gender: str | None
) -> str:
    """Validate an identity document against the person's birth date and gender.

    Returns the normalized number. Resident ID numbers (and the residence permits of Hong
    Kong, Macao and Taiwan residents, which share their structure) must carry the person's
    birth date and a sequence digit whose parity matches the gender (DOMAIN.md §3.5); a
    resident ID number may also be a first-generation card's 15 digits, stored as given.
    """
    number = normalize_id_number(id_number)
    if id_type in (IdType.RESIDENT_ID, IdType.HMT_RESIDENCE_PERMIT):
        if id_type == IdType.RESIDENT_ID:
            encoded_birth = _validate_ric(number)
        else:
            encoded_birth = _validate_hmt_residence(number)
        errors: dict[str, list[ValidationError]] = {}
        if birth_date is not None and birth_date != encoded_birth:
            errors.setdefault("birth_date", []).append(
                ValidationError(
                    RIC_BIRTH_MISMATCH,
                    code="birth_date_mismatch",
                    params={"birth": birth_date.isoformat(), "id_birth": encoded_birth.isoformat()},
                )
            )
        if gender:
            expected = Gender.MALE if _sequence_digit(number) % 2 == 1 else Gender.FEMALE
            if gender != expected:
                errors.setdefault("gender", []).append(
                    ValidationError(RIC_GENDER_MISMATCH, code="gender_mismatch")
                )
        if errors:
            raise ValidationError(errors)
        return number
    if id_type in _FORMATS:
        pattern, rule = _FORMATS[id_type]
        if not pattern.match(number):
            raise ValidationError(
                {
                    "id_number": ValidationError(
                        DOCUMENT_FORMAT,
                        code="format",
                        params={"type": IdType(id_type).label, "rule": rule},
                    )
                }
            )
        return number
    raise _error("id_type", UNKNOWN_ID_TYPE, "invalid_choice")


NAME_MAX_LENGTH = 40
NAME_RULE = _("A name is 1-40 characters: letters (any script), spaces, · and -.")
_NAME_RE = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ ·\-.'’])*$", re.UNICODE)


def validate_person_name(value: str) -> None:
    """Names may hold rare characters, the middle dot of minority names and foreign names."""
    if not value or len(value) > NAME_MAX_LENGTH or not _NAME_RE.match(value):
        raise ValidationError(NAME_RULE, code="name")


def mask_id_number(number: str) -> str:
    """Keep the first four and last four characters: enough to recognise, not to reuse.

    The project's one masking function: lists, emails and every reader who does not need the
    number in full (docs/architecture.md, "Sensitive values") see it through this."""
    if len(number) <= 8:  # noqa: PLR2004
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# The fields whose values are shown masked wherever they are not needed in full.
MASKED_FIELDS = frozenset({"id_number"})


def masked_value(field: str, value: Any) -> str:
    """A stored value as text, an ID number masked (``mask_id_number``)."""
    text = "" if value is None else str(value)
    return mask_id_number(text) if field in MASKED_FIELDS and text else text


# What free text masks: the emails' guard's pattern, and a first-generation card's 15 digits
# (which the guard leaves alone: a graduate candidate's 考生编号 has 15 digits too).
_ID_LIKE_IN_TEXT = re.compile(rf"{RESIDENT_ID_LIKE.pattern}|(?<![0-9])[0-9]{{15}}(?![0-9])")


def mask_id_numbers_in(text: str) -> str:
    """Free text (a reason, a reviewer's comment) with everything in it that looks like a
    resident ID number masked: the loose pattern the emails' own guard refuses
    (``notifications.rendering.RESIDENT_ID_LIKE``, no checksum test) and 15 digits in a row
    (a first-generation card), so that a quoted
    number is masked rather than refused, at the price of masking an 18-digit certificate
    number quoted beside it too."""
    return _ID_LIKE_IN_TEXT.sub(lambda match: mask_id_number(match.group(0)), text)
