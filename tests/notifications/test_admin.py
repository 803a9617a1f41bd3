from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from notifications.models import Notification
from notifications.services import Recipient
from notifications.services import notify

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notification_changelist")
Status = Notification.Status


@pytest.fixture
def failed_row(password_context) -> Notification:
    (row,) = notify(
        "password_changed",
        object_key="records.user:7",
        recipients=[Recipient(email="bounced@example.cn", language="zh-hans")],
        context=password_context,
    )
    Notification.objects.filter(pk=row.pk).update(
        status=Status.FAILED, attempts=1, last_error="SMTPRecipientsRefused: 550 no such user"
    )
    return row


def test_admins_see_failed_rows_with_their_error(admin_client, failed_row):
    response = admin_client.get(CHANGELIST, {"status__exact": "failed"})

    assert response.status_code == 200
    assert "bounced@example.cn" in response.text

    detail = admin_client.get(
        reverse("admin:notifications_notification_change", args=[failed_row.pk])
    )
    assert detail.status_code == 200
    assert "550 no such user" in detail.text
    assert 'name="_save"' not in detail.text  # read-only


def test_search_by_object_key(admin_client, failed_row):
    response = admin_client.get(CHANGELIST, {"q": "records.user:7"})

    assert "bounced@example.cn" in response.text
    assert "bounced@example.cn" not in admin_client.get(CHANGELIST, {"q": "records.user:8"}).text


def test_retry_failed_action_sends_the_row_again(
    admin_client, failed_row, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {"action": "retry_failed", "_selected_action": [failed_row.pk]},
            follow=True,
        )

    assert response.status_code == 200
    failed_row.refresh_from_db()
    assert (failed_row.status, failed_row.attempts) == (Status.SENT, 1)
    assert [message.to for message in mail.outbox] == [["bounced@example.cn"]]


def test_viewers_without_change_permission_get_no_retry_action(
    client, django_user_model, failed_row
):
    viewer = django_user_model.objects.create_user(
        username="viewer", password="pw-viewer-1", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(viewer)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert "bounced@example.cn" in response.text
    assert "retry_failed" not in response.text
