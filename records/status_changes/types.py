"""Every type of status change (学籍异动, DOMAIN.md §2.3), declared once, as data.

A type says who may file it, the fields it asks for (parsed and validated here), its rules
(each naming the article of the regulation it comes from), whether the province confirms it
after the school, and its effect on the student status on approval: the ``StudentStatus``
transition and the fields it sets. The filing, the approval, the types endpoint and the
emails read these declarations; nothing else names a type. Adding a type is a declaration
here and its tests.

Adverse decisions (退学 by the school, 取消学籍, 开除学籍) are ``adverse``: filed with the
legality review and the hearing as fields with rules, they get a written decision, its
delivery and an appeal period before their effect applies (``records.status_changes.appeals``).
A transfer (转学) names its receiving school, and its chain goes on after the school: the
receiving school, the public notice, the province or both provinces (``chain``).
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from records.admissions.numbering import add_months
from records.choices import Level
from records.choices import StatusState
from records.models import Major
from records.models import MajorCutoff
from records.models import School
from records.models import SchoolMajor
from records.models import StudentStatus
from records.status_changes.periods import max_study_end
from records.validators import mask_id_numbers_in

STUDENT = "student"
OFFICER = "officer"

# The regulations the rules cite.
RULES_41 = _(
    "Regulations on the Administration of Students of Regular Institutions of Higher Education"
)
MEASURES = _("Measures for the Electronic Registration of Student Status and Qualifications")

REQUIRED = _("This field is required.")
NOT_A_DATE = _("Give a date as YYYY-MM-DD.")
TOO_LONG = _("At most %(max)d characters.")
NOT_A_CHOICE = _("Choose one of: %(choices)s.")
UNKNOWN_MAJOR = _("No major %(code)s in the catalogue or among the school's own majors.")
UNKNOWN_SCHOOL = _("No school with the code or name %(school)s.")
UNKNOWN_CATALOGUE_MAJOR = _("No major %(code)s in the national catalogue.")
NOT_A_SCORE = _("Give a score between 0 and %(max)d, with at most one decimal.")
SCORE_MAX = 1000
UNKNOWN_FIELD = _("This type has no field %(name)s; its fields are: %(fields)s.")
RULE_FAILED = _("%(message)s (rule %(code)s, %(source)s)")
RULE_FAILED_NO_SOURCE = _("%(message)s (rule %(code)s)")
TEXT_MAX = 500


def article(number: int) -> StrOrPromise:
    """An article of 教育部令第41号 (DOMAIN.md's S2, read in full)."""
    return format_lazy(_("{regulation}, article {number}"), regulation=RULES_41, number=number)


# --- fields ---------------------------------------------------------------------------------


FIELD_KINDS = ("date", "text", "major", "choice", "school", "catalogue_major", "score")


@dataclass(frozen=True, kw_only=True)
class Field:
    """One field of a type's request: its kind, and how a raw value is read."""

    name: str
    label: StrOrPromise
    # One of ``FIELD_KINDS``: "date", "text", "major", "choice", "school" (a school's code or
    # exact name, stored as its code), "catalogue_major" (a major of the national catalogue)
    # or "score"
    kind: str
    required: bool = True
    choices: tuple[tuple[str, StrOrPromise], ...] = ()
    help: StrOrPromise = ""

    def parse(self, raw: Any, status: StudentStatus) -> Any:
        """The value of ``raw`` (a date, a major's code, a choice's code, a text), or a
        ``ValidationError`` with the field's message."""
        text = "" if raw is None else str(raw).strip()
        if not text:
            if self.required:
                raise ValidationError(REQUIRED, code="required")
            return None
        if self.kind == "date":
            try:
                return datetime.date.fromisoformat(text)
            except ValueError:
                raise ValidationError(NOT_A_DATE, code="invalid_date") from None
        if self.kind == "choice":
            codes = [code for code, _label in self.choices]
            if text not in codes:
                raise ValidationError(
                    NOT_A_CHOICE, code="invalid_choice", params={"choices": ", ".join(codes)}
                )
            return text
        if self.kind == "major":
            if major_name(status, text) is None:
                raise ValidationError(UNKNOWN_MAJOR, code="unknown_major", params={"code": text})
            return text
        if self.kind in _PARSERS:
            return _PARSERS[self.kind](text)
        if len(text) > TEXT_MAX:
            raise ValidationError(TOO_LONG, code="too_long", params={"max": TEXT_MAX})
        return text

    def dump(self, value: Any) -> Any:
        """The value as stored in the request's JSON."""
        if isinstance(value, decimal.Decimal):
            return str(value)
        return value.isoformat() if isinstance(value, datetime.date) else value

    def shown(self, stored: Any, status: StudentStatus) -> Any:
        """A stored value as people read it: a choice by its label, a major or a school by
        its name and code, a text with ID numbers masked."""
        if not stored:
            return stored
        name: str | None = None
        if self.kind == "choice":
            return dict(self.choices).get(stored, stored)
        if self.kind == "major":
            name = major_name(status, stored)
        elif self.kind == "catalogue_major":
            name = Major.objects.filter(pk=stored).values_list("name", flat=True).first()
        elif self.kind == "school":
            name = School.objects.filter(pk=stored).values_list("name", flat=True).first()
        elif self.kind == "text":
            return mask_id_numbers_in(str(stored))
        return f"{name} ({stored})" if name else stored

    def load(self, stored: Any) -> Any:
        if stored is not None and self.kind == "date":
            return datetime.date.fromisoformat(stored)
        if stored is not None and self.kind == "score":
            return decimal.Decimal(stored)
        return stored


def _school(text: str) -> str:
    """The code of the school ``text`` names (its code, or its exact name)."""
    code = (
        School.objects.filter(models.Q(pk=text) | models.Q(name=text))
        .values_list("pk", flat=True)
        .first()
    )
    if code is None:
        raise ValidationError(UNKNOWN_SCHOOL, code="unknown_school", params={"school": text})
    return str(code)


def _catalogue_major(text: str) -> str:
    if not Major.objects.filter(pk=text).exists():
        raise ValidationError(UNKNOWN_CATALOGUE_MAJOR, code="unknown_major", params={"code": text})
    return text


def _score(text: str) -> decimal.Decimal:
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        value = decimal.Decimal(-1)
    if (
        not value.is_finite()
        or not 0 <= value <= SCORE_MAX
        or value != value.quantize(decimal.Decimal("0.1"))
    ):
        raise ValidationError(NOT_A_SCORE, code="invalid_score", params={"max": SCORE_MAX})
    return value.quantize(decimal.Decimal("0.1"))


_PARSERS: dict[str, Callable[[str], Any]] = {
    "school": _school,
    "catalogue_major": _catalogue_major,
    "score": _score,
}


def major_name(status: StudentStatus, code: str) -> str | None:
    """The name of major ``code`` in the national catalogue, or among the status's school's
    own majors."""
    name = Major.objects.filter(pk=code).values_list("name", flat=True).first()
    if name is None:
        name = (
            SchoolMajor.objects.filter(school_id=status.school_id, code=code)
            .values_list("name", flat=True)
            .first()
        )
    return name


def _date(name: str, label: StrOrPromise, **kw: Any) -> Field:
    return Field(name=name, label=label, kind="date", **kw)


FROM = _date("from", _("From"))
UNTIL = _date("until", _("Until"))
EFFECTIVE = _date("date", _("Effective date"))
NEW_GRADUATION = _date("expected_graduation", _("New expected graduation date"))


# --- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """What a rule reads: the status (with its school), the parsed fields, today."""

    status: StudentStatus
    values: Mapping[str, Any]
    today: datetime.date


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A rule of a type: ``holds`` is true when the request may go on; otherwise the error
    names the rule and the article it comes from, on ``field`` (a field of the request,
    ``status`` or ``type``)."""

    code: str
    message: StrOrPromise
    holds: Callable[[Check], bool]
    source: StrOrPromise = ""
    field: str = "type"

    def error(self) -> str:
        if self.source:
            return str(
                RULE_FAILED
                % {"message": self.message, "code": self.code, "source": str(self.source)}
            )
        return str(RULE_FAILED_NO_SOURCE % {"message": self.message, "code": self.code})

    @property
    def key(self) -> str:
        """The error's key: ``fields.<name>`` for a field of the request."""
        return self.field if self.field in ("status", "type") else f"fields.{self.field}"


def _in_state(state: str, code: str, message: StrOrPromise, number: int | None) -> Rule:
    return Rule(
        code=code,
        message=message,
        source=article(number) if number else "",
        field="status",
        holds=lambda c: c.status.state == state,
    )


def _later(first: str, second: str) -> Callable[[Check], bool]:
    def holds(c: Check) -> bool:
        a, b = c.values.get(first), c.values.get(second)
        return a is None or b is None or b > a

    return holds


def _within_max(name: str) -> Callable[[Check], bool]:
    def holds(c: Check) -> bool:
        value = c.values.get(name)
        return value is None or value <= max_study_end(c.status)

    return holds


def _graduation(later: bool) -> Callable[[Check], bool]:
    def holds(c: Check) -> bool:
        new = c.values.get("expected_graduation")
        if new is None:
            return True
        current = c.status.expected_graduation
        return bool(new > current if later else new < current)

    return holds


ONLY_ENROLLED = _("Only an enrolled status can take this change.")
UNTIL_AFTER_FROM = Rule(
    code="until_after_from",
    message=_("The end date must be after the start date."),
    field="until",
    holds=_later("from", "until"),
)


def within_max_period(name: str) -> Rule:
    return Rule(
        code="max_study_period",
        message=_(
            "The date passes the maximum study period (the study length plus the school's "
            "extension, suspension and reservation included)."
        ),
        source=article(28),
        field=name,
        holds=_within_max(name),
    )


CREDIT_SYSTEM = Rule(
    code="credit_system",
    message=_("A credit-system school does not record repetition, demotion or skipping."),
    source=format_lazy(_("{measures}; {rules}"), measures=MEASURES, rules=article(15)),
    holds=lambda c: not c.status.school.credit_system,
)

# 特殊招生类型 whose national rules or pre-admission agreement forbid a change of major
# (DOMAIN.md §2.3, 第21条): directed and agreement-bound admissions.
MAJOR_CHANGE_BARRED_TYPES = frozenset(
    {
        "directed",
        "free_medical",
        "rural_order_medical",
        "public_funded_teacher",
        "excellent_teacher",
        "directed_sergeant",
        "strong_army",
        "tibet_aid",
        "ethnic_backbone",
        "political_legal_pilot",
        "national_defense",
    }
)


# --- effects and types ----------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """What an approval does to the status: the ``StudentStatus`` transition (its method's
    name), and the fields it sets (a function of the status and the parsed values)."""

    transition: str = ""
    changes: Callable[[StudentStatus, Mapping[str, Any]], dict[str, Any]] = field(
        default=lambda status, values: {}
    )

    def target(self) -> str:
        """The state the transition leads to ("" when the state stays)."""
        if not self.transition:
            return ""
        meta = getattr(StudentStatus, self.transition)._django_fsm
        return str(next(iter(meta.transitions.values())).target)

    def sources(self) -> list[str]:
        if not self.transition:
            return []
        meta = getattr(StudentStatus, self.transition)._django_fsm
        return [str(source) for source in meta.transitions]


def _set_graduation(status: StudentStatus, values: Mapping[str, Any]) -> dict[str, Any]:
    return {"expected_graduation": values["expected_graduation"]}


def _set_major(status: StudentStatus, values: Mapping[str, Any]) -> dict[str, Any]:
    code = values["major_code"]
    return {"major_code": code, "major_name": major_name(status, code) or ""}


@dataclass(frozen=True, kw_only=True)
class StatusChangeType:
    key: str
    label: StrOrPromise
    filers: frozenset[str]
    fields: tuple[Field, ...] = ()
    rules: tuple[Rule, ...] = ()
    effect: Effect = Effect()
    # The province confirms after the school (a type whose ``chain`` does not say more).
    province: bool = False
    # An adverse decision: hearing, written decision, delivery, appeal period before the effect.
    adverse: bool = False
    # The chain's stages after the school, when it is not just the province's confirmation:
    # a transfer's ``("target_school", "notice", "provinces")`` (the receiving school named by
    # the field ``target_school``; the public notice; the province, or both in parallel).
    chain: tuple[str, ...] = ()
    available: bool = True
    # Why it cannot be filed yet (an unavailable slot).
    unavailable: StrOrPromise = ""

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def parse(self, raw: Mapping[str, Any], status: StudentStatus) -> dict[str, Any]:
        """The parsed values of ``raw``; every field's error at once, keyed
        ``fields.<name>``."""
        errors: dict[str, list[ValidationError]] = {}
        names = [f.name for f in self.fields]
        for name in raw:
            if name not in names:
                errors[f"fields.{name}"] = [
                    ValidationError(
                        UNKNOWN_FIELD,
                        code="unknown_field",
                        params={"name": name, "fields": ", ".join(names) or "-"},
                    )
                ]
        values: dict[str, Any] = {}
        for f in self.fields:
            try:
                values[f.name] = f.parse(raw.get(f.name), status)
            except ValidationError as exc:
                errors[f"fields.{f.name}"] = [exc]
        if errors:
            raise ValidationError(errors)
        return values

    def dump(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {f.name: f.dump(values.get(f.name)) for f in self.fields}

    def load(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        return {f.name: f.load(stored.get(f.name)) for f in self.fields}

    def broken_rules(self, check: Check) -> list[Rule]:
        return [rule for rule in self.rules if not rule.holds(check)]

    def check(self, check: Check) -> None:
        """A ``ValidationError`` naming every rule the request breaks."""
        errors: dict[str, list[str]] = {}
        for rule in self.broken_rules(check):
            errors.setdefault(rule.key, []).append(rule.error())
        if errors:
            raise ValidationError(errors)


# --- adverse decisions ----------------------------------------------------------------------

# What the school records before it decides (arts 55–56): the legality review (合法性审查) and
# the hearing (陈述和申辩 / 听证): when, who heard the student, what was said. Optional as
# fields, so that a missing one is refused by its rule, which names the article.
LEGALITY_REVIEW = Field(
    name="legality_review",
    label=_("Legality review"),
    kind="choice",
    required=False,
    choices=(("done", _("Reviewed for legality by the school")),),
    help=_("The school's legality review of the decision, recorded before it decides."),
)
HEARING_DATE = _date("hearing_date", _("Hearing date"), required=False)
HEARING_BY = Field(
    name="hearing_by",
    label=_("Heard by"),
    kind="text",
    required=False,
    help=_("Who heard the student's statement and defence."),
)
HEARING_SUMMARY = Field(
    name="hearing_summary",
    label=_("Hearing summary"),
    kind="text",
    required=False,
    help=_("What the student stated, and what the school made of it."),
)
BASIS = Field(
    name="basis",
    label=_("Basis"),
    kind="text",
    help=_("The articles of the regulations or the school's rules the decision rests on."),
)
ADVERSE_FIELDS = (LEGALITY_REVIEW, HEARING_DATE, HEARING_BY, HEARING_SUMMARY, BASIS)


def _given(name: str) -> Callable[[Check], bool]:
    return lambda c: c.values.get(name) not in (None, "")


ADVERSE_RULES = (
    Rule(
        code="legality_review",
        message=_("An adverse decision needs the school's legality review first."),
        source=article(56),
        field="legality_review",
        holds=lambda c: c.values.get("legality_review") == "done",
    ),
    *(
        Rule(
            code="hearing_record",
            message=_(
                "An adverse decision needs a record of the student's hearing: its date, who "
                "heard the student and a summary."
            ),
            source=article(55),
            field=name,
            holds=_given(name),
        )
        for name in ("hearing_date", "hearing_by", "hearing_summary")
    ),
    Rule(
        code="hearing_not_future",
        message=_("The hearing cannot be in the future."),
        source=article(55),
        field="hearing_date",
        holds=lambda c: c.values.get("hearing_date") is None or c.values["hearing_date"] <= c.today,
    ),
)


# --- transfers (转学, 教育部令第41号 arts 22–24) -------------------------------------------------

# Art 22's grounds: illness, a special hardship or need, unable to go on at the school.
TRANSFER_GROUNDS: tuple[tuple[str, StrOrPromise], ...] = (
    ("illness", _("Illness")),
    ("hardship", _("Special hardship")),
    ("special_need", _("Special need")),
    ("unable_to_adapt", _("Unable to meet the school's study requirements")),
)
# 定向 admissions (art 22): directed students, rural order-directed medical students, directed
# sergeants.
DIRECTED_TYPES = frozenset({"directed", "rural_order_medical", "directed_sergeant"})
# "Less than one term after entry": a term counted as five calendar months from the entry date
# (an autumn entry's first term ends by February).
TERM_MONTHS = 5
# The school levels of the reference data (schools.csv): 本科 above 专科.
BACHELOR_SCHOOL = "本科"


def _target(c: Check) -> School | None:
    code = c.values.get("target_school")
    return School.objects.filter(pk=code).first() if code else None


def origin_of(status: StudentStatus) -> tuple[str, int]:
    """The origin province and admission year of a status's gaokao: its admission's, or, for a
    status with no admission record, its school's province and its entry year."""
    admission = status.admission
    if admission is not None:
        return admission.origin_province_id, admission.admission_year
    return status.province_id, status.entry_date.year


