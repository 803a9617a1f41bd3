"""Cohorts for the admission re-examination's tests: freshmen imported with the import's own
helpers (so the import's signal opens each cohort's review), accounts for some of them, and
outcomes recorded through the flow's services."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from records.admissions import appeals as admission_appeals
from records.admissions.services import OutcomeItem
from records.models import AdmissionCancellation
from records.models import AdmissionCohort
from records.models import AdmissionRecord
from records.models import Student
from records.models import User
from tests import factories
from tests.records.admission_files import csv_bytes
from tests.records.admission_files import errors_of
from tests.records.admission_files import imported
from tests.records.admission_files import reference
from tests.records.admission_files import row
from workflows.flows import admission as flow
from workflows.models import OPEN
from workflows.models import WorkItem

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Imported on 1 October 2026; the entry date is 1 September (the default entry day), so the
# re-examination ends on 1 December 2026 at 00:00, with reminders on 17 and 28 November.
IMPORTED = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI)
DEADLINE = datetime.datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)
FIRST_REMINDER = datetime.datetime(2026, 11, 17, 0, 0, tzinfo=SHANGHAI)
SECOND_REMINDER = datetime.datetime(2026, 11, 28, 0, 0, tzinfo=SHANGHAI)


@dataclass
class World:
    officer: User  # of 北京大学 (10001)
    officer_b: User  # a second officer of 北京大学
    thu_officer: User  # of 清华大学 (10003), same province
    fdu_officer: User  # of 复旦大学 (10246), another province
    admin: User  # of 北京市 (11)
    admin_sh: User  # of 上海市 (31)


def world(places: Any) -> World:
    reference()
    return World(
        officer=factories.officer(places.pku, "officer_10001", email="o1@pku.example"),
        officer_b=factories.officer(
            places.pku, "officer_10001b", email="o2@pku.example", language="en"
        ),
        thu_officer=factories.officer(places.thu, "officer_10003", email="o@thu.example"),
        fdu_officer=factories.officer(places.fdu, "officer_10246", email="o@fdu.example"),
        admin=factories.provincial_admin(places.bj, "province_11", email="p@bj.example"),
        admin_sh=factories.provincial_admin(places.sh, "province_31", email="p@sh.example"),
    )


def admit(
    officer: User, numbers: range | list[int], *, at: datetime.datetime = IMPORTED, **overrides: str
) -> list[AdmissionRecord]:
    """Import the freshmen ``numbers`` (``tests.records.admission_files.row``) at ``at``."""
    rows = [row(n, **_year(n, overrides)) for n in numbers]
    with time_machine.travel(at, tick=False):
        batch = imported(csv_bytes(rows), officer)
    assert batch.imported == len(rows), errors_of(batch)
    return list(
        AdmissionRecord.objects.filter(
            candidate_number__in=[r["candidate_number"] for r in rows]
        ).order_by("pk")
    )


def _year(n: int, overrides: dict[str, str]) -> dict[str, str]:
    """A candidate number starts with its admission year's last two digits."""
    year = overrides.get("admission_year")
    if year and "candidate_number" not in overrides:
        return {**overrides, "candidate_number": f"{year[2:]}11{n:010d}"}
    return overrides


def with_account(admission: AdmissionRecord, username: str, **kwargs: Any) -> User:
    """Give the admitted person a login (as claiming the account does)."""
    login = factories.user(username, email=f"{username}@stu.example", **kwargs)
    Student.objects.filter(pk=admission.student_id).update(user=login)
    return login


def cohort(school: str = "10001", year: int = 2026) -> AdmissionCohort:
    found: AdmissionCohort = AdmissionCohort.objects.select_related("school").get(
        school_id=school, year=year
    )
    return found


# What a cancellation (an adverse decision) is filed with: the legality review and the hearing.
HEARING: dict[str, Any] = {
    "legality_review": True,
    "hearing_by": "招生办 王老师",
    "hearing_summary": "学生陈述了材料情况。",
}


def outcome(admission: AdmissionRecord | int, outcome: str, **kwargs: Any) -> OutcomeItem:
    pk = admission if isinstance(admission, int) else admission.pk
    if outcome == "cancelled":
        kwargs = {**HEARING, "hearing_date": timezone.localdate(), **kwargs}
    return OutcomeItem(admission=pk, outcome=outcome, **kwargs)


def take_effect(cancellation_pk: int, officer: User) -> None:
    """A confirmed cancellation's decision delivered today, and its appeal window ended
    with no appeal: the admission is cancelled."""
    cancellation = AdmissionCancellation.objects.get(pk=cancellation_pk)
    admission_appeals.cancellation_deliver(
        cancellation=cancellation,
        delivered_on=timezone.localdate(),
        method="in_person",
        evidence=None,
        acting_user=officer,
    )
    later = timezone.localdate() + datetime.timedelta(days=11)
    assert flow.cancellation_windows_close(today=later) >= 1


def record(user: User, *items: OutcomeItem) -> list[dict[str, Any]]:
    """Record outcomes through the flow; the results as the API answers them."""
    return [result.as_dict() for result in flow.outcomes_record(items=items, user=user)]


def review_item(cohort_obj: AdmissionCohort) -> WorkItem:
    return WorkItem.objects.get(flow="admission_review", step="review", subject_id=cohort_obj.pk)


def review_item_open(cohort_obj: AdmissionCohort) -> WorkItem:
    """The cohort's open review task (a reopened cohort has closed ones besides)."""
    return WorkItem.objects.get(
        OPEN, flow="admission_review", step="review", subject_id=cohort_obj.pk
    )


def confirmation_item(cancellation_pk: int) -> WorkItem:
    return WorkItem.objects.get(
        flow="admission_review", step="confirm_cancellation", subject_id=cancellation_pk
    )
