"""Step declarations: every flow declares its human steps once, beside the flow.

A ``ProcessDeclaration`` names a flow by a stable key (``correction``, later
``admission_review``, ``status_change``, …), its process model and subject, how a work item
describes its subject, and its ``HumanStep``s. A ``HumanStep`` is the record side of the step
(``records.decisions.StepRule``: permission, subject, decisions with their record services,
audit actions and emails) plus what the workflow adds: the viewflow node, the scope object the
permission is granted on, and the due period in working days.

The work list, task API and pages, single and bulk decisions, counts and deadlines read these
declarations and never name a flow: adding a flow adds its declarations (``register``) and
touches no API or page code. ``workflows.work.register`` adds a declaration.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from django.conf import settings
from django.db import models
from django_stubs_ext import StrOrPromise

from notifications.services import Recipient
from records.decisions import StepRule
from workflows.deadlines import due_times


@dataclass(frozen=True)
class Facts:
    """What a work item shows and searches of its subject, read once when the task opens."""

    student_name: str
    school_id: str
    province_id: str
    # Searched by ``q`` besides the student's name and the subject's number (e.g. a
    # certificate number).
    reference: str = ""
    requester_id: int | None = None
    # Another user who may not take the task (the decider of the request's first school
    # level, at its second): left out of their work list as the requester is.
    excluded_id: int | None = None
    # Keys the flow's ``summary_label`` turns into words (a correction: the changed fields).
    summary: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deadline:
    """When a task is due, and when whoever may take it is reminded (in order, before due)."""

    due: datetime.datetime
    reminders: tuple[datetime.datetime, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Timing:
    """A step's own deadline, for a step whose due time is not a number of working days from
    the opening of its task (a cohort's re-examination: three months from its entry date,
    reminded 14 and 3 days before), and the emails its reminders and escalation send."""

    # The deadline of a subject (loaded with the step's ``related``).
    deadline: Callable[[Any], Deadline]
    remind_event: str
    overdue_event: str
    # What those emails say of the subject, besides the task's title, step, school and due time.
    context: Callable[[Any], dict[str, Any]] = field(default=lambda subject: {})
    # Whether a passed deadline is escalated now; asked again on each run of the timers until
    # it is (a cohort with nothing left to examine is not escalated).
    escalate_if: Callable[[Any], bool] = field(default=lambda subject: True)


@dataclass(frozen=True, kw_only=True)
class HumanStep(StepRule):
    """A human step: its record rule, its viewflow node, where its permission is granted, and
    its due period."""

    node: Any
    # The process attribute holding the scope object the permission is granted on, as an id
    # (``"school"`` reads ``process.school_id``).
    scope: str
    due_days: int
    # Who may take the step (a function of the subject, loaded with ``related``): reminded
    # before it is due, told when its request is withdrawn.
    assignees: Callable[[Any], list[Recipient]]
    # A deadline of the step's own instead of ``due_days`` working days from the task's opening.
    timing: Timing | None = None
    # The subject of a new task of this step, from viewflow's activation, when it is not the
    # process's own subject (``ProcessDeclaration.subject_field``): a step with one task per
    # request inside one process (a cohort's cancellations).
    subject_of: Callable[[Any], Any] | None = None
    # How a task of this step names its subject in titles ("… #7"); default the flow's label.
    subject_label: StrOrPromise | None = None
    flow: str = ""  # set by ``register``

    @property
    def ref(self) -> str:
        """``<flow>.<step>``: the key of the step in settings and in the work list's filters."""
        return f"{self.flow}.{self.key}"

    def due_period(self) -> int:
        """Working days until due: ``settings.WORKFLOW_DUE_DAYS["<flow>.<step>"]`` or the
        declaration's."""
        overrides: dict[str, int] = getattr(settings, "WORKFLOW_DUE_DAYS", {})
        return int(overrides.get(self.ref, self.due_days))

    def deadline(self, subject: Any, opened: datetime.datetime) -> Deadline:
        """When a task of this step on ``subject``, opened at ``opened``, is due and when it is
        reminded: the step's ``timing``, or ``due_period()`` working days with one reminder."""
        if self.timing is not None:
            return self.timing.deadline(subject)
        due, remind = due_times(opened, self.due_period())
        return Deadline(due, (remind,))

    @property
    def remind_event(self) -> str:
        return self.timing.remind_event if self.timing else "task_due_soon"

    @property
    def overdue_event(self) -> str:
        return self.timing.overdue_event if self.timing else "task_overdue"