def cutoff_of(c: Check) -> decimal.Decimal | None:
    """The receiving school's cut-off of the target major for the status's origin province and
    year (``MajorCutoff``), or ``None`` when it keeps none."""
    code, major = c.values.get("target_school"), c.values.get("target_major")
    if not code or not major:
        return None
    province, year = origin_of(c.status)
    score: decimal.Decimal | None = (
        MajorCutoff.objects.filter(
            school_id=code, major_code=major, origin_province_id=province, year=year
        )
        .values_list("score", flat=True)
        .first()
    )
    return score


def _score_reaches_cutoff(c: Check) -> bool:
    score = c.values.get("score")
    if score is None or not c.values.get("target_school") or not c.values.get("target_major"):
        return True
    cutoff = cutoff_of(c)
    return cutoff is not None and score >= cutoff


def _not_moving_up(c: Check) -> bool:
    target = _target(c)
    return not (
        target is not None
        and c.status.level == Level.JUNIOR_COLLEGE
        and target.level == BACHELOR_SCHOOL
    )


def _number_free(c: Check) -> bool:
    code = c.values.get("target_school")
    return not (
        code
        and StudentStatus.objects.filter(school_id=code, student_number=c.status.student_number)
        .exclude(pk=c.status.pk)
        .exists()
    )


