"""The written decision of an adverse status change (处理决定书, 教育部令第41号 art 53): the
facts and reason, the basis, the legality review and the hearing, the decision, and the
appeal route with its deadlines. An official document: written in Chinese whatever the
reader's language, and stored on the request as issued."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils import translation

from records.adverse import PROVINCE_APPEAL_DAYS
from records.adverse import SCHOOL_APPEAL_DAYS
from records.decisions import Decided
from records.models import StatusChangeRequest
from records.status_changes.types import TYPES
from records.validators import mask_id_numbers_in


def written_decision(request: StatusChangeRequest, decided: Decided) -> str:
    """The decision's text, as the school's last level issues it."""
    kind = TYPES[request.type]
    fields: dict[str, Any] = request.fields
    with translation.override("zh-hans"):
        return render_to_string(
            "records/status_changes/written_decision.txt",
            {
                "school": request.school.name,
                "student": request.student.name,
                "student_number": request.status.student_number,
                "major": request.status.major_name,
                "change": str(kind.label),
                "reason": mask_id_numbers_in(request.reason),
                "basis": fields.get("basis") or "",
                "hearing_date": fields.get("hearing_date") or "",
                "hearing_by": fields.get("hearing_by") or "",
                "hearing_summary": mask_id_numbers_in(fields.get("hearing_summary") or ""),
                "comment": mask_id_numbers_in(decided.comment),
                "school_days": SCHOOL_APPEAL_DAYS,
                "province_days": PROVINCE_APPEAL_DAYS,
                "issued_on": timezone.localdate(decided.at).isoformat(),
            },
        ).strip()
