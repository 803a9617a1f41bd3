from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError
from django.db import transaction

from notifications.events import UNKNOWN_EVENT
from notifications.models import Notification
from notifications.services import Recipient
from notifications.services import notify

pytestmark = pytest.mark.django_db

OBJECT = "records.user:7"
ZH_SUBJECT = "【学籍】您的密码已修改"
EN_SUBJECT = "[Xueji] Your password was changed"


class TestNotify:
    def test_mail_sent_only_after_commit_when_notify_runs_in_a_transaction(
        self, django_capture_on_commit_callbacks, zh_recipient, password_context
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            rows = notify(
                "password_changed",
                object_key=OBJECT,
                recipients=[zh_recipient],
                context=password_context,
            )
            assert len(rows) == 1
            assert rows[0].status == Notification.Status.PENDING
            assert mail.outbox == []

        assert len(callbacks) == 1
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["liming@example.cn"]
        row = Notification.objects.get()
        assert row.status == Notification.Status.SENT
        assert row.sent_at is not None
        assert row.attempts == 1
        assert row.recipient_user_id == 7

    def test_nothing_written_or_sent_when_the_caller_rolls_back(
        self, django_capture_on_commit_callbacks, zh_recipient, password_context
    ):
        def change_that_fails() -> None:
            with transaction.atomic():
                notify(
                    "password_changed",
                    object_key=OBJECT,
                    recipients=[zh_recipient],
                    context=password_context,
                )
                raise RuntimeError("the caller's change failed")

        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
        ):
            change_that_fails()

        assert callbacks == []
        assert not Notification.objects.exists()
        assert mail.outbox == []

    def test_one_mail_when_notify_is_called_twice_for_the_same_object(
        self, django_capture_on_commit_callbacks, zh_recipient, en_recipient, password_context
    ):
        with django_capture_on_commit_callbacks(execute=True):
            first = notify(
                "password_changed",
                object_key=OBJECT,
                recipients=[zh_recipient],
                context=password_context,
            )
        with django_capture_on_commit_callbacks(execute=True):
            second = notify(
                "password_changed",
                object_key=OBJECT,
                recipients=[zh_recipient, en_recipient],
                context=password_context,
            )

        assert len(first) == 1
        assert [row.recipient_email for row in second] == ["anna@example.org"]
        assert second[0].pk == Notification.objects.get(recipient_email="anna@example.org").pk
        assert Notification.objects.count() == 2
        assert sorted(message.to[0] for message in mail.outbox) == [
            "anna@example.org",
            "liming@example.cn",
        ]

    def test_one_row_when_a_recipient_is_listed_twice(
        self, django_capture_on_commit_callbacks, password_context
    ):
        with django_capture_on_commit_callbacks(execute=True):
            rows = notify(
                "password_changed",
                object_key=OBJECT,
                recipients=[
                    Recipient(email="liming@example.cn", language="zh-hans"),
                    Recipient(email=" liming@EXAMPLE.CN ", language="en"),
                ],
                context=password_context,
            )

        assert [(row.recipient_email, row.language) for row in rows] == [
            ("liming@example.cn", "zh-hans")
        ]
        assert len(mail.outbox) == 1

    def test_same_recipient_gets_a_new_mail_for_another_object(
        self, django_capture_on_commit_callbacks, zh_recipient, password_context
    ):
        with django_capture_on_commit_callbacks(execute=True):
            for key in ("records.user:7", "records.user:8"):
                notify(
                    "password_changed",
                    object_key=key,
                    recipients=[zh_recipient],
                    context=password_context,
                )

        assert len(mail.outbox) == 2

    def test_each_recipient_reads_the_mail_in_their_language(
        self, django_capture_on_commit_callbacks, zh_recipient, en_recipient, password_context
    ):
        with django_capture_on_commit_callbacks(execute=True):
            rows = notify(
                "password_changed",
                object_key=OBJECT,
                recipients=[zh_recipient, en_recipient],
                context=password_context,
            )

        by_email = {row.recipient_email: row for row in rows}
        zh = by_email["liming@example.cn"]
        en = by_email["anna@example.org"]
        assert (zh.language, zh.subject) == ("zh-hans", ZH_SUBJECT)
        assert (en.language, en.subject) == ("en", EN_SUBJECT)
        # 14:05 in Asia/Shanghai, rendered in each language's words.
        assert "2025年3月9日 14:05（UTC+0800）" in zh.body_text
        assert "学籍管理老师" in zh.body_text
        assert "9 March 2025, 14:05 (UTC+0800)" in en.body_text
        assert "student records officer" in en.body_text
        assert '<html lang="zh-hans">' in zh.body_html
        assert '<html lang="en">' in en.body_html
        assert "本邮件由学籍系统自动发送" in zh.body_html
        assert "This is an automatic message" in en.body_html
        sent = {message.to[0]: message for message in mail.outbox}
        assert sent["liming@example.cn"].subject == ZH_SUBJECT
        assert sent["anna@example.org"].subject == EN_SUBJECT
        english = sent["anna@example.org"]
        assert isinstance(english, EmailMultiAlternatives)
        html, mimetype = english.alternatives[0]
        assert mimetype == "text/html"
        assert html == en.body_html

    @pytest.mark.parametrize(
        ("given", "used"), [("zh-CN", "zh-hans"), ("EN", "en"), ("fr", "zh-hans"), ("", "zh-hans")]
    )
    def test_language_falls_back_to_a_supported_one(self, given, used, password_context):
        rows = notify(
            "password_changed",
            object_key=OBJECT,
            recipients=[Recipient(email="a@example.cn", language=given)],
            context=password_context,
        )

        assert rows[0].language == used

    def test_text_is_not_html_escaped_but_html_is(self, password_context):
        context = {**password_context, "name": "O'Neil & <Sons>"}
        rows = notify(
            "password_changed",
            object_key=OBJECT,
            recipients=[Recipient(email="a@example.org", language="en")],
            context=context,
        )

        assert "Dear O'Neil & <Sons>," in rows[0].body_text
        assert "Dear O&#x27;Neil &amp; &lt;Sons&gt;," in rows[0].body_html

    def test_empty_and_invalid_addresses_are_skipped(self, password_context):
        rows = notify(
            "password_changed",
            object_key=OBJECT,
            recipients=[
                Recipient(email="", language="zh-hans"),
                Recipient(email="   ", language="zh-hans"),
                Recipient(email="not an address", language="zh-hans"),
                Recipient(email="ok@example.cn", language="zh-hans"),
            ],
            context=password_context,
        )

        assert [row.recipient_email for row in rows] == ["ok@example.cn"]
        assert Notification.objects.count() == 1

    def test_nothing_written_when_no_recipient_has_an_address(self, password_context):
        rows = notify(
            "password_changed",
            object_key=OBJECT,
            recipients=[Recipient(email="", language="en")],
            context=password_context,
        )

        assert rows == []
        assert not Notification.objects.exists()


