"""One name for each process, step, decision and state, used by the pages, the emails and the
API (zh-Hans translations in ``records/locale``). Step declarations take their labels from
here; templates get them through the declarations or the ``glossary`` template tag."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from records.choices import AppealStage
from records.choices import CertificateProofState
from records.choices import CorrectionState
from records.choices import StatusChangeState

PROCESSES: dict[str, StrOrPromise] = {
    "correction": _("Qualification correction"),
    "admission_review": _("Admission re-examination"),
    "year_registration": _("Academic-year registration"),
    "status_change": _("Student status change"),
    "certificate_proof": _("Certificate proof (lost or damaged certificate)"),
    "identity_change": _("Identity change"),
    "revocation": _("Revocation of a qualification"),
    "qualification_registration": _("Qualification registration"),
}

STEPS: dict[str, StrOrPromise] = {
    "school_review": _("School review"),
    "province_signoff": _("Provincial sign-off"),
    "revise": _("Revision by the requester"),
    "review": _("Re-examination and registration"),
    "confirm_cancellation": _("Confirmation of a cancellation"),
    "registration": _("Registration of the enrolled students"),
    "school_final": _("Final school review"),
    "province_confirm": _("Provincial confirmation"),
    "school_appeal": _("School appeal committee"),
    "province_appeal": _("Provincial appeal review"),
    "target_accept": _("Acceptance by the receiving school"),
    "public_notice": _("Public notice"),
    "source_province_confirm": _("Confirmation by the sending province"),
    "target_province_confirm": _("Confirmation by the receiving province"),
    "register_graduates": _("Registration of the graduates' qualifications"),
    "recheck_approval": _("Provincial approval of an identity re-check"),
}

APPROVE = "approve"
REJECT = "reject"
RETURN = "return"

DECISIONS: dict[str, StrOrPromise] = {
    APPROVE: _("Approve"),
    REJECT: _("Reject"),
    RETURN: _("Return for revision"),
}
# The decisions of the admission re-examination's steps.
REGISTER = "register"
CONFIRM = "confirm"
REFUSE = "refuse"
ADMISSION_DECISIONS: dict[str, StrOrPromise] = {
    REGISTER: _("Register the cohort"),
    CONFIRM: _("Confirm the cancellation"),
    REFUSE: _("Refuse the cancellation"),
}
# The decisions of the qualification registration's steps.
GRADUATION_DECISIONS: dict[str, StrOrPromise] = {
    REGISTER: _("Register the qualifications"),
    APPROVE: _("Approve the re-check (同意备案)"),
    REFUSE: _("Refuse the re-check"),
}
# What a work item of a graduating cohort is about: "Graduates of 2027-06-30"; of a re-check.
GRADUATION_SUMMARY = _("Graduates of %(date)s")
RECHECK_SUMMARY = _("Identity re-check")
# The decision of the academic-year registration's step (its code is ``REGISTER`` too).
YEAR_DECISIONS: dict[str, StrOrPromise] = {
    REGISTER: _("Register everyone enrolled"),
}
# What a work item of the academic-year registration is about: "2027–2028".
YEAR_SUMMARY = _("Academic year %(year)s")
# What a work item of each admission step is about.
COHORT_SUMMARY = _("Freshmen of %(year)s")
CANCELLATION_SUMMARY = _("Cancellation of an admission")

# A transfer's decisions (codes ``approve`` and ``reject``).
TRANSFER_DECISIONS: dict[str, StrOrPromise] = {
    "accept": _("Accept the transfer"),
    "refuse": _("Refuse the transfer"),
    "confirm": _("Confirm the transfer"),
}

# The same decision codes read differently at some steps.
FORWARD_LABEL = _("Forward to the province")
RETURN_TO_SCHOOL_LABEL = _("Return to the school")

STATES: dict[str, StrOrPromise] = dict(CorrectionState.choices)

# The step a correction request in each open state waits for.
WAITING_FOR: dict[str, StrOrPromise] = {
    CorrectionState.SUBMITTED: STEPS["school_review"],
    CorrectionState.SCHOOL_APPROVED: STEPS["province_signoff"],
    CorrectionState.RETURNED: STEPS["revise"],
}

# What a request's history says of each of its steps (``correction.<action>`` in the audit).
ACTIONS: dict[str, StrOrPromise] = {
    "filed": _("Request filed"),
    "forwarded": _("Forwarded to the province"),
    "returned": _("Returned for revision"),
    "returned_to_school": _("Returned to the school by the province"),
    "resubmitted": _("Submitted again"),
    "rejected": _("Rejected"),
    "approved": _("Approved"),
    "withdrawn": _("Withdrawn"),
    "stale": _("Returned to school review: the record changed"),
    "evidence_added": _("Evidence added"),
}

# Status changes (``workflows.flows.status_change``): their states, the step each open state
# waits for, and what a request's history says of each step (``status_change.<action>``).
STATUS_CHANGE_STATES: dict[str, StrOrPromise] = dict(StatusChangeState.choices)
STATUS_CHANGE_WAITING_FOR: dict[str, StrOrPromise] = {
    StatusChangeState.SUBMITTED: STEPS["school_review"],
    StatusChangeState.DEPARTMENT_APPROVED: STEPS["school_final"],
    StatusChangeState.SCHOOL_APPROVED: STEPS["province_confirm"],
    StatusChangeState.RETURNED: STEPS["revise"],
    StatusChangeState.TARGET_REVIEW: STEPS["target_accept"],
    StatusChangeState.IN_NOTICE: STEPS["public_notice"],
    StatusChangeState.NOTICE_ENDED: STEPS["province_confirm"],
}
STATUS_CHANGE_WAITING_FOR[StatusChangeState.IN_APPEAL] = _("The end of the appeal period")
# Where an adverse decision's appeal period stands, and the decisions on an appeal.
APPEAL_STAGES: dict[str, StrOrPromise] = dict(AppealStage.choices)
CANCEL = "cancel"
APPEAL_DECISIONS: dict[str, StrOrPromise] = {
    CONFIRM: _("Uphold the decision"),
    CANCEL: _("Cancel the decision"),
}
STATUS_CHANGE_ACTIONS: dict[str, StrOrPromise] = {
    "filed": _("Request filed"),
    "first_level_approved": _("Approved at the first school level"),
    "forwarded": _("Forwarded to the province"),
    "returned": _("Returned for revision"),
    "returned_to_school": _("Returned to the school by the province"),
    "resubmitted": _("Submitted again"),
    "rejected": _("Rejected"),
    "approved": _("Approved"),
    "withdrawn": _("Withdrawn"),
    "decision_issued": _("Written decision issued"),
    "delivered": _("Written decision delivered"),
    "appealed": _("Appealed to the school"),
    "appealed_to_province": _("Appealed to the province"),
    "appeal_upheld": _("Decision upheld on appeal"),
    "overturned": _("Decision cancelled on appeal"),
    "took_effect": _("Decision took effect"),
    "sent_to_target": _("Approved by the sending school"),
    "accepted": _("Accepted by the receiving school; public notice"),
    "refused": _("Refused by the receiving school"),
    "notice_ended": _("Public notice ended"),
    "province_confirmed": _("Confirmed by a province"),
}

# Identity changes (``workflows.flows.identity_change``): a correction's states; the step each
# open state waits for, and what a request's history says of each step
# (``identity_change.<action>``).
IDENTITY_CHANGE_WAITING_FOR: dict[str, StrOrPromise] = {
    CorrectionState.SUBMITTED: STEPS["school_review"],
    CorrectionState.SCHOOL_APPROVED: STEPS["province_confirm"],
    CorrectionState.RETURNED: STEPS["revise"],
}
IDENTITY_CHANGE_ACTIONS: dict[str, StrOrPromise] = {
    **{key: ACTIONS[key] for key in ("filed", "forwarded", "returned", "returned_to_school")},
    **{key: ACTIONS[key] for key in ("resubmitted", "rejected", "approved", "withdrawn")},
    "evidence_added": ACTIONS["evidence_added"],
}

# Certificate proofs (``workflows.flows.certificate_proof``): their states, the step each open
# state waits for, and what an application's history says of each step.
PROOF_STATES: dict[str, StrOrPromise] = dict(CertificateProofState.choices)
PROOF_WAITING_FOR: dict[str, StrOrPromise] = {
    CertificateProofState.SUBMITTED: STEPS["school_review"],
    CertificateProofState.RETURNED: STEPS["revise"],
}
PROOF_ACTIONS: dict[str, StrOrPromise] = {
    "filed": _("Application filed"),
    "returned": _("Returned for revision"),
    "resubmitted": _("Submitted again"),
    "rejected": _("Rejected"),
    "approved": _("Approved: proof issued"),
    "withdrawn": _("Withdrawn"),
    "evidence_added": _("Evidence added"),
}
# What a work item of the certificate proof's step is about.
PROOF_SUMMARY: dict[str, StrOrPromise] = {
    "lost": _("Certificate lost"),
    "damaged": _("Certificate damaged"),
}
