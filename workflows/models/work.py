"""Work items: one row per human task, written when viewflow creates the task and closed when
it is decided or cancelled. The work list, its filters and search, counts and deadlines read
these rows and their indexes, never viewflow's task table (whose ``flow_task`` is a string
without an index, and which knows nothing of the subject)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process
from viewflow.workflow.models import Task

from records.models import Province
from records.models import School

OPEN = models.Q(closed__isnull=True)


class WorkItem(models.Model):
    """A human task as the work list shows it.

    ``scope_id`` is the key of the object the step's permission is granted on (a school or a
    province code); ``flow`` and ``step`` are the declaration's stable keys. The subject's facts
    (student name, reference, summary, requester) are read once when the task opens.
    """

    task = models.OneToOneField(
        Task, on_delete=models.CASCADE, primary_key=True, related_name="work_item"
    )
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="+")
    flow = models.CharField(_("process"), max_length=40)
    step = models.CharField(_("step"), max_length=40)
    scope_id = models.CharField(max_length=10)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", db_index=False)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject_id = models.BigIntegerField()
    student_name = models.CharField(_("student"), max_length=40, blank=True)
    reference = models.CharField(max_length=40, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # Another user who may not take the task besides the requester (``Facts.excluded_id``).
    excluded = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    summary = models.JSONField(default=list)
    created = models.DateTimeField(_("waiting since"))
    due = models.DateTimeField(_("due"))
    remind_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    closed = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    decision = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("work item")
        verbose_name_plural = _("work items")
        indexes: ClassVar = [
            # A page of one step's open items in one scope, in waiting order (either way).
            models.Index(
                fields=["step", "flow", "scope_id", "created", "task"],
                condition=OPEN,
                name="workitem_open_scope",
            ),
            models.Index(
                fields=["step", "flow", "scope_id", "created", "task"],
                condition=OPEN & models.Q(overdue_at__isnull=False),
                name="workitem_overdue_scope",
            ),
            models.Index(
                fields=["school", "step", "created"], condition=OPEN, name="workitem_open_school"
            ),
            models.Index(
                fields=["province", "school"], condition=OPEN, name="workitem_open_province"
            ),
            models.Index(fields=["student_name"], condition=OPEN, name="workitem_open_name"),
            models.Index(fields=["reference"], condition=OPEN, name="workitem_open_reference"),
            models.Index(fields=["remind_at"], condition=OPEN, name="workitem_open_remind"),
            models.Index(fields=["due"], condition=OPEN, name="workitem_open_due"),
            models.Index(fields=["flow", "subject_id"], name="workitem_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.flow}.{self.step} #{self.subject_id}"

    @property
    def is_open(self) -> bool:
        return self.closed is None


class WorkCount(models.Model):
    """Open and overdue work items of one step at one school, kept with the items in the same
    transactions (``workflows.work``), so the counts a work list and a provincial
    administrator's home show cost the same at a thousand open items as at a million."""

    flow = models.CharField(max_length=40)
    step = models.CharField(max_length=40)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    scope_id = models.CharField(max_length=10)
    open = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("work count")
        verbose_name_plural = _("work counts")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["flow", "step", "school"], name="workcount_unique")
        ]
        indexes: ClassVar = [
            models.Index(fields=["step", "flow", "scope_id"], name="workcount_scope"),
            models.Index(fields=["province", "school"], name="workcount_province"),
        ]

    def __str__(self) -> str:
        return f"{self.flow}.{self.step} {self.school_id}: {self.open} ({self.overdue})"