class TestNotifyRefuses:
    def _notify(self, context: dict[str, Any], event: str = "password_changed", key: str = OBJECT):
        return notify(
            event,
            object_key=key,
            recipients=[Recipient(email="a@example.cn", language="zh-hans")],
            context=context,
        )

    def test_unknown_event(self, password_context):
        with pytest.raises(ValueError, match="unknown notification event 'no_such_event'"):
            self._notify(password_context, event="no_such_event")
        assert UNKNOWN_EVENT.startswith("unknown notification event")
        assert not Notification.objects.exists()

    def test_context_without_a_key_the_event_needs(self, password_context):
        del password_context["site_url"]
        with pytest.raises(ValueError, match="needs context key"):
            self._notify(password_context)
        assert not Notification.objects.exists()

    @pytest.mark.parametrize("reserved", ["recipient", "language"])
    def test_context_with_a_reserved_key(self, password_context, reserved):
        with pytest.raises(ValueError, match="reserved"):
            self._notify({**password_context, reserved: "x"})

    @pytest.mark.parametrize("key", ["", "no-colon", "records.user:" + "9" * 300])
    def test_bad_object_key(self, password_context, key):
        with pytest.raises(ValueError, match="object_key"):
            self._notify(password_context, key=key)


class TestNoPersonalIdNumbers:
    @pytest.mark.parametrize(
        ("extra", "path"),
        [
            ({"id_number": "11010519900307123X"}, "id_number"),
            ({"note": "学生 110105199003071234 的请求"}, "note"),
            ({"id": 110105199003071234}, "id"),
            (
                {"student": {"profile": {"ids": ["x", "110105199003071234"]}}},
                "student.profile.ids[1]",
            ),
            ({"number": "G110105199003071234"}, "number"),  # a national student number wraps one
        ],
    )
    def test_refused_and_nothing_written_when_the_context_holds_one(
        self, password_context, extra, path
    ):
        with pytest.raises(ValueError, match="no personal ID numbers in any email") as error:
            notify(
                "password_changed",
                object_key=OBJECT,
                recipients=[Recipient(email="a@example.cn", language="zh-hans")],
                context={**password_context, **extra},
            )

        assert repr(path) in str(error.value)
        assert not Notification.objects.exists()

    def test_refused_when_an_object_renders_one(self, password_context):
        class Person:
            def __str__(self) -> str:
                return "张三 110105199003071234"

        with pytest.raises(ValueError, match=r"no personal ID numbers in any email: template"):
            notify(
                "password_changed",
                object_key=OBJECT,
                recipients=[Recipient(email="a@example.cn", language="zh-hans")],
                context={**password_context, "name": Person()},
            )
        assert not Notification.objects.exists()

    @pytest.mark.parametrize(
        "value", ["1101051990030712", "12345678901234567890", "2025-03-09 14:05", "学号 20250001"]
    )
    def test_other_numbers_pass(self, password_context, value):
        rows = notify(
            "password_changed",
            object_key=OBJECT,
            recipients=[Recipient(email="a@example.cn", language="zh-hans")],
            context={**password_context, "reference": value},
        )

        assert len(rows) == 1