TRANSFER_RULES: tuple[Rule, ...] = (
    _in_state(StatusState.ENROLLED, "only_enrolled", ONLY_ENROLLED, 22),
    Rule(
        code="transfer_same_school",
        message=_("The receiving school is the student's own school."),
        field="target_school",
        holds=lambda c: c.values.get("target_school") != c.status.school_id,
    ),
    Rule(
        code="transfer_first_term",
        message=_("Less than one term has passed since entry."),
        source=article(22),
        field="status",
        holds=lambda c: c.today >= add_months(c.status.entry_date, TERM_MONTHS),
    ),
    Rule(
        code="transfer_final_year",
        message=_("The student is in the final year of study."),
        source=article(22),
        field="status",
        holds=lambda c: c.today < add_months(c.status.expected_graduation, -12),
    ),
    Rule(
        code="transfer_level_up",
        message=_(
            "A transfer cannot move up a level (a junior college student to an undergraduate "
            "school)."
        ),
        source=article(22),
        field="target_school",
        holds=_not_moving_up,
    ),
    Rule(
        code="transfer_directed",
        message=_("A student of a directed (定向) admission cannot transfer."),
        source=article(22),
        field="status",
        holds=lambda c: c.status.admission_type_id not in DIRECTED_TYPES,
    ),
    Rule(
        code="transfer_below_cutoff",
        message=_(
            "The score is below the receiving school's cut-off for the major, for the same "
            "origin province and year (or the school has recorded none)."
        ),
        source=article(22),
        field="score",
        holds=_score_reaches_cutoff,
    ),
    Rule(
        code="transfer_no_reason",
        message=_(
            "Give the ground of the transfer: illness, a special hardship or need, or being "
            "unable to meet the school's study requirements."
        ),
        source=article(22),
        field="ground",
        holds=lambda c: bool(c.values.get("ground")),
    ),
    Rule(
        code="transfer_number_taken",
        message=_("The receiving school already has a student with this student number."),
        field="target_school",
        holds=_number_free,
    ),
)


