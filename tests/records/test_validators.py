from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from records.choices import Gender
from records.choices import IdType
from records.validators import validate_identity
from records.validators import validate_person_name
from tests import factories

BIRTH = datetime.date(1949, 12, 31)


def _codes(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str | None]]:
    return {field: [e.code for e in errors] for field, errors in exc.value.error_dict.items()}


def test_valid_resident_id_is_accepted_and_normalized():
    number = validate_identity(
        id_type=IdType.RESIDENT_ID,
        id_number=" 11010519491231002x ",
        birth_date=BIRTH,
        gender=Gender.FEMALE,
    )
    assert number == "11010519491231002X"


@pytest.mark.parametrize("number", ["360426199101010071", "11010519491231002X"])
def test_published_test_vectors_validate(number):
    birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    assert (
        validate_identity(
            id_type=IdType.RESIDENT_ID, id_number=number, birth_date=birth, gender=gender
        )
        == number
    )


def test_bad_check_digit_names_the_field_and_rule():
    with pytest.raises(ValidationError) as exc:
        validate_identity(
            id_type=IdType.RESIDENT_ID,
            id_number="360426199101010072",
            birth_date=datetime.date(1991, 1, 1),
            gender=Gender.MALE,
        )
    assert _codes(exc) == {"id_number": ["checksum"]}
    assert "MOD 11-2" in str(exc.value.message_dict["id_number"][0])


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("36042619910101007", "length"),
        ("3604261991010100X1", "format"),
        ("360426199113010071", "birth_date"),
    ],
)
def test_malformed_numbers_are_refused(number, code):
    body = number[:17]
    if code == "birth_date":  # give it a correct check digit so only the date is wrong
        from stdnum.cn import ric

        number = body + ric.calc_check_digit(body + "0")
    with pytest.raises(ValidationError) as exc:
        validate_identity(
            id_type=IdType.RESIDENT_ID, id_number=number, birth_date=None, gender=None
        )
    assert _codes(exc) == {"id_number": [code]}


def test_unknown_region_is_refused():
    number = factories.resident_id(datetime.date(2000, 1, 1), Gender.MALE, region="990000")
    with pytest.raises(ValidationError) as exc:
        validate_identity(
            id_type=IdType.RESIDENT_ID, id_number=number, birth_date=None, gender=None
        )
    assert _codes(exc) == {"id_number": ["region"]}


def test_birth_date_mismatch_names_birth_date():
    with pytest.raises(ValidationError) as exc:
        validate_identity(
            id_type=IdType.RESIDENT_ID,
            id_number="11010519491231002X",
            birth_date=datetime.date(1949, 12, 30),
            gender=Gender.FEMALE,
        )
    assert _codes(exc) == {"birth_date": ["birth_date_mismatch"]}
    assert "1949-12-31" in exc.value.message_dict["birth_date"][0]


def test_gender_mismatch_names_gender():
    with pytest.raises(ValidationError) as exc:
        validate_identity(
            id_type=IdType.RESIDENT_ID,
            id_number="11010519491231002X",
            birth_date=BIRTH,
            gender=Gender.MALE,
        )
    assert _codes(exc) == {"gender": ["gender_mismatch"]}


def test_both_mismatches_are_reported_together():
    with pytest.raises(ValidationError) as exc:
        validate_identity(
            id_type=IdType.RESIDENT_ID,
            id_number="11010519491231002X",
            birth_date=datetime.date(1950, 1, 1),
            gender=Gender.MALE,
        )
    assert set(exc.value.error_dict) == {"birth_date", "gender"}


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        (IdType.PASSPORT, "E12345678"),
        (IdType.PASSPORT, "x1234567"),
        (IdType.HK_MACAU_PERMIT, "H12345678"),
        (IdType.HK_MACAU_PERMIT, "M1234567801"),
        (IdType.TAIWAN_PERMIT, "12345678"),
        (IdType.FOREIGN_PERMANENT_RESIDENCE, "USA110012345678"),
        (IdType.FOREIGN_PERMANENT_RESIDENCE, "911840199001011234"),
    ],
)
def test_other_documents_pass_their_format_check(id_type, number):
    assert (
        validate_identity(id_type=id_type, id_number=number, birth_date=BIRTH, gender=Gender.MALE)
        == number.upper()
    )


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        (IdType.PASSPORT, "E12"),
        (IdType.HK_MACAU_PERMIT, "X12345678"),
        (IdType.TAIWAN_PERMIT, "1234567"),
        (IdType.FOREIGN_PERMANENT_RESIDENCE, "123"),
    ],
)
def test_other_documents_with_wrong_format_name_the_rule(id_type, number):
    with pytest.raises(ValidationError) as exc:
        validate_identity(id_type=id_type, id_number=number, birth_date=None, gender=None)
    assert _codes(exc) == {"id_number": ["format"]}