def test_database_refuses_a_second_row_for_the_same_event_object_and_recipient():
    fields = {
        "event": "password_changed",
        "object_key": OBJECT,
        "recipient_email": "a@example.cn",
        "language": "en",
        "subject": "s",
        "body_text": "t",
        "body_html": "h",
    }
    Notification.objects.create(**fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(**fields)


def test_rows_rendered_apart_are_written_in_one_statement_and_new_ones_only(
    django_capture_on_commit_callbacks, password_context, zh_recipient, en_recipient
):
    """``render_many`` renders without the database (a caller runs it in a thread while its
    statements run), ``write_rendered`` writes the rows in one statement (on PostgreSQL from
    one JSON parameter), skipping a key written before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.services import Announcement
    from notifications.services import render_many
    from notifications.services import write_rendered

    notify(
        "password_changed", object_key=OBJECT, recipients=[zh_recipient], context=password_context
    )
    announcements = [
        Announcement("password_changed", key, [zh_recipient, en_recipient], password_context)
        for key in (OBJECT, "records.user:8")
    ]
    with CaptureQueriesContext(connection) as rendering:
        rows = render_many(announcements)
    assert (len(rows), len(rendering)) == (4, 0)
    assert all(row.pk is None for row in rows)
    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as writing,
    ):
        written = write_rendered(rows)
    assert len(writing) == 1
    assert sorted((row.object_key, row.recipient_email, row.subject) for row in written) == [
        (OBJECT, "anna@example.org", EN_SUBJECT),
        ("records.user:8", "anna@example.org", EN_SUBJECT),
        ("records.user:8", "liming@example.cn", ZH_SUBJECT),
    ]
    assert all(row.pk is not None for row in written)
    assert Notification.objects.count() == 4
    assert sorted(Notification.objects.values_list("pk", flat=True))[1:] == sorted(
        row.pk for row in written
    )
    assert len(mail.outbox) == 3