def _set_school(status: StudentStatus, values: Mapping[str, Any]) -> dict[str, Any]:
    """A transfer moves the status to the receiving school, its province and major; the
    student number stays (``transfer_number_taken`` keeps it unique there)."""
    target = School.objects.get(pk=values["target_school"])
    code = values["target_major"]
    name = Major.objects.filter(pk=code).values_list("name", flat=True).first() or ""
    return {
        "school_id": target.pk,
        "province_id": target.province_id,
        "major_code": code,
        "major_name": name,
    }


# "Only an enrolled status", citing the article of the type where it has one.
_ENROLLED_RULE = {
    number: _in_state(StatusState.ENROLLED, "only_enrolled", ONLY_ENROLLED, number)
    for number in (21, 25, 27, 32, None)
}

_TYPES = (
    StatusChangeType(
        key="suspension",
        label=_("Suspension of studies"),
        filers=frozenset({STUDENT, OFFICER}),
        fields=(FROM, UNTIL),
        rules=(_ENROLLED_RULE[25], UNTIL_AFTER_FROM, within_max_period("until")),
        effect=Effect("suspend"),
    ),
    StatusChangeType(
        key="resumption",
        label=_("Resumption of studies"),
        filers=frozenset({STUDENT, OFFICER}),
        fields=(FROM,),
        rules=(
            _in_state(
                StatusState.SUSPENDED,
                "resumption_only_from_suspended",
                _("Only a suspended status can resume."),
                29,
            ),
        ),
        effect=Effect("resume"),
    ),
    StatusChangeType(
        key="reservation",
        label=_("Reservation of student status"),
        filers=frozenset({STUDENT, OFFICER}),
        fields=(
            Field(
                name="kind",
                label=_("Ground"),
                kind="choice",
                choices=(
                    ("military", _("Military service")),
                    ("joint_training", _("Joint training at another school")),
                    ("other", _("Other ground the school accepts")),
                ),
            ),
            FROM,
            UNTIL,
        ),
        rules=(_ENROLLED_RULE[27], UNTIL_AFTER_FROM, within_max_period("until")),
        effect=Effect("reserve"),
    ),
    StatusChangeType(
        key="reservation_end",
        label=_("Return from a reserved status"),
        filers=frozenset({STUDENT, OFFICER}),
        fields=(FROM,),
        rules=(
            _in_state(
                StatusState.RESERVED,
                "return_only_from_reserved",
                _("Only a reserved status can return."),
                29,
            ),
        ),
        effect=Effect("end_reservation"),
    ),
    StatusChangeType(
        key="major_change",
        label=_("Change of major"),
        filers=frozenset({STUDENT, OFFICER}),
        fields=(
            Field(
                name="major_code",
                label=_("New major"),
                kind="major",
                help=_("A code of the major catalogue, or one of the school's own majors."),
            ),
        ),
        rules=(
            _ENROLLED_RULE[21],
            Rule(
                code="major_change_barred",
                message=_("The student's admission type does not allow a change of major."),
                source=article(21),
                field="status",
                holds=lambda c: c.status.admission_type_id not in MAJOR_CHANGE_BARRED_TYPES,
            ),
            Rule(
                code="same_major",
                message=_("The new major is the current one."),
                field="major_code",
                holds=lambda c: c.values.get("major_code") != c.status.major_code,
            ),
        ),
        effect=Effect(changes=_set_major),
    ),
    StatusChangeType(
        key="repetition",
        label=_("Repetition of a year"),
        filers=frozenset({OFFICER}),
        fields=(NEW_GRADUATION,),
        rules=(
            CREDIT_SYSTEM,
            _ENROLLED_RULE[None],
            Rule(
                code="graduation_later",
                message=_("The new expected graduation date must be later than the current one."),
                field="expected_graduation",
                holds=_graduation(later=True),
            ),
            within_max_period("expected_graduation"),
        ),
        effect=Effect(changes=_set_graduation),
    ),
    StatusChangeType(
        key="demotion",
        label=_("Demotion to a lower year"),
        filers=frozenset({OFFICER}),
        fields=(NEW_GRADUATION,),
        rules=(
            CREDIT_SYSTEM,
            _ENROLLED_RULE[None],
            Rule(
                code="graduation_later",
                message=_("The new expected graduation date must be later than the current one."),
                field="expected_graduation",
                holds=_graduation(later=True),
            ),
            within_max_period("expected_graduation"),
        ),
        effect=Effect(changes=_set_graduation),
    ),
    StatusChangeType(
        key="skip",
        label=_("Skipping a year"),
        filers=frozenset({OFFICER}),
        fields=(NEW_GRADUATION,),
        rules=(
            CREDIT_SYSTEM,
            _ENROLLED_RULE[None],
            Rule(
                code="graduation_earlier",
                message=_("The new expected graduation date must be earlier than the current one."),
                field="expected_graduation",
                holds=_graduation(later=False),
            ),
        ),
        effect=Effect(changes=_set_graduation),
    ),
    StatusChangeType(
        key="withdrawal",
        label=_("Withdrawal at the student's request"),
        filers=frozenset({STUDENT}),
        fields=(EFFECTIVE,),
        rules=(
            Rule(
                code="date_after_entry",
                message=_("The date must not be before the entry date."),
                source=article(30),
                field="date",
                holds=lambda c: (
                    c.values.get("date") is None or c.values["date"] >= c.status.entry_date
                ),
            ),
        ),
        effect=Effect("withdraw"),
    ),
    StatusChangeType(
        key="death",
        label=_("Death"),
        filers=frozenset({OFFICER}),
        fields=(EFFECTIVE,),
        rules=(
            Rule(
                code="date_not_future",
                message=_("The date of death cannot be in the future."),
                field="date",
                holds=lambda c: c.values.get("date") is None or c.values["date"] <= c.today,
            ),
        ),
        effect=Effect("record_death"),
    ),
    StatusChangeType(
        key="early_graduation",
        label=_("Early graduation"),
        filers=frozenset({STUDENT, OFFICER}),
        fields=(NEW_GRADUATION,),
        rules=(
            _ENROLLED_RULE[32],
            Rule(
                code="graduation_earlier",
                message=_("The new expected graduation date must be earlier than the current one."),
                source=article(32),
                field="expected_graduation",
                holds=_graduation(later=False),
            ),
            Rule(
                code="not_in_the_past",
                message=_("The new expected graduation date cannot be in the past."),
                field="expected_graduation",
                holds=lambda c: (
                    c.values.get("expected_graduation") is None
                    or c.values["expected_graduation"] >= c.today
                ),
            ),
        ),
        effect=Effect(changes=_set_graduation),
    ),
    StatusChangeType(
        key="deferred_graduation",
        label=_("Deferred graduation"),
        filers=frozenset({STUDENT, OFFICER}),
        fields=(NEW_GRADUATION,),
        rules=(
            _ENROLLED_RULE[32],
            Rule(
                code="graduation_later",
                message=_("The new expected graduation date must be later than the current one."),
                source=article(32),
                field="expected_graduation",
                holds=_graduation(later=True),
            ),
            within_max_period("expected_graduation"),
        ),
        effect=Effect(changes=_set_graduation),
    ),
    # Adverse decisions (DOMAIN.md §2.3, §4 item 14): filed by an officer with the legality
    # review and the hearing; the school's last level issues the written decision, which takes
    # effect after the appeal period (``adverse``).
    StatusChangeType(
        key="withdrawal_by_school",
        label=_("Withdrawal by decision of the school"),
        filers=frozenset({OFFICER}),
        fields=ADVERSE_FIELDS,
        rules=ADVERSE_RULES,
        adverse=True,
        effect=Effect("withdraw"),
    ),
    StatusChangeType(
        key="cancellation",
        label=_("Cancellation of student status"),
        filers=frozenset({OFFICER}),
        fields=ADVERSE_FIELDS,
        rules=ADVERSE_RULES,
        adverse=True,
        effect=Effect("cancel_status"),
    ),
    StatusChangeType(
        key="expulsion",
        label=_("Expulsion"),
        filers=frozenset({OFFICER}),
        fields=ADVERSE_FIELDS,
        rules=ADVERSE_RULES,
        adverse=True,
        effect=Effect("expel"),
    ),
    StatusChangeType(
        key="transfer",
        label=_("Transfer to another school"),
        filers=frozenset({STUDENT}),
        fields=(
            Field(
                name="target_school",
                label=_("Receiving school"),
                kind="school",
                help=_("The receiving school's code or full name."),
            ),
            Field(
                name="target_major",
                label=_("Major at the receiving school"),
                kind="catalogue_major",
                help=_("A code of the major catalogue."),
            ),
            Field(
                name="score",
                label=_("Gaokao score"),
                kind="score",
                help=_("The student's score in the national college entrance examination."),
            ),
            Field(
                name="ground",
                label=_("Ground"),
                kind="choice",
                required=False,
                choices=TRANSFER_GROUNDS,
            ),
        ),
        rules=TRANSFER_RULES,
        effect=Effect(changes=_set_school),
        chain=("target_school", "notice", "provinces"),
    ),
)

TYPES: dict[str, StatusChangeType] = {kind.key: kind for kind in _TYPES}
