"""Enumerations of the regulation, stored with English identifiers and Chinese labels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class IdType(models.TextChoices):
    """Identity documents accepted for a person (DOMAIN.md §3.5)."""

    RESIDENT_ID = "resident_id", _("Resident identity card")
    PASSPORT = "passport", _("Passport")
    HK_MACAU_PERMIT = (
        "hk_macau_permit",
        _("Mainland travel permit for Hong Kong and Macao residents"),
    )
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
    HMT_RESIDENCE_PERMIT = (
        "hmt_residence_permit",
        _("Residence permit for Hong Kong, Macao and Taiwan residents"),
    )
    FOREIGN_PERMANENT_RESIDENCE = (
        "foreign_permanent_residence",
        _("Foreigner's permanent residence identity card"),
    )


class Level(models.TextChoices):
    """层次, with the certificate-number level code (positions 11-12, DOMAIN.md §3.3)."""

    DOCTOR = "doctor", _("Doctoral")
    MASTER = "master", _("Master's")
    SECOND_BACHELOR = "second_bachelor", _("Second bachelor's degree")
    BACHELOR = "bachelor", _("Undergraduate (bachelor's)")
    JUNIOR_COLLEGE = "junior_college", _("Junior college (vocational)")


LEVEL_CODES: dict[str, str] = {
    Level.DOCTOR: "01",
    Level.MASTER: "02",
    Level.SECOND_BACHELOR: "04",
    Level.BACHELOR: "05",
    Level.JUNIOR_COLLEGE: "06",
}


class EducationType(models.TextChoices):
    """办学类型 / 学历类别, with the certificate-number digit (position 6)."""

    REGULAR = "regular", _("Regular higher education")
    ADULT = "adult", _("Adult higher education")
    SELF_STUDY = "self_study", _("Self-study examinations")
    ONLINE = "online", _("Online education")


EDUCATION_TYPE_DIGITS: dict[str, str] = {
    EducationType.REGULAR: "1",
    EducationType.ADULT: "5",
    EducationType.SELF_STUDY: "6",
    EducationType.ONLINE: "7",
}


class LearningForm(models.TextChoices):
    """学习形式 (DOMAIN.md §3.7)."""

    FULL_TIME = "full_time", _("Regular full-time")
    PART_TIME = "part_time", _("Part-time")
    RELEASED = "released", _("Released from work")
    SPARE_TIME = "spare_time", _("Spare-time (evening university)")
    CORRESPONDENCE = "correspondence", _("Correspondence")
    ONLINE = "online", _("Online education")
    OPEN = "open", _("Open education")


class StudyLength(models.TextChoices):
    """学制, in years."""

    Y1_5 = "1.5", "1.5"
    Y2 = "2", "2"
    Y2_5 = "2.5", "2.5"
    Y3 = "3", "3"
    Y3_5 = "3.5", "3.5"
    Y4 = "4", "4"
    Y4_5 = "4.5", "4.5"
    Y5 = "5", "5"
    Y5_5 = "5.5", "5.5"
    Y6 = "6", "6"
    Y7 = "7", "7"
    Y8 = "8", "8"


class GraduationResult(models.TextChoices):
    GRADUATED = "graduated", _("Graduated")
    COMPLETED = "completed", _("Completed without graduating")


class QualificationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REGISTERED = "registered", _("Registered")
    REVOKED = "revoked", _("Revoked")


class CorrectionState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    SCHOOL_APPROVED = "school_approved", _("Forwarded by the school")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for revision")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_CORRECTION_STATES = (
    CorrectionState.SUBMITTED,
    CorrectionState.SCHOOL_APPROVED,
    CorrectionState.RETURNED,
)


class AdmissionState(models.TextChoices):
    """An admission's outcome (DOMAIN.md §2.1): 录取 until the school decides."""

    ADMITTED = "admitted", _("Admitted")
    REGISTERED = "registered", _("Registered (student status)")
    GAVE_UP = "gave_up", _("Gave up the admission")
    CANCELLED = "cancelled", _("Admission cancelled")
    RETAINED = "retained", _("Admission retained")