@dataclass(frozen=True, kw_only=True)
class ProcessDeclaration:
    """A flow as the work list knows it."""

    key: str
    label: StrOrPromise
    flow_class: Any
    process_model: type[models.Model]
    # The process's foreign key to the subject (``"request"``).
    subject_field: str
    # The facts of a subject (loaded with the step's ``related``, or as the filing made it).
    describe: Callable[[Any], Facts]
    summary_label: Callable[[str], StrOrPromise] = field(default=lambda key: key)
    # The task page's panel for this flow's subject, and its context; a context whose
    # ``in_full`` is true shows sensitive values unmasked, and the page is then not cached.
    panel_template: str = ""
    panel_context: Callable[[Any, Any], dict[str, Any]] = field(default=lambda subject, user: {})
    # An absolute link to the subject's own page, for readers who may see the subject but not
    # take its step (the province's administrators told of an overdue school task).
    subject_url: Callable[[Any], str] | None = None
    steps: tuple[HumanStep, ...] = ()

    def title(self, subject_id: Any, step: HumanStep | None = None) -> str:
        label = step.subject_label if step is not None and step.subject_label else self.label
        return f"{label} #{subject_id}"


_BY_KEY: dict[str, ProcessDeclaration] = {}
_STEPS: dict[str, HumanStep] = {}  # by "<flow>.<step>"
_BY_NODE: dict[str, HumanStep] = {}  # by viewflow's task reference ("workflows/….node")


def add(declaration: ProcessDeclaration) -> ProcessDeclaration:
    """Record a flow's declaration, its steps bound to its key (``workflows.work.register``
    calls this and hooks the steps' nodes)."""
    bound = tuple(HumanStep(**{**s.__dict__, "flow": declaration.key}) for s in declaration.steps)
    declaration = ProcessDeclaration(**{**declaration.__dict__, "steps": bound})
    _BY_KEY[declaration.key] = declaration
    for step in bound:
        _STEPS[step.ref] = step
    _BY_NODE.clear()  # node references are computed lazily (viewflow needs the app registry)
    return declaration


def declarations() -> tuple[ProcessDeclaration, ...]:
    return tuple(_BY_KEY.values())


def declaration(key: str) -> ProcessDeclaration:
    return _BY_KEY[key]


def steps() -> tuple[HumanStep, ...]:
    return tuple(_STEPS.values())


def step(ref: str) -> HumanStep | None:
    """The step ``"<flow>.<step>"``."""
    return _STEPS.get(ref)


def step_of_node(node: Any) -> HumanStep | None:
    """The declared step of a viewflow node (or its stored reference string)."""
    if not _BY_NODE:
        for declared in _STEPS.values():
            _BY_NODE[str(_node_ref(declared.node))] = declared
    return _BY_NODE.get(str(_node_ref(node)))


def _node_ref(node: Any) -> str:
    if isinstance(node, str):
        return node
    from viewflow.workflow.fields import get_task_ref  # noqa: PLC0415

    return str(get_task_ref(node))


_FACTS = "_xueji_subject"
SUBJECT_KEY = _FACTS


def remember_subject(process: Any, subject: Any) -> None:
    """Keep the subject a step has just decided on the process object viewflow hands to the
    next nodes, so their conditions and work items read it rather than load it again."""
    process.__dict__[_FACTS] = subject


def remembered_subject(process: Any, pk: Any) -> Any | None:
    """The subject remembered on ``process`` if it is the one with key ``pk``."""
    subject = process.__dict__.get(_FACTS)
    return subject if subject is not None and subject.pk == pk else None


def remembered(process: Any, model: type[models.Model]) -> Any:
    """The subject remembered on ``process``, which must be a ``model`` (a step's
    ``subject_of``: the request whose task is being opened)."""
    subject = process.__dict__.get(_FACTS)
    if not isinstance(subject, model):
        raise LookupError(f"no {model.__name__} remembered on process {process.pk}")
    return subject
