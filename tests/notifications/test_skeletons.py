"""Many emails of one event rendered once a group (``render_many(..., plain=...)``): the same
emails as each rendered alone, with far fewer renderings of the templates."""

from __future__ import annotations

import datetime

from django.test.signals import template_rendered

from notifications.models import Notification
from notifications.services import Announcement
from notifications.services import Recipient
from notifications.services import render_many
from records.admissions.notices import APPEAL_DAYS
from records.choices import LearningForm
from records.choices import Level

PLAIN = (
    "recipient.name",
    "recipient.email",
    "recipient.user_id",
    "candidate_number",
    "student_number",
)
# What HTML escapes, what a subject's line joins, what a template or a pattern might read.
NAMES = ("李<b>明</b>", "Anna & \"Bo\" 'Li'", "two  spaces", "a\nline", "{{ school }}", "\\1 %s")


def _registered(n: int, *, candidate: str | None = None) -> Announcement:
    return Announcement(
        "admission_registered",
        f"records.admissionrecord:{n}",
        [
            Recipient(
                email=f"s{n}@stu.example.cn",
                language=("zh-hans", "en")[n % 2],
                user_id=n + 1,
                name=f"{NAMES[n % len(NAMES)]}{n}",
            )
        ],
        {
            "school": "北京大学",
            "year": 2026,
            "major": ("计算机科学与技术", "数学<与>应用数学")[n // 2 % 2],
            "level": Level.BACHELOR.label,
            "learning_form": LearningForm.FULL_TIME.label,
            "candidate_number": f"2611{n:010d}<&>" if candidate is None else candidate,
            "reason": "",
            "until": None,
            "appeal_days": APPEAL_DAYS,
            "url": "https://xueji.example.cn/",
            "student_number": f"2026{n:06d}",
            "entry_date": datetime.date(2026, 9, 1),
            "expected_graduation": datetime.date(2030 + n % 3, 7, 1),
        },
    )


def _emails(rows):
    fields = ("event", "object_key", "recipient_email", "recipient_user_id", "language")
    return [[getattr(r, f) for f in (*fields, "subject", "body_text", "body_html")] for r in rows]


def _rendering(announcements, **kwargs) -> tuple[list[Notification], int]:
    renderings = []

    def count(**_kwargs):
        renderings.append(1)

    template_rendered.connect(count)
    try:
        rows = render_many(announcements, **kwargs)
    finally:
        template_rendered.disconnect(count)
    return rows, len(renderings)


def test_emails_rendered_once_a_group_are_those_rendered_alone():
    announcements = [_registered(n) for n in range(48)]

    alone, renderings_alone = _rendering(announcements)
    grouped, renderings_grouped = _rendering(announcements, plain=PLAIN)

    assert _emails(grouped) == _emails(alone)
    assert "李&lt;b&gt;明&lt;/b&gt;0" in grouped[0].body_html
    assert "李<b>明</b>0" in grouped[0].body_text
    # 2 languages x 2 majors x 3 graduation dates: 12 groups, each rendered twice (two sets
    # of markers) instead of 48 emails once.
    assert renderings_grouped * 2 == renderings_alone


def test_an_empty_plain_value_is_rendered_whole():
    announcements = [_registered(0, candidate=""), _registered(2)]

    alone, _renderings = _rendering(announcements)
    grouped, renderings = _rendering(announcements, plain=PLAIN)

    assert _emails(grouped) == _emails(alone)
    # The first alone (its value is empty), the second's group twice.
    assert renderings == alone_renderings_of_one() * 3


def alone_renderings_of_one() -> int:
    _rows, renderings = _rendering([_registered(4)])
    return renderings