class StatusState(models.TextChoices):
    """A student status (学籍): enrolled, interrupted, or ended (DESIGN.md §2)."""

    ENROLLED = "enrolled", _("Enrolled")
    SUSPENDED = "suspended", _("Suspended")
    RESERVED = "reserved", _("Status reserved")
    WITHDRAWN = "withdrawn", pgettext_lazy("student status", "Withdrawn")  # 退学, not 撤回
    CANCELLED = "cancelled", _("Status cancelled")
    EXPELLED = "expelled", _("Expelled")
    DECEASED = "deceased", _("Deceased")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out")
    GRADUATED = "graduated", _("Graduated")
    COMPLETED = "completed", _("Completed")


# A status in one of these is current: one ordinary full-time current status per person.
OPEN_STATUS_STATES = (StatusState.ENROLLED, StatusState.SUSPENDED, StatusState.RESERVED)


class CohortState(models.TextChoices):
    """A school's freshmen of one year (``AdmissionCohort``): re-examined, then registered."""

    REVIEWING = "reviewing", _("Under re-examination")
    REGISTERED = "registered", _("Registered")


class CancellationState(models.TextChoices):
    """A request to cancel an admission (取消入学资格), until a second officer decides it."""

    PENDING = "pending", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")
    # Confirmed by the second officer: the written decision is issued, the student may appeal
    # before it takes effect (``confirmed``), or it is cancelled on appeal.
    IN_APPEAL = "in_appeal", _("In the appeal period")
    OVERTURNED = "overturned", _("Cancelled on appeal")


# A cancellation in one of these is not decided for good: its admission waits (it is neither
# registered with its cohort nor cancelled), and it takes no second request.
UNDECIDED_CANCELLATION_STATES = (CancellationState.PENDING, CancellationState.IN_APPEAL)


class AdmissionOutcome(models.TextChoices):
    """What an officer records for an admission (``records.admissions.services``)."""

    GAVE_UP = "gave_up", _("Give up the admission")
    RETAINED = "retained", _("Retain the admission")
    CANCELLED = "cancelled", _("Cancel the admission")
    # A retained admission's return (DOMAIN.md §2.1 item 5): registered with a later cohort.
    REGISTERED = "registered", _("Register the retained admission")


class ImportMode(models.TextChoices):
    SKIP_INVALID = "skip_invalid", _("Import the valid rows, report the others")
    ALL_OR_NOTHING = "all_or_nothing", _("Import nothing if any row is invalid")


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class YearRoundState(models.TextChoices):
    """A school's academic-year registration (学年注册) of one year (``YearRegistrationRound``):
    open until everyone enrolled is registered or deferred, then completed."""

    OPEN = "open", pgettext_lazy("year registration", "Open")
    COMPLETED = "completed", pgettext_lazy("year registration", "Completed")


class YearRegistrationState(models.TextChoices):
    """One enrolled student's registration for an academic year (DOMAIN.md §2.2)."""

    REGISTERED = "registered", pgettext_lazy("year registration", "Registered")
    DEFERRED = "deferred", _("Registration deferred")


# What an officer records for one student of a round (``records.years.services``): the
# student's registration state after it.
YearOutcome = YearRegistrationState

# A student of a round neither registered nor deferred (no registration row): a filter of the
# round's lists, never a stored state.
UNREGISTERED = "unregistered"


class StatusChangeState(models.TextChoices):
    """A status change request (学籍异动, DESIGN.md §2): the school decides in one or two
    levels (``department_approved`` between them), then the province where the type says so
    (``school_approved`` waits for it)."""

    SUBMITTED = "submitted", _("Submitted")
    DEPARTMENT_APPROVED = "department_approved", _("Approved at the first school level")
    SCHOOL_APPROVED = "school_approved", _("Approved by the school")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for revision")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    # An adverse decision issued by the school: the student may appeal before it takes effect.
    IN_APPEAL = "in_appeal", _("In the appeal period")
    # An adverse decision cancelled on appeal: the status stays as it was.
    OVERTURNED = "overturned", _("Cancelled on appeal")
    # A transfer (转学): the sending school approved, the receiving school decides; then the
    # public notice of 5 working days; then the province(s) confirm.
    TARGET_REVIEW = "target_review", _("Approved by the sending school")
    IN_NOTICE = "in_notice", _("In public notice")
    NOTICE_ENDED = "notice_ended", _("Public notice ended")


