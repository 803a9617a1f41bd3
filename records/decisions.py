"""One decision skeleton for every human step of every process.

A step is declared once, beside its flow (``workflows.flows.<process>``), as a ``StepRule``
(extended there with the flow's node, scope and due period): which permission decides it, the
subject model, the states in which it waits, the decisions it offers (label, whether a comment
is required, the record service each calls, its audit action and its email with recipients).
``decide`` runs that declaration: lock the subject, 404 when not visible, 403 when not
permitted, the requester never decides, the decision and comment checked against the
declaration, 409 when the subject is no longer waiting for this step, the transition, one audit
step, one announcement. Record services provide only the transition of each decision.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from notifications.services import Recipient
from permissions import codenames
from permissions.checks import may
from records.audit import audit_append
from records.audit import audit_together
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import AuditEvent
from records.models import User
from records.notices import announce_many
from records.transactions import service
from records.transactions import writes
from records.validators import mask_id_numbers_in

COMMENT_REQUIRED = _("A comment is required for this decision.")
BAD_DECISION = _("The decision must be one of: %(choices)s.")
MAY_NOT_DECIDE = _("You may not decide this step.")
REQUESTER_NEVER_DECIDES = _("The requester of a request cannot decide it.")
WRONG_STEP = _("This request is not waiting for this decision.")
DECIDED_EARLIER_LEVEL = _(
    "You decided an earlier level of this request; another officer decides this one."
)


@dataclass(frozen=True)
class Notice:
    """An email of a step: its event, and who receives it (a function of the locked subject)."""

    event: str
    recipients: Callable[[Any], list[Recipient]]


@dataclass(frozen=True)
class Decided:
    """What a decision's record service is told: who decided, their comment, and when."""

    acting_user: User
    comment: str
    at: datetime.datetime


@dataclass(frozen=True)
class Diverted:
    """A record service's answer when the decision took another of the step's declared
    outcomes (e.g. a sign-off found the record changed since filing)."""

    outcome: str
    data: Mapping[str, Any] = field(default_factory=dict)


# A decision's record service: moves the locked subject (a transition, and any writes that go
# with it) and never saves it, audits or mails: the skeleton does. It may return data for
# the audit event, or ``Diverted``.
Apply = Callable[[Any, Decided], "Mapping[str, Any] | Diverted | None"]


@dataclass(frozen=True)
class Outcome:
    """What a step records and announces: the audit action and the email."""

    key: str
    action: str
    notice: Notice | None = None


@dataclass(frozen=True)
class Choice:
    """A decision a step offers."""

    code: str
    label: StrOrPromise
    apply: Apply
    outcome: Outcome
    needs_comment: bool = False


@dataclass(frozen=True, kw_only=True)
class StepRule:
    """The record side of a human step's declaration."""

    key: str
    label: StrOrPromise
    subject_model: type[models.Model]
    perm: str
    waits_in: tuple[str, ...]
    choices: tuple[Choice, ...]
    # Other outcomes a record service may divert to (``Diverted.outcome``).
    outcomes: tuple[Outcome, ...] = ()
    state_field: str = "state"
    requester_field: str | None = "requester_id"
    # Fields of the subject naming other users who may not decide this step: the decider of
    # a request's first school level never decides its second.
    excluded_deciders: tuple[str, ...] = ()
    # What the checks, the record services and the notices read of the subject, loaded with
    # the lock (``select_related``).
    related: tuple[str, ...] = ()
    # Of those, the rows the step's record services change besides the subject: locked with
    # it, in the same statement.
    lock_related: tuple[str, ...] = ()
    # The context of the step's emails (besides ``comment``).
    notice_context: Callable[[Any], dict[str, Any]] = field(default=lambda subject: {})

    def choice(self, code: str) -> Choice:
        for choice in self.choices:
            if choice.code == code:
                return choice
        raise ValidationError(
            {
                "decision": ValidationError(
                    BAD_DECISION,
                    code="invalid_choice",
                    params={"choices": ", ".join(c.code for c in self.choices)},
                )
            }
        )

    def outcome(self, key: str) -> Outcome:
        return next(o for o in self.outcomes if o.key == key)

    def check(self, decision: str, comment: str) -> tuple[Choice, str]:
        """The declared choice for ``decision``, and the comment, trimmed and required where
        the declaration says so."""
        choice = self.choice(decision)
        comment = (comment or "").strip()
        if choice.needs_comment and not comment:
            raise ValidationError({"comment": ValidationError(COMMENT_REQUIRED, code="required")})
        return choice, comment


@dataclass(frozen=True)
class DecisionResult:
    state: str
    outcome: str
    event: AuditEvent
    subject: Any


def _locking(rule: StepRule) -> models.QuerySet[Any]:
    """The step's subjects, row-locked (with the rows its record services change), with what
    its checks and notices read."""
    return rule.subject_model._default_manager.select_for_update(
        of=("self", *rule.lock_related)
    ).select_related(*rule.related)


