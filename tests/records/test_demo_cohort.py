"""``seed_demo``'s 2026 cohort at 北京大学: imported by the admission import, once; the
freshman the README names claims an account with what it says."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from records.admissions.claim import claim_account
from records.choices import AdmissionState
from records.demo import DEMO_FRESHMAN
from records.demo import DEMO_FRESHMEN
from records.demo import demo_id_number
from records.demo import seed_demo
from records.models import AdmissionImport
from records.models import AdmissionRecord
from records.models import AuditEvent
from records.models import Student
from records.models import User
from records.reference import load_reference_data
from tests.claims import fresh_cache

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    yield from fresh_cache()


@pytest.fixture
def seeded() -> None:
    load_reference_data()
    seed_demo()


def _snapshot() -> tuple[int, ...]:
    return (
        AdmissionImport.objects.count(),
        AdmissionRecord.objects.count(),
        Student.objects.count(),
        User.objects.count(),
        AuditEvent.objects.count(),
    )


def test_the_cohort_is_imported_through_the_admission_import(seeded):
    batch = AdmissionImport.objects.get()
    admissions = AdmissionRecord.objects.filter(batch=batch)

    assert (batch.state, batch.school_id, batch.mode) == ("done", "10001", "all_or_nothing")
    assert (batch.total, batch.imported, batch.invalid) == (len(DEMO_FRESHMEN), 5, 0)
    assert {(a.school_id, a.admission_year, a.state) for a in admissions} == {
        ("10001", 2026, AdmissionState.ADMITTED)
    }
    assert not admissions.filter(student__user__isnull=False).exists()
    assert admissions.filter(admission_type__code="national_special_plan").count() == 1
    freshman = admissions.get(candidate_number=DEMO_FRESHMAN.candidate_number).student
    assert (freshman.name, freshman.id_number) == (
        DEMO_FRESHMAN.name,
        demo_id_number(DEMO_FRESHMAN),
    )


def test_seeding_again_changes_nothing(seeded):
    before = _snapshot()

    seed_demo()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    assert _snapshot() == before
    assert "  5 admissions of 2026 at 10001 (5 admitted)" in out.getvalue().splitlines()


def test_the_readme_names_the_demo_freshman_who_can_claim_an_account(seeded):
    readme = README.read_text(encoding="utf-8")
    facts = (DEMO_FRESHMAN.candidate_number, demo_id_number(DEMO_FRESHMAN), DEMO_FRESHMAN.name)
    for fact in facts:
        assert f"`{fact}`" in readme, fact

    claimed = claim_account(
        candidate_number=facts[0],
        id_number=facts[1],
        name=facts[2],
        username="linxiaoyu",
        email="linxiaoyu@example.org",
        password="a long passphrase 42",
        address="127.0.0.1",
        language="zh-hans",
    )

    assert claimed.admission.candidate_number == DEMO_FRESHMAN.candidate_number
    before = _snapshot()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert _snapshot() == before  # the claim is kept
    assert out.getvalue().rstrip().endswith("[claimed]")
