"""Emails never carry a full ID number, not even one a reviewer quotes in a comment: it is
masked, and the decision goes through (the emails' guard used to refuse it, failing the
decision)."""

from __future__ import annotations

import pytest
from django.core import mail

from records.validators import mask_id_number
from tests import factories
from workflows import work
from workflows.flows import correction as flow

pytestmark = pytest.mark.django_db


def test_an_id_number_quoted_in_a_comment_is_masked_in_the_email(
    places, django_capture_on_commit_callbacks
):
    login = factories.user("student_a", email="a@stu.example", language="en")
    person = factories.student("王小明", login=login)
    factories.officer(places.pku, "officer_10001", email="o1@pku.example")
    new_id = factories.resident_id(person.birth_date, person.gender, region="310101")
    certificate = factories.qualification(person, places.pku).certificate_number
    correction = flow.correction_start(
        qualification=person.qualifications.get(),
        changes={"id_number": new_id},
        reason="录入错误",
        requester=login,
    )
    item = work.open_item_of(flow.FLOW_KEY, correction.pk)
    assert item is not None
    mail.outbox.clear()
    comment = f"The card shows {new_id}, not {person.id_number}; certificate {certificate}."
    with django_capture_on_commit_callbacks(execute=True):
        work.decide(
            task_pk=item.pk,
            user=factories.officer(places.pku, "officer_10001b"),
            decision="return",
            comment=comment,
        )
    (message,) = [m for m in mail.outbox if m.to == ["a@stu.example"]]
    html = str(message.alternatives[0][0])  # type: ignore[attr-defined]
    for text in (message.body, html):
        assert new_id not in text
        assert person.id_number not in text
        assert mask_id_number(new_id) in text
        assert mask_id_number(person.id_number) in text
        # Eighteen digits look like an ID number to the emails' guard: masked likewise.
        assert certificate not in text
        assert mask_id_number(certificate) in text
