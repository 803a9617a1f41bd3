"""The admin's pages of cohorts and cancellation requests: listed, filtered and searched, never
added, changed or deleted there (the admission flow changes them, with its rules, audit and
emails)."""

from __future__ import annotations

import pytest

from records.models import AdmissionCancellation
from records.models import AdmissionCohort
from tests import factories
from tests.workflows import cohorts as c

pytestmark = pytest.mark.django_db

COHORTS = "/admin/records/admissioncohort/"
CANCELLATIONS = "/admin/records/admissioncancellation/"


@pytest.fixture
def w(places):
    world = c.world(places)
    c.admit(world.officer, [1, 2])
    c.admit(world.thu_officer, [3], school_code="10003")
    first = c.cohort().admissions().order_by("pk")[0]
    (result,) = c.record(world.officer, c.outcome(first, "cancelled", reason="材料不符"))
    assert result["ok"], result
    return world


@pytest.fixture
def root(client):
    user = factories.user("root")
    user.is_superuser = user.is_staff = True
    user.save()
    client.force_login(user)
    return client


def test_cohorts_are_listed_filtered_and_searched(w, root):
    page = root.get(COHORTS)
    assert page.status_code == 200
    html = page.content.decode()
    assert "北京大学" in html
    assert "清华大学" in html
    assert "2026年12月1日" in html  # the deadline

    searched = root.get(COHORTS, {"q": "清华"}).content.decode()
    assert "清华大学" in searched
    assert "北京大学" not in searched
    by_code = root.get(COHORTS, {"q": "10001"}).content.decode()
    assert "北京大学" in by_code
    assert "清华大学" not in by_code
    assert root.get(COHORTS, {"state__exact": "registered"}).context["cl"].result_count == 0
    assert root.get(COHORTS, {"state__exact": "reviewing"}).context["cl"].result_count == 2
    assert root.get(COHORTS, {"year": "2026"}).context["cl"].result_count == 2


def test_cancellations_are_listed_by_candidate_number_and_name_never_the_id_number(w, root):
    cancellation = AdmissionCancellation.objects.select_related("admission__student").get()
    admission = cancellation.admission

    html = root.get(CANCELLATIONS).content.decode()

    assert admission.candidate_number in html
    assert admission.student.name in html
    assert admission.student.id_number not in html
    assert (
        root.get(CANCELLATIONS, {"q": admission.candidate_number}).context["cl"].result_count == 1
    )
    assert root.get(CANCELLATIONS, {"q": "清华"}).context["cl"].result_count == 0
    assert root.get(CANCELLATIONS, {"state__exact": "pending"}).context["cl"].result_count == 1
    detail = root.get(f"{CANCELLATIONS}{cancellation.pk}/change/")
    assert detail.status_code == 200
    assert admission.student.id_number not in detail.content.decode()


@pytest.mark.parametrize(
    "model", [AdmissionCohort, AdmissionCancellation], ids=["cohort", "cancellation"]
)
def test_nothing_is_added_changed_or_deleted_there(w, root, model):
    obj = model.objects.order_by("pk").first()
    base = f"/admin/records/{model._meta.model_name}/"
    state = obj.state

    assert root.get(f"{base}add/").status_code == 403
    assert root.post(f"{base}add/", {}).status_code == 403
    assert root.post(f"{base}{obj.pk}/change/", {"state": "registered"}).status_code == 403
    assert root.get(f"{base}{obj.pk}/delete/").status_code == 403
    assert root.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    obj.refresh_from_db()
    assert obj.state == state
    page = root.get(base).content.decode()
    assert 'name="action"' not in page  # no bulk delete either
