"""The written decision of an admission's cancellation (取消入学资格, an adverse decision:
教育部令第41号 art 53): the facts and reason, the legality review and the hearing, the
decision, and the appeal route with its deadlines. An official document: in Chinese, stored
on the request as issued."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils import translation

from records.adverse import PROVINCE_APPEAL_DAYS
from records.adverse import SCHOOL_APPEAL_DAYS
from records.decisions import Decided
from records.models import AdmissionCancellation
from records.validators import mask_id_numbers_in


def written_cancellation(cancellation: AdmissionCancellation, decided: Decided) -> str:
    admission = cancellation.admission
    with translation.override("zh-hans"):
        return render_to_string(
            "records/admissions/written_cancellation.txt",
            {
                "school": cancellation.school.name,
                "student": admission.student.name,
                "candidate_number": admission.candidate_number,
                "year": admission.admission_year,
                "major": admission.major_name,
                "reason": mask_id_numbers_in(cancellation.reason),
                "hearing_date": cancellation.hearing_date or "",
                "hearing_by": cancellation.hearing_by,
                "hearing_summary": mask_id_numbers_in(cancellation.hearing_summary),
                "comment": mask_id_numbers_in(decided.comment),
                "school_days": SCHOOL_APPEAL_DAYS,
                "province_days": PROVINCE_APPEAL_DAYS,
                "issued_on": timezone.localdate(decided.at).isoformat(),
            },
        ).strip()