def lock_subject(rule: StepRule, pk: Any) -> Any:
    """The subject as of now, row-locked, with what its checks and notices read."""
    subject = _locking(rule).filter(pk=pk).first()
    if subject is None:
        raise NotVisibleError(pk)
    return subject


def check_decider(rule: StepRule, subject: Any, user: User) -> None:
    """404 when ``user`` may not see ``subject``, 403 when they may not take the step, filed
    the request themselves or are excluded from it (``excluded_deciders``)."""
    if not may(user, codenames.VIEW, subject):
        raise NotVisibleError(subject.pk)
    if not may(user, rule.perm, subject):
        raise PermissionDenied(MAY_NOT_DECIDE)
    if rule.requester_field and getattr(subject, rule.requester_field) == user.pk:
        raise PermissionDenied(REQUESTER_NEVER_DECIDES)
    if any(getattr(subject, name) == user.pk for name in rule.excluded_deciders):
        raise PermissionDenied(DECIDED_EARLIER_LEVEL)


def _check_waiting(rule: StepRule, subject: Any) -> None:
    """409 when the subject no longer waits for this step."""
    if getattr(subject, rule.state_field) not in rule.waits_in:
        raise ConflictError(str(WRONG_STEP), code="already_decided")


def _write(
    rule: StepRule, choice: Choice, comment: str, acting_user: User, subjects: Sequence[Any]
) -> list[DecisionResult]:
    """The writes of a decision on checked, locked subjects: each one's record service and
    save, then every audit event in one write and every email in one statement."""
    at = timezone.now()
    done = []
    with writes():
        with audit_together():  # the record services' events and the step's
            for subject in subjects:
                applied = choice.apply(subject, Decided(acting_user, comment, at))
                outcome, extra = choice.outcome, applied if isinstance(applied, Mapping) else {}
                if isinstance(applied, Diverted):
                    outcome, extra = rule.outcome(applied.outcome), applied.data
                subject.save()
                event = audit_append(
                    subject=subject,
                    action=outcome.action,
                    actor=acting_user,
                    data={"step": rule.key, "decision": choice.code, "comment": comment, **extra},
                    subject_locked=True,
                )
                done.append((subject, outcome, event))
        announce_many(
            [
                (
                    outcome.notice.event,
                    event,
                    outcome.notice.recipients(subject),
                    # An email is kept and forwarded: no full ID number, even one quoted.
                    {**rule.notice_context(subject), "comment": mask_id_numbers_in(comment)},
                )
                for subject, outcome, event in done
                if outcome.notice is not None
            ]
        )
    return [
        DecisionResult(str(getattr(subject, rule.state_field)), outcome.key, event, subject)
        for subject, outcome, event in done
    ]


@service
def decide(
    *, rule: StepRule, subject_pk: Any, decision: str, comment: str, acting_user: User
) -> DecisionResult:
    """Decide the step ``rule`` on the subject ``subject_pk``, in the caller's transaction.

    Every check runs before the first write and outside any atomic block of its own, so a
    refusal writes nothing and leaves the caller's transaction usable. The writes take no
    savepoint (two statements each): an error there marks the caller's transaction for
    rollback, which is what every caller (a task's transaction, one per task also in bulk)
    does with it."""
    subject = lock_subject(rule, subject_pk)
    check_decider(rule, subject, acting_user)
    choice, comment = rule.check(decision, comment)
    _check_waiting(rule, subject)
    return _write(rule, choice, comment, acting_user, [subject])[0]


# A refusal of one subject in a batch: what ``decide`` would have raised for it alone.
Refusal = NotVisibleError | PermissionDenied | ConflictError


@service
def decide_many(
    *,
    rule: StepRule,
    subject_pks: Sequence[Any],
    decision: str,
    comment: str,
    acting_user: User,
) -> dict[Any, DecisionResult | Refusal]:
    """``decide`` for many subjects of one step with one decision, in the caller's
    transaction: the same checks for each (a subject that fails one is refused alone and
    nothing is written for it), then the writes of all the others with their audit events
    and emails written together (one statement each). A bad decision or missing comment
    refuses the whole batch (``ValidationError``), as it would each of its subjects."""
    choice, comment = rule.check(decision, comment)
    subjects = {s.pk: s for s in _locking(rule).filter(pk__in=list(subject_pks)).order_by("pk")}
    results: dict[Any, DecisionResult | Refusal] = {}
    accepted = []
    for pk in subject_pks:
        subject = subjects.get(pk)
        try:
            if subject is None:
                raise NotVisibleError(pk)
            check_decider(rule, subject, acting_user)
            _check_waiting(rule, subject)
        except (NotVisibleError, PermissionDenied, ConflictError) as refusal:
            results[pk] = refusal
        else:
            accepted.append(subject)
    for result in _write(rule, choice, comment, acting_user, accepted):
        results[result.subject.pk] = result
    return results
