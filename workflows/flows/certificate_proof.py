"""Certificate proofs (学历证明书) for a lost or damaged certificate (DOMAIN.md §2.7): the
student (or an officer for them) applies, the school decides in one level; approval issues
the proof and marks the qualification lost.

The flow says who acts in what order; the step declaration below says what the school's step
offers. Records change only in the ``records.proofs`` services.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow import lock
from viewflow.workflow.models import Task

from notifications.services import Recipient
from permissions import codenames
from records import glossary
from records.choices import CertificateProofState
from records.decisions import Choice
from records.decisions import Notice
from records.decisions import Outcome
from records.errors import ConflictError
from records.models import CertificateProof
from records.models import Qualification
from records.models import School
from records.models import User
from records.notices import recipient_of
from records.proofs import notices
from records.proofs import services
from records.proofs.history import proof_history
from records.validators import mask_id_numbers_in
from workflows import nodes
from workflows import steps
from workflows import work
from workflows.models import CertificateProofProcess
from workflows.steps import Facts
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration

FLOW_KEY = "certificate_proof"


def _school_of(process: Any) -> School:
    """The scope object of the school's step, built from the id the process holds."""
    return School(pk=process.coerced.school_id)


def _is_returned(activation: Any) -> bool:
    pk = activation.process.request_id
    proof = steps.remembered_subject(activation.process, pk)
    if proof is None:
        proof = CertificateProof.objects.only("state").get(pk=pk)
    return bool(proof.state == CertificateProofState.RETURNED)


class CertificateProofFlow(flow.Flow):
    """A certificate proof: the school's review; a returned application waits in ``revise``
    for the requester, then goes to the school again; withdrawal cancels the process."""

    process_class = CertificateProofProcess
    process_title = _("Certificate proof")
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.school_review)
    school_review = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["school_review"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_school_of)
        .Next(this.after_school_review)
    )
    after_school_review = flow.Switch().Case(this.revise, _is_returned).Default(this.end)
    revise = (
        flow.Handle(this.do_revise)
        .Annotation(title=glossary.STEPS["revise"])
        .Next(this.school_review)
    )
    end = flow.End()

    def start_process(self, activation: Any, *, request: CertificateProof) -> Any:
        process = activation.process
        process.request = request
        process.school_id = request.school_id
        process.province_id = request.province_id
        return process

    def do_revise(self, activation: Any, *, resubmit: Any) -> Any:
        """Run the requester's resubmission inside the task's lock and transaction."""
        return resubmit()


# --- the human step ---------------------------------------------------------------------------

SCHOOL_REVIEW = HumanStep(
    key="school_review",
    label=glossary.STEPS["school_review"],
    node=CertificateProofFlow.school_review,
    scope="school",
    due_days=10,
    assignees=notices.school_officers,
    subject_model=CertificateProof,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(CertificateProofState.SUBMITTED,),
    related=services.RELATED,
    # Approval marks the qualification lost: it is locked with the application.
    lock_related=("qualification",),
    notice_context=notices.context,
    choices=(
        Choice(
            glossary.APPROVE,
            glossary.DECISIONS[glossary.APPROVE],
            services.approve,
            Outcome(
                "approved",
                "certificate_proof.approved",
                Notice("certificate_proof_approved", notices.requester_and_student),
            ),
        ),
        Choice(
            glossary.REJECT,
            glossary.DECISIONS[glossary.REJECT],
            services.reject,
            Outcome(
                "rejected",
                "certificate_proof.rejected",
                Notice("certificate_proof_rejected", notices.requester_and_student),
            ),
            needs_comment=True,
        ),
        Choice(
            glossary.RETURN,
            glossary.DECISIONS[glossary.RETURN],
            services.send_back,
            Outcome(
                "returned",
                "certificate_proof.returned",
                Notice("certificate_proof_returned", notices.requester_and_student),
            ),
            needs_comment=True,
        ),
    ),
)


def _facts(proof: CertificateProof) -> Facts:
    return Facts(
        student_name=proof.student.name,
        school_id=proof.school_id,
        province_id=proof.province_id,
        reference=proof.qualification.certificate_number,
        requester_id=proof.requester_id,
        summary=(proof.reason,),
    )


def _summary_label(key: str) -> Any:
    return glossary.PROOF_SUMMARY.get(key, key)


def _panel(proof: CertificateProof, user: User) -> dict[str, Any]:
    return {
        "proof": proof,
        "qualification": proof.qualification,
        "note": mask_id_numbers_in(proof.note),
        "evidence": list(proof.evidence.all()),
        "history": [
            (glossary.PROOF_ACTIONS.get(e.action, e.action), e) for e in proof_history(proof)
        ],
    }


DECLARATION = work.register(
    ProcessDeclaration(
        key=FLOW_KEY,
        label=glossary.PROCESSES[FLOW_KEY],
        flow_class=CertificateProofFlow,
        process_model=CertificateProofProcess,
        subject_field="request",
        describe=_facts,
        summary_label=_summary_label,
        panel_template="workflows/proofs/_task_panel.html",
        panel_context=_panel,
        subject_url=notices.proof_url,
        steps=(SCHOOL_REVIEW,),
    )
)


# --- driving the flow -----------------------------------------------------------------------


def proof_start(
    *,
    qualification: Qualification,
    reason: str,
    note: str,
    requester: User,
    evidence: Sequence[UploadedFile] = (),
) -> CertificateProof:
    """Apply for a certificate proof and start its flow, in one transaction."""
    with transaction.atomic():  # the start callback runs before viewflow's own transaction
        proof = services.proof_file(
            qualification=qualification,
            reason=reason,
            note=note,
            requester=requester,
            evidence=evidence,
        )
        CertificateProofFlow.start.run(request=proof)
    return proof


def proof_resubmit(
    *,
    proof: CertificateProof,
    reason: str,
    note: str,
    user: User,
    evidence: Sequence[UploadedFile] = (),
) -> CertificateProof:
    """The requester revises a returned application; the flow goes back to the school."""
    task = Task.objects.filter(
        process__certificateproofprocess__request=proof,
        flow_task=CertificateProofFlow.revise,
        status__in=work.OPEN_TASK_STATES,
    ).first()
    if task is None:
        raise ConflictError(str(services.NOT_RETURNED), code="not_returned")

    def resubmit() -> CertificateProof:
        return services.proof_resubmit(
            proof=proof, reason=reason, note=note, acting_user=user, evidence=evidence
        )

    with work.flow_contention():
        result: CertificateProof = CertificateProofFlow.revise.run(task, resubmit=resubmit)
    return result


def proof_withdraw(*, proof: CertificateProof, user: User) -> CertificateProof:
    """The requester withdraws an open application; its process is cancelled, and whoever
    could take its open step hears of it."""
    process = CertificateProofProcess.objects.get(request=proof)
    with work.flow_contention(), CertificateProofFlow.lock(process.pk), transaction.atomic():
        item = work.open_item_of(FLOW_KEY, proof.pk)
        waiting_on: list[Recipient] = []
        if item is not None:
            holder = item.task.owner  # a task claimed through viewflow: only its holder
            waiting_on = [recipient_of(holder)] if holder else SCHOOL_REVIEW.assignees(proof)
        withdrawn = services.proof_withdraw(proof=proof, acting_user=user, waiting_on=waiting_on)
        CertificateProofFlow.instance.cancel(process)
        work.close_items_of(process.pk)
    return withdrawn
