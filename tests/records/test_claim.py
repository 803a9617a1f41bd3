"""A freshman claims their account (``records.admissions.claim``): the candidate number, ID
number and name of one admission whose person has no login; one message for any mismatch;
failures counted per address in the shared cache; field errors that never count."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory

from notifications.models import Notification
from permissions import roles
from records.admissions.claim import STUDENT_CLAIMED
from records.admissions.claim import AlreadyClaimedError
from records.admissions.claim import ClaimAttempts
from records.admissions.claim import ClaimMismatchError
from records.admissions.claim import ClaimThrottledError
from records.admissions.claim import claim_account
from records.choices import AdmissionState
from records.choices import Gender
from records.models import AdmissionRecord
from records.models import AuditEvent
from records.models import Student
from records.models import User
from tests import factories
from tests.claims import PASSWORD
from tests.claims import admitted
from tests.claims import claim_of
from tests.claims import fresh_cache
from tests.records.admission_files import row
from tests.services import REDIS_URL

pytestmark = pytest.mark.django_db

HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.9"
# A valid resident ID number no freshman of ``row`` has (born 2006).
STRANGER_ID = factories.resident_id(dt.date(2006, 6, 6), Gender.MALE, region="110108", serial=77)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    yield from fresh_cache()


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.CLAIM_FAILURE_LIMIT = 5
    settings.CLAIM_FAILURE_WINDOW_MINUTES = 10


@pytest.fixture
def freshman(places) -> dict[str, str]:
    first = row(1)
    admitted(first)
    return first


def _claim(values: dict[str, str], *, address: str = HOME, language: str = "zh-hans") -> Any:
    return claim_account(**values, address=address, language=language)


def _mismatch(values: dict[str, str], *, address: str = HOME) -> str:
    with pytest.raises(ClaimMismatchError) as refused:
        _claim(values, address=address)
    return refused.value.message


class TestMatch:
    def test_a_claim_creates_a_student_login_for_the_person(self, freshman):
        claimed = _claim(claim_of(freshman, username="lin.x", email="Lin@Example.ORG"))

        user = User.objects.get(username="lin.x")
        person = Student.objects.get(id_number=freshman["id_number"])
        assert claimed.user == user
        assert person.user == user
        assert list(user.groups.values_list("name", flat=True)) == [roles.STUDENT]
        assert user.get_full_name() == freshman["name"]
        assert user.email == "Lin@example.org"  # the domain in lower case
        assert (user.language, user.is_active, user.is_staff) == ("zh-hans", True, False)
        login = RequestFactory().post("/accounts/login/")
        assert authenticate(login, username="lin.x", password=PASSWORD) == user

    def test_the_claim_is_audited_on_the_person_and_confirmed_by_email(self, freshman):
        _claim(claim_of(freshman, username="lin.x", email="lin@example.org"), language="en")

        person = Student.objects.get(id_number=freshman["id_number"])
        event = AuditEvent.objects.get(subject_id=str(person.pk), action=STUDENT_CLAIMED)
        admission = AdmissionRecord.objects.get(student=person)
        assert event.actor == person.user
        assert event.data == {
            "username": "lin.x",
            "admission": admission.pk,
            "candidate_number": freshman["candidate_number"],
            "address": HOME,
        }
        email = Notification.objects.get(event="account_claimed")
        assert email.recipient_email == "lin@example.org"
        assert email.subject == "[Xueji] Your account was created"  # the claim's language
        assert "lin.x" in email.body_text
        assert "北京大学" in email.body_text
        assert "/accounts/login/" in email.body_text
        assert freshman["id_number"] not in email.body_text + email.body_html

    def test_the_typed_facts_are_normalised(self, places):
        n = next(n for n in range(1, 400) if row(n)["id_number"].endswith("X"))
        with_x, dotted = row(n), row(n + 1, name="阿依古丽·买买提")
        admitted(with_x, dotted)
        number = with_x["candidate_number"]
        typed = claim_of(
            with_x,
            candidate_number=f" {number[:4]} {number[4:8]}-{number[8:]} ".translate(
                str.maketrans("0123456789", "０１２３４５６７８９")  # full-width digits
            ),
            id_number=with_x["id_number"].lower().replace("x", " x "),
            name=" " + " ".join(with_x["name"]) + " ",
        )

        assert _claim(typed).person.name == with_x["name"]
        assert _claim(claim_of(dotted, name="阿依古丽•买买提")).person.name == "阿依古丽·买买提"

    @pytest.mark.parametrize(
        "state",
        [
            AdmissionState.REGISTERED,
            AdmissionState.RETAINED,
            AdmissionState.GAVE_UP,
            AdmissionState.CANCELLED,
        ],
    )
    def test_an_admission_in_any_state_may_be_claimed(self, freshman, state):
        AdmissionRecord.objects.update(state=state, reason="原因")  # the outcome, as decided

        claimed = _claim(claim_of(freshman))

        assert claimed.admission.state == state
        assert claimed.person.user == claimed.user

    def test_an_earlier_year_s_candidate_number_names_the_same_person(self, places):
        first = row(1, candidate_number="25110000000001", admission_year="2025")
        admitted(first)
        AdmissionRecord.objects.update(state=AdmissionState.GAVE_UP)
        later = row(1)
        admitted(later)

        claimed = _claim(claim_of(first))

        assert claimed.person.admissions.count() == 2


class TestMismatch:
    @pytest.mark.parametrize(
        "wrong",
        [
            {"candidate_number": "26110000009999"},
            {"id_number": STRANGER_ID},
            {"name": "王小明"},
            {"candidate_number": "26110000009999", "id_number": STRANGER_ID, "name": "王小明"},
        ],
        ids=["candidate-number", "id-number", "name", "all-three"],
    )
    def test_each_kind_of_mismatch_answers_the_same_message(self, freshman, wrong):
        message = _mismatch(claim_of(freshman, **wrong))

        assert message == _mismatch(claim_of(freshman, name="李四"))
        assert "考生号、证件号码和姓名" in message  # all three, never which one
        assert not User.objects.exists()

    def test_another_freshman_s_candidate_number_is_a_mismatch(self, places):
        one, other = row(1), row(2)
        admitted(one, other)

        _mismatch(claim_of(one, candidate_number=other["candidate_number"]))

        assert not User.objects.exists()

    def test_a_person_with_a_login_is_told_so_only_when_all_three_match(self, freshman):
        _claim(claim_of(freshman))

        with pytest.raises(AlreadyClaimedError) as refused:
            _claim(claim_of(freshman, username="second", email="second@example.org"))
        assert "已开通过账号" in refused.value.message
        _mismatch(claim_of(freshman, name="李四", username="second", email="second@example.org"))
        assert User.objects.count() == 1


class TestFieldErrors:
    def test_each_field_is_checked_by_its_rule_and_named(self, freshman):
        typed = claim_of(
            freshman,
            candidate_number="2611ABC",
            id_number=freshman["id_number"][:-1]
            + ("0" if freshman["id_number"][-1] != "0" else "1"),
            name="王2",
            username="has space",
            email="not-an-address",
            password="12345678",
        )

        with pytest.raises(ValidationError) as refused:
            _claim(typed)

        errors = refused.value.message_dict
        assert set(errors) == {
            "candidate_number",
            "id_number",
            "name",
            "username",
            "email",
            "password",
        }
        codes = {
            field: [e.code for e in found] for field, found in refused.value.error_dict.items()
        }
        assert codes["candidate_number"] == ["format"]
        assert codes["id_number"] == ["checksum"]
        assert codes["username"] == ["invalid"]
        assert "password_too_common" in codes["password"]
        assert "考生号只能是数字" in errors["candidate_number"][0]
        assert ClaimAttempts(HOME).failures() == 0  # never counted

    def test_empty_fields_are_required(self, freshman):
        with pytest.raises(ValidationError) as refused:
            _claim(dict.fromkeys(claim_of(freshman), "  "))

        assert set(refused.value.message_dict) == {
            "candidate_number",
            "id_number",
            "name",
            "username",
            "email",
            "password",
        }

    def test_a_taken_user_name_or_email_is_said_only_once_the_facts_match(self, freshman):
        factories.user("Taken", email="taken@example.org")

        _mismatch(claim_of(freshman, name="李四", username="taken", email="TAKEN@example.org"))
        with pytest.raises(ValidationError) as refused:
            _claim(claim_of(freshman, username="taken", email="TAKEN@example.org"))

        assert set(refused.value.message_dict) == {"username", "email"}
        assert ClaimAttempts(HOME).failures() == 1  # the mismatch only
        assert Student.objects.get(id_number=freshman["id_number"]).user is None


class TestFailuresPerAddress:
    def test_after_five_failures_every_claim_from_the_address_waits_for_the_oldest(self, freshman):
        if os.environ.get("CACHE_URL"):
            pytest.skip("travels in time: the database's cache table, not CACHE_URL's")
        start = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False) as clock:
            _mismatch(claim_of(freshman, name="李四"))
            clock.shift(dt.timedelta(minutes=4))
            for _ in range(4):
                _mismatch(claim_of(freshman, name="李四"))

            with pytest.raises(ClaimThrottledError) as refused:
                _claim(claim_of(freshman))  # the right facts too
            assert refused.value.retry_after == 6 * 60  # the first failure is 4 minutes old
            assert "6 分钟" in refused.value.message
            clock.shift(dt.timedelta(minutes=5, seconds=59))
            with pytest.raises(ClaimThrottledError) as refused:  # refusals do not count
                _claim(claim_of(freshman))
            assert refused.value.retry_after == 1

            clock.shift(dt.timedelta(seconds=2))  # the database's cache expires by the second
            assert _claim(claim_of(freshman)).user.username
            assert ClaimAttempts(HOME).failures() == 4

    def test_another_address_is_not_affected(self, freshman):
        for _ in range(5):
            _mismatch(claim_of(freshman, name="李四"))
        with pytest.raises(ClaimThrottledError):
            _claim(claim_of(freshman))

        assert _claim(claim_of(freshman), address=ELSEWHERE).user

    def test_an_ipv6_client_is_counted_by_its_network(self, freshman):
        for host in range(1, 6):  # rotating addresses within one /64
            _mismatch(claim_of(freshman, name="李四"), address=f"2001:db8:1:2::{host}")

        with pytest.raises(ClaimThrottledError):
            _claim(claim_of(freshman), address="2001:db8:1:2:ffff::1")
        assert _claim(claim_of(freshman), address="2001:db8:1:3::1").user

    def test_successful_claims_do_not_count(self, places):
        rows = [row(n) for n in range(1, 8)]
        admitted(*rows)

        for values in rows:
            _claim(claim_of(values))

        assert User.objects.count() == 7
        assert ClaimAttempts(HOME).failures() == 0


def _concurrent_mismatches(values: dict[str, str], times: int) -> list[str]:
    """``times`` claims at once from one address, each in its own thread and connection."""
    outcomes: list[str] = []
    barrier = threading.Barrier(times)

    def attempt() -> None:
        try:
            barrier.wait()
            _claim(values)
        except ClaimMismatchError:
            outcomes.append("mismatch")
        except ClaimThrottledError:
            outcomes.append("throttled")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_from_one_address_get_five_tries_in_the_database_cache(places):
    if os.environ.get("CACHE_URL"):
        pytest.skip("about the database's cache table")
    first = row(1)
    admitted(first)

    outcomes = _concurrent_mismatches(claim_of(first, name="李四"), 12)

    assert sorted(outcomes) == ["mismatch"] * 5 + ["throttled"] * 7


@pytest.mark.redis
def test_concurrent_guesses_from_one_address_take_five_slots_in_redis(settings):
    """Redis' ``SET NX`` hands each slot to one request: 12 claims at once from one address,
    5 go on to be checked (and, as mismatches, keep their slots), 7 are refused."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    caches["default"].clear()
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def attempt() -> None:
        barrier.wait()
        try:
            ClaimAttempts(HOME).take()
            outcomes.append("checked")
        except ClaimThrottledError as refused:
            outcomes.append(f"throttled {refused.retry_after}")

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failures = ClaimAttempts(HOME).failures()
    finally:
        caches["default"].clear()

    assert sorted(outcomes) == ["checked"] * 5 + ["throttled 600"] * 7
    assert failures == 5