OPEN_STATUS_CHANGE_STATES = (
    StatusChangeState.SUBMITTED,
    StatusChangeState.DEPARTMENT_APPROVED,
    StatusChangeState.SCHOOL_APPROVED,
    StatusChangeState.RETURNED,
    StatusChangeState.IN_APPEAL,
    StatusChangeState.TARGET_REVIEW,
    StatusChangeState.IN_NOTICE,
    StatusChangeState.NOTICE_ENDED,
)


class ApprovalLevels(models.IntegerChoices):
    """How many levels of the school decide a status change (e.g. the department, then the
    registry office)."""

    ONE = 1, _("One level (the registry office)")
    TWO = 2, _("Two levels (the department, then the registry office)")


class CertificateProofState(models.TextChoices):
    """An application for a 学历证明书 (DOMAIN.md §2.7): the school decides in one level;
    ``approved`` means the proof is issued."""

    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved: proof issued")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for revision")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_CERTIFICATE_PROOF_STATES = (CertificateProofState.SUBMITTED, CertificateProofState.RETURNED)


class CertificateLoss(models.TextChoices):
    """Why a certificate is replaced by a proof."""

    LOST = "lost", _("Lost")
    DAMAGED = "damaged", _("Damaged")


class AppealStage(models.TextChoices):
    """Where an adverse decision in its appeal period stands (DOMAIN.md §2.3, arts 59–64): the
    student's window to appeal to the school's appeal committee, the committee's review, the
    window to appeal further to the province, the province's review."""

    NONE = "", _("No appeal period")
    WINDOW = "window", _("Open for an appeal to the school")
    SCHOOL = "school", _("Appealed to the school's appeal committee")
    PROVINCE_WINDOW = "province_window", _("Open for an appeal to the province")
    PROVINCE = "province", _("Appealed to the provincial education department")
    CLOSED = "closed", _("Appeal period over")


class DeliveryMethod(models.TextChoices):
    """How a written decision was delivered (送达, DOMAIN.md §2.3)."""

    IN_PERSON = "in_person", _("In person")
    LEFT_AT_RESIDENCE = "left_at_residence", _("Left at the residence (留置送达)")
    POST = "post", _("By post")
    PUBLIC_NOTICE = "public_notice", _("By public notice")


class IdentityCheck(models.TextChoices):
    """The graduation photo's comparison with the admission photo before registration (教电
    〔2021〕128号, DOMAIN.md §2.4): imported or set by the school's officer. ``failed`` and
    ``uncertain`` hold the qualification until the school re-checks and the province
    approves the re-check (``PhotoRecheck``)."""

    PASSED = "passed", pgettext_lazy("identity check", "Passed")
    FAILED = "failed", pgettext_lazy("identity check", "Failed")
    UNCERTAIN = "uncertain", pgettext_lazy("identity check", "Uncertain")


# A comparison that holds registration.
FLAGGED_IDENTITY_CHECKS = (IdentityCheck.FAILED, IdentityCheck.UNCERTAIN)


class GraduationCohortState(models.TextChoices):
    """A school's graduates of one graduation date (``GraduationCohort``): prepared, then
    registered (and preparing again when drafts are added after the registration)."""

    PREPARING = "preparing", _("Preparing")
    REGISTERED = "registered", pgettext_lazy("graduation", "Registered")


class GraduateResult(models.TextChoices):
    """What the school decides for a student of the cohort: a 毕业 or a 结业 qualification, or
    none this time (the student's draft, if any, is discarded)."""

    GRADUATED = "graduated", _("Graduated (毕业)")
    COMPLETED = "completed", _("Completed without graduating (结业)")
    NONE = "none", _("Not graduating now")


class RecheckState(models.TextChoices):
    """The school's re-check of a flagged graduate's identity (毕业生身份复核), filed with
    the province: pending until the province approves (同意备案) or refuses it."""

    PENDING = "pending", _("Awaiting the province")
    APPROVED = "approved", _("Approved by the province")
    REFUSED = "refused", _("Refused by the province")
