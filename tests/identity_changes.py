"""The world the identity change tests stand on: the status change tests' world (an enrolled
status of 王小明 at 北京大学, two officers, both provinces' admins), and a PDF of proof."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from records.models import IdentityChangeRequest
from records.models import StudentStatus
from records.models import User
from tests.evidence_files import real_pdf
from tests.status_changes import World
from tests.status_changes import student_status
from tests.status_changes import world
from workflows.flows import identity_change as flow

__all__ = ["World", "file", "proof", "student_status", "task", "world"]

NEW_NAME = {"name": "王晓明"}


def proof(name: str = "派出所证明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, real_pdf(), content_type="application/pdf")


def file(
    w: World,
    fields: dict[str, Any] | None = None,
    *,
    by: User | None = None,
    status: StudentStatus | None = None,
    evidence: bool = True,
) -> IdentityChangeRequest:
    return flow.identity_change_start(
        status=status or w.status,
        fields=NEW_NAME if fields is None else fields,
        reason="户籍姓名已变更",
        requester=by or w.student,
        evidence=[proof()] if evidence else [],
    )


def task(request: IdentityChangeRequest, node: Any) -> Task:
    return Task.objects.get(
        process__identitychangeprocess__request=request, flow_task=node, status=STATUS.NEW
    )
