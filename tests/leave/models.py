from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from viewflow.workflow.models import Process

from records.models import STUDENT_RECORD_SCOPE
from records.models import Province
from records.models import School
from records.models import Student


class LeaveRequest(models.Model):
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    days = models.PositiveIntegerField()
    state = models.CharField(max_length=20, default="submitted")

    scope_paths: ClassVar[dict[str, str]] = STUDENT_RECORD_SCOPE

    def __str__(self) -> str:
        return f"leave #{self.pk}"


class LeaveProcess(Process):
    request: models.OneToOneField[LeaveRequest, LeaveRequest] = models.OneToOneField(
        LeaveRequest, on_delete=models.PROTECT, related_name="+"
    )
    school: models.ForeignKey[School, School] = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+"
    )
    province: models.ForeignKey[Province, Province] = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+"
    )
