"""The written decision of a revocation (撤销学历证书的决定): the facts and reason, the basis,
the leadership's decision, the legality review and the hearing, the decision, and the appeal
route with its deadlines. An official document: in Chinese whatever the reader's language."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils import translation

from records.adverse import PROVINCE_APPEAL_DAYS
from records.adverse import SCHOOL_APPEAL_DAYS
from records.decisions import Decided
from records.models.revocations import RevocationRequest
from records.validators import mask_id_numbers_in


def written_decision(request: RevocationRequest, decided: Decided) -> str:
    qualification = request.qualification
    with translation.override("zh-hans"):
        return render_to_string(
            "records/revocations/written_revocation.txt",
            {
                "school": request.school.name,
                "student": request.student.name,
                "level": qualification.get_level_display(),
                "certificate_ending": qualification.certificate_number[-6:],
                "graduated_on": qualification.graduation_date.isoformat(),
                "result": qualification.get_graduation_result_display(),
                "reason": mask_id_numbers_in(request.reason),
                "basis": mask_id_numbers_in(request.basis),
                "leadership_decision_date": request.leadership_decision_date.isoformat(),
                "leadership_decision": mask_id_numbers_in(request.leadership_decision),
                "hearing_date": request.hearing_date.isoformat() if request.hearing_date else "",
                "hearing_by": request.hearing_by,
                "hearing_summary": mask_id_numbers_in(request.hearing_summary),
                "comment": mask_id_numbers_in(decided.comment),
                "school_days": SCHOOL_APPEAL_DAYS,
                "province_days": PROVINCE_APPEAL_DAYS,
                "issued_on": timezone.localdate(decided.at).isoformat(),
            },
        ).strip()
