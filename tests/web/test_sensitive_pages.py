"""ID numbers on the pages: masked in every list and for every reader who does not need them;
in full on the task page and the request page of whoever may decide the open task (and, the
values they typed, for the requester), and those pages are then never cached
(docs/architecture.md, "Sensitive values")."""

from __future__ import annotations

import pytest
from django.test import Client

from records.models import User
from records.validators import mask_id_number
from tests import factories
from tests.sensitive import assert_masked
from tests.sensitive import assert_not_in_full
from tests.sensitive import no_store
from workflows import work
from workflows.flows import correction as flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    a = factories.user("student_a")
    person = factories.student("王小明", login=a)
    q = factories.qualification(person, places.pku)
    new_id = factories.resident_id(person.birth_date, person.gender, region="310101")
    return {
        "q": q,
        "old": person.id_number,
        "new": new_id,
        "student_a": a,
        "officer_10001": factories.officer(places.pku, "officer_10001"),
        "province_11": factories.provincial_admin(places.bj, "province_11"),
    }


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _file(world):
    return flow.correction_start(
        qualification=world["q"],
        changes={"id_number": world["new"]},
        reason=f"身份证号录入错误，应为{world['new']}",
        requester=world["student_a"],
    )


def _open_task(correction):
    item = work.open_item_of(flow.FLOW_KEY, correction.pk)
    assert item is not None
    return item.pk


def _get(user, url):
    response = _client(user).get(url)
    assert response.status_code == 200, url
    return response


def test_the_task_page_shows_its_decider_both_values_uncached(world):
    correction = _file(world)
    response = _get(world["officer_10001"], f"/work/{_open_task(correction)}/")
    text = response.content.decode()
    assert world["old"] in text
    assert world["new"] in text
    assert f"应为{world['new']}" in text  # the reason, as typed
    assert no_store(response)


def test_once_decided_the_task_page_masks_them(world):
    correction = _file(world)
    review = _open_task(correction)
    work.decide(task_pk=review, user=world["officer_10001"], decision="approve")
    response = _get(world["officer_10001"], f"/work/{review}/")
    assert_masked(response, world["old"], world["new"])
    # The province's administrator now decides: the request page shows them both in full.
    response = _get(world["province_11"], f"/corrections/{correction.pk}/")
    assert world["old"] in response.content.decode()
    assert no_store(response)


@pytest.mark.parametrize("who", ["officer_10001", "province_11", "student_a"])
def test_lists_and_pages_of_readers_with_no_decision_mask_them(world, who):
    correction = _file(world)
    work.decide(task_pk=_open_task(correction), user=world["officer_10001"], decision="approve")
    work.decide(task_pk=_open_task(correction), user=world["province_11"], decision="approve")
    user = world[who]
    for url in ("/home/", "/corrections/", f"/corrections/qualifications/{world['q'].pk}/"):
        text = _get(user, url).content.decode()
        assert world["old"] not in text, url
        assert world["new"] not in text, url
    if who != "student_a":
        assert_not_in_full(_get(user, "/work/"), world["old"], world["new"])
        detail = _get(user, f"/corrections/{correction.pk}/")
        assert_masked(detail, world["old"], world["new"])


def test_the_requester_sees_what_they_typed_uncached(world):
    correction = _file(world)
    response = _get(world["student_a"], f"/corrections/{correction.pk}/")
    text = response.content.decode()
    assert world["new"] in text
    assert world["old"] not in text
    assert mask_id_number(world["old"]) in text
    assert no_store(response)


def test_a_reader_of_the_request_page_with_no_decision_sees_them_masked(world):
    correction = _file(world)  # waits at the school: nothing for the province to decide yet
    response = _get(world["province_11"], f"/corrections/{correction.pk}/")
    assert_masked(response, world["old"], world["new"])
    assert f"应为{mask_id_number(world['new'])}" in response.content.decode()