def test_hmt_residence_permit_has_ric_structure_and_area_code():
    birth = datetime.date(1995, 6, 1)
    good = factories.resident_id(birth, Gender.FEMALE, region="810000")
    assert (
        validate_identity(
            id_type=IdType.HMT_RESIDENCE_PERMIT,
            id_number=good,
            birth_date=birth,
            gender=Gender.FEMALE,
        )
        == good
    )
    mainland = factories.resident_id(birth, Gender.FEMALE, region="110105")
    with pytest.raises(ValidationError) as exc:
        validate_identity(
            id_type=IdType.HMT_RESIDENCE_PERMIT,
            id_number=mainland,
            birth_date=birth,
            gender=Gender.FEMALE,
        )
    assert _codes(exc) == {"id_number": ["region"]}


@pytest.mark.parametrize("name", ["王小明", "阿依古丽·买买提", "John Smith", "O'Neil", "𠈌子"])
def test_names_allow_rare_characters_and_middle_dots(name):
    validate_person_name(name)


@pytest.mark.parametrize("name", ["", "A" * 41, "Tom1", "·王"])
def test_bad_names_are_refused(name):
    with pytest.raises(ValidationError):
        validate_person_name(name)


# A first-generation card (issued before 1999): 110105 (Beijing, Chaoyang), 1949-12-31, the
# sequence 002 (even: a woman), no check character.
LEGACY_ID = "110105491231002"


def test_a_15_digit_resident_id_number_is_stored_as_given_and_checked_by_its_own_rules():
    assert (
        validate_identity(
            id_type=IdType.RESIDENT_ID, id_number=LEGACY_ID, birth_date=BIRTH, gender=Gender.FEMALE
        )
        == LEGACY_ID
    )
    with pytest.raises(ValidationError) as exc:
        validate_identity(
            id_type=IdType.RESIDENT_ID,
            id_number=LEGACY_ID,
            birth_date=datetime.date(1949, 12, 30),
            gender=Gender.MALE,
        )
    assert _codes(exc) == {"birth_date": ["birth_date_mismatch"], "gender": ["gender_mismatch"]}


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010549123100X", "format"),  # no check character on a 15-digit card
        ("110105491331002", "birth_date"),  # month 13
        ("990105491231002", "region"),
        ("1101054912310021", "length"),  # 16 characters
    ],
)
def test_a_malformed_15_digit_number_names_its_rule(number, code):
    with pytest.raises(ValidationError) as exc:
        validate_identity(id_type=IdType.RESIDENT_ID, id_number=number, birth_date=None, gender="")
    assert _codes(exc) == {"id_number": [code]}


def test_a_residence_permit_has_no_15_digit_form():
    with pytest.raises(ValidationError) as exc:
        validate_identity(
            id_type=IdType.HMT_RESIDENCE_PERMIT, id_number=LEGACY_ID, birth_date=None, gender=""
        )
    assert _codes(exc) == {"id_number": ["length"]}


def test_free_text_masks_a_15_digit_number_too():
    from records.validators import mask_id_numbers_in

    masked = mask_id_numbers_in(f"身份证 {LEGACY_ID} 有误")
    assert LEGACY_ID not in masked
    assert masked.startswith("身份证 1101")
