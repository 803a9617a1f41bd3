"""Web pages of certificate proofs (学历证明书): the student (or an officer for them) applies
from the qualification's page and follows the application; everyone lists the applications
they may see. Applying, resubmitting and withdrawing go through the certificate proof flow's
services, reads through ``scope``: anything a user may not see is 404. Officers decide on the
work list (the task page's panel: ``workflows/proofs/_task_panel.html``)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import scope
from records import glossary
from records.choices import CertificateLoss
from records.choices import CertificateProofState
from records.errors import ConflictError
from records.models import CertificateProof
from records.models import CertificateProofEvidence
from records.models import Qualification
from records.models import User
from records.proofs.history import proof_history
from records.validators import mask_id_numbers_in
from workflows.flows import certificate_proof as flow
from workflows.pages.corrections import EVIDENCE_DOWNLOAD_HEADERS
from workflows.pages.corrections import EVIDENCE_HEADERS
from workflows.pages.corrections import EVIDENCE_PREVIEW_HEADERS
from workflows.pages.corrections import MultipleFileField
from workflows.pages.proof_cards import qualification_proofs
from workflows.pages.proof_cards import visible_proofs
from workflows.pages.shell import page

ID_PATTERN = re.compile(r"[1-9][0-9]{0,17}")


class ProofForm(forms.Form):
    """Why the certificate is replaced, how, and any files. Its checks are the records
    service's: the form only carries the values and places the errors."""

    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=CertificateLoss.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    note = forms.CharField(
        label=_("How the certificate was lost or damaged"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("When and where; a published loss notice helps the school decide."),
    )
    evidence = MultipleFileField(
        label=_("Evidence (PDF, JPEG or PNG, at most 5 MB each)"), required=False
    )

    def error_summary(self) -> list[tuple[str, str]]:
        """Every error as (the id of its input, or "" for the form's own, text)."""
        summary = [("", str(e)) for e in self.non_field_errors()]
        for name in self.fields:
            bound = self[name]
            summary.extend((bound.id_for_label, f"{bound.label}: {e}") for e in bound.errors)
        return summary

    def add_service_errors(self, exc: ValidationError) -> None:
        for key, errors in getattr(exc, "error_dict", {"": [exc]}).items():
            target = key if key in self.fields else None
            for error in errors:
                for message in error:
                    self.add_error(target, message)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _form_response(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = page(request, template, context)
    if context.get("form") is not None and context["form"].is_bound:
        add_never_cache_headers(response)  # what was typed is shown again
    return response


def new(request: HttpRequest) -> HttpResponse:
    """``?qualification=<id>``: the application form; applying redirects to the
    application's page, an error shows the form again with what was typed."""
    user = _user(request)
    raw = request.GET.get("qualification", "")
    if not ID_PATTERN.fullmatch(raw):
        raise Http404
    visible = scope(user, codenames.VIEW, Qualification.objects.select_related("school"))
    qualification = get_object_or_404(visible, pk=int(raw))
    form = ProofForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = flow.proof_start(
                qualification=qualification,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                requester=user,
                evidence=request.FILES.getlist("evidence"),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except ConflictError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your application for a certificate proof was filed."))
            return redirect("proofs:detail", pk=created.pk)
    context = {
        "qualification": qualification,
        "form": form,
        **qualification_proofs(user, qualification),
    }
    return _form_response(request, "workflows/proofs/new.html", context)


def _history(proof: CertificateProof) -> list[tuple[Any, Any]]:
    return [(glossary.PROOF_ACTIONS.get(e.action, e.action), e) for e in proof_history(proof)]


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An application: its state, reason and note, the proof's number once issued, its
    evidence and history; the requester's withdraw (confirmed on a second step) and, once
    returned, resubmit."""
    user = _user(request)
    proof = get_object_or_404(visible_proofs(user), pk=pk)
    is_requester = proof.requester_id == user.pk
    form = None
    if is_requester and proof.state == CertificateProofState.RETURNED:
        resubmitting = request.POST.get("action") == "resubmit"
        form = ProofForm(
            request.POST if resubmitting else None,
            (request.FILES or None) if resubmitting else None,
            initial={"reason": proof.reason, "note": proof.note},
        )
    confirm_withdraw = False
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "withdraw" and request.POST.get("confirm") != "yes":
                confirm_withdraw = is_requester and proof.is_open
            elif action == "withdraw":
                flow.proof_withdraw(proof=proof, user=user)
                messages.success(request, _("The application was withdrawn."))
                return redirect("proofs:detail", pk=pk)
            if action == "resubmit" and form is not None and form.is_valid():
                flow.proof_resubmit(
                    proof=proof,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    user=user,
                    evidence=request.FILES.getlist("evidence"),
                )
                messages.success(request, _("The application was submitted again."))
                return redirect("proofs:detail", pk=pk)
        except ValidationError as exc:
            if form is None:
                raise
            form.add_service_errors(exc)
        except ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("proofs:detail", pk=pk)
    context = {
        "proof": proof,
        "qualification": proof.qualification,
        "note": mask_id_numbers_in(proof.note),
        "evidence": proof.evidence.all(),
        "history": _history(proof),
        "is_requester": is_requester,
        "form": form,
        "confirm_withdraw": confirm_withdraw,
    }
    return _form_response(request, "workflows/proofs/detail.html", context)


def evidence(request: HttpRequest, pk: int, evidence_pk: int) -> FileResponse:
    """An application's evidence file, for those who may see the application only, served
    as a correction's evidence is (``workflows.pages.corrections.evidence``)."""
    proof = get_object_or_404(visible_proofs(_user(request)), pk=pk)
    item: CertificateProofEvidence = get_object_or_404(proof.evidence.all(), pk=evidence_pk)
    inline = request.GET.get("inline") == "1"
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=not inline,
        filename=item.download_name,
        content_type=item.content_type,  # as checked by content, never from a name
    )
    headers = EVIDENCE_PREVIEW_HEADERS if inline else EVIDENCE_DOWNLOAD_HEADERS
    for name, value in (EVIDENCE_HEADERS | headers).items():
        response[name] = value
    return response


def index(request: HttpRequest) -> HttpResponse:
    """The latest applications the user may see (a student's own, a school's, a
    province's). Tasks are in the work list."""
    proofs = visible_proofs(_user(request))[:100]
    return page(request, "workflows/proofs/index.html", {"proofs": proofs})
