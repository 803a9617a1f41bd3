"""A status change on the shared work list's pages: listed for the school's officers, its
task page shows the type, the fields and the timeline (never an ID number), and is decided
there."""

from __future__ import annotations

import pytest
from django.test import Client

from records.models import StudentStatus
from tests import status_changes as sc
from workflows.models import WorkItem

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_suspension_is_decided_on_its_task_page(places):
    w = sc.world(places)
    request = sc.file(w, "suspension", sc.SUSPENSION)
    item = WorkItem.objects.get(flow="status_change", subject_id=request.pk)
    officer = _client(w.officer)

    assert f"/work/{item.pk}/" in officer.get("/work/").content.decode()
    page = officer.get(f"/work/{item.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "休学" in html
    assert "2026-02-28" in html
    assert "个人原因" in html
    assert "提交申请" in html  # the timeline, in the page's words
    assert w.status.student_number in html
    assert w.status.student.id_number not in html
    assert _client(w.foreign_officer).get(f"/work/{item.pk}/").status_code == 404

    done = officer.post(f"/work/{item.pk}/", {"decision": "approve", "comment": ""})

    assert done.status_code == 302
    assert StudentStatus.objects.get(pk=w.status.pk).state == "suspended"
