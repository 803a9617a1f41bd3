"""A freshman claims their account: the login of the person an admission names.

``claim_account`` creates the login when the candidate number, the ID number and the name
together match an admission whose person has no login yet, in any state of the admission: a
freshman whose admission was cancelled, given up or retained needs the account as much as
one who is registered (to read the decision, its reason and the appeal route, or until when
the place is kept).

What is checked, in this order, so that nothing about the records leaks to a guesser:

1. each field on its own (formats, the password validators): field errors, not counted;
2. the address's failed claims (``ClaimAttempts``): after ``CLAIM_FAILURE_LIMIT`` failures
   within ``CLAIM_FAILURE_WINDOW_MINUTES`` every claim from that address is refused
   (``ClaimThrottledError``) until the oldest failure is that old;
3. the three facts against the admissions: a mismatch is one message that never says which
   fact was wrong (``ClaimMismatchError``), and counts as a failure;
4. with all three matching: a person who already has a login is told so
   (``AlreadyClaimedError``); a user name or email address another account uses is a field error
   (only now, so an address's use is never revealed to someone who does not know the three
   facts). None of these counts as a failure, nor does a successful claim.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.base_user import BaseUserManager
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from stdnum.cn import ric

from notifications.services import notify
from permissions import roles
from permissions.services import grant_role
from records.audit import audit_append
from records.choices import IdType
from records.models import AdmissionRecord
from records.models import Student
from records.models import User
from records.models.admissions import CANDIDATE_NUMBER_MAX
from records.names import MIDDLE_DOTS
from records.names import split_name
from records.notices import recipient_of
from records.validators import RIC_CHECKSUM
from records.validators import validate_person_name

STUDENT_CLAIMED = "student.claimed"

REQUIRED = _("This field is required.")
CANDIDATE_FORMAT = _(
    "A candidate number (考生号) is digits only, at most %(max)d: copy it from your admission "
    "notice."
)
ID_NUMBER_FORMAT = _("An ID number is at most 32 letters and digits.")
USERNAME_TAKEN = _("This user name is taken: choose another one.")
EMAIL_TAKEN = _("Another account already uses this email address.")
MISMATCH = _(
    "These details do not match any admission. Check your candidate number, ID number and name "
    "against your admission notice and try again (after %(limit)d failed attempts you will "
    "have to wait %(minutes)d minutes)."
)
ALREADY_CLAIMED = _(
    "An account was already created for this admission. Log in with its user name; if you "
    "do not know it or its password, ask your school's student records office."
)

ID_NUMBER_MAX = 32
NAME_MAX = 40
# Bounds of what is read at all (a password is hashed: a megabyte of it is not).
PASSWORD_MAX = 128
EMAIL_MAX = 254
USERNAME_MAX = 150


class ClaimMismatchError(Exception):
    """The three facts match no admission (or not one person's): counted as a failure."""

    code = "claim_mismatch"

    def __init__(self) -> None:
        self.message = str(
            MISMATCH
            % {
                "limit": settings.CLAIM_FAILURE_LIMIT,
                "minutes": settings.CLAIM_FAILURE_WINDOW_MINUTES,
            }
        )
        super().__init__(self.message)


class AlreadyClaimedError(Exception):
    """The three facts match, and the person already has a login."""

    code = "already_claimed"

    def __init__(self) -> None:
        self.message = str(ALREADY_CLAIMED)
        super().__init__(self.message)


class ClaimThrottledError(Exception):
    """Too many failed claims from this address: try again in ``retry_after`` seconds."""

    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, math.ceil(retry_after / 60))
        self.message = ngettext(
            "Too many failed attempts from your network. Try again in about %(minutes)d "
            "minute, or ask your school's student records office.",
            "Too many failed attempts from your network. Try again in about %(minutes)d "
            "minutes, or ask your school's student records office.",
            minutes,
        ) % {"minutes": minutes}
        super().__init__(self.message)


@dataclass(frozen=True)
class Claimed:
    """A claim that succeeded: the new login and its person."""

    user: User
    person: Student
    admission: AdmissionRecord


# --- Counting failures per address ------------------------------------------------------------


def _address_key(address: str) -> str:
    """An IPv6 client is counted by its /64 (one household's or phone's network, whose
    addresses it may rotate at will); an IPv4 client by its address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        text = address
    else:
        if isinstance(parsed, ipaddress.IPv6Address):
            text = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
        else:
            text = str(parsed)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ClaimAttempts:
    """The failed claims of one address, in the shared cache (``CACHES``): one cache entry
    per failure, in ``CLAIM_FAILURE_LIMIT`` numbered slots, each expiring
    ``CLAIM_FAILURE_WINDOW_MINUTES`` after it was taken.

    A claim takes a free slot before the facts are looked at (``cache.add``: Redis' ``SET
    NX``, the database cache's insert on its primary key, so two requests never take the same
    slot) and gives it back unless the claim turns out to be a mismatch. When no slot is free
    the claim is refused: so concurrent guesses from one address cannot get past the limit
    either, a window slides (each failure counts for exactly its window), and the refusal says
    when the oldest failure's slot frees. A refused claim is not counted, so the wait does not
    grow while someone keeps trying.
    """

    def __init__(self, address: str) -> None:
        prefix = f"claim-failures:{_address_key(address)}"
        self.keys = [f"{prefix}:{slot}" for slot in range(settings.CLAIM_FAILURE_LIMIT)]
        self.window = settings.CLAIM_FAILURE_WINDOW_MINUTES * 60

    def take(self) -> str:
        """A free slot's key; ``ClaimThrottledError`` when there is none."""
        now = time.time()
        for key in self.keys:
            if cache.add(key, now, timeout=self.window):
                return key
        taken = [float(value) for value in cache.get_many(self.keys).values()]
        oldest = min(taken, default=now)  # a slot may have freed meanwhile: try again soon
        wait = math.ceil(oldest + self.window - now)  # a slot taken since ``now``: the window
        raise ClaimThrottledError(retry_after=min(self.window, max(1, wait)))

    def give_back(self, key: str) -> None:
        cache.delete(key)

    def failures(self) -> int:
        return len(cache.get_many(self.keys))


# --- The facts, as people type them -----------------------------------------------------------


def normalize_candidate_number(value: str) -> str:
    """Full-width digits as ASCII, spaces and hyphens dropped."""
    return re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", value or ""))


def normalize_claim_id_number(value: str) -> str:
    """Full-width characters as ASCII, spaces dropped, upper case (``x`` is ``X``)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def normalize_name(value: str) -> str:
    """Full-width forms folded, spaces collapsed, every middle dot as ``·``."""
    text = unicodedata.normalize("NFKC", value or "")
    text = re.sub(f"[{re.escape(MIDDLE_DOTS)}．]", "·", text)
    return re.sub(r"\s+", " ", text).strip()


def _same_name(typed: str, recorded: str) -> bool:
    """Names compared without spaces or case: 王 小明 is 王小明, ADA LOVELACE Ada Lovelace."""

    def key(name: str) -> str:
        return normalize_name(name).replace(" ", "").casefold()

    return key(typed) == key(recorded)


@dataclass(frozen=True)
class ClaimFacts:
    candidate_number: str
    id_number: str
    name: str
    username: str
    email: str
    password: str


def _check_candidate_number(value: str) -> None:
    if not value.isascii() or not value.isdigit() or len(value) > CANDIDATE_NUMBER_MAX:
        raise ValidationError(CANDIDATE_FORMAT, code="format", params={"max": CANDIDATE_NUMBER_MAX})


def _check_id_number(value: str) -> None:
    if len(value) > ID_NUMBER_MAX or not re.fullmatch(r"[0-9A-Z]+", value):
        raise ValidationError(ID_NUMBER_FORMAT, code="format")
    # A resident ID (or a residence permit of the same structure): a typo is caught here.
    resident_id = re.fullmatch(r"[0-9]{17}[0-9X]", value)
    if resident_id and ric.calc_check_digit(value) != value[-1]:
        raise ValidationError(RIC_CHECKSUM, code="checksum")


def _check_username(value: str) -> None:
    User._meta.get_field("username").run_validators(value)


def _password_checker(facts: ClaimFacts) -> Callable[[str], None]:
    family, given = split_name(facts.name)
    candidate = User(username=facts.username, email=facts.email, last_name=family, first_name=given)

    def check(value: str) -> None:
        password_validation.validate_password(value, candidate)

    return check


def check_fields(
    *, candidate_number: str, id_number: str, name: str, username: str, email: str, password: str
) -> ClaimFacts:
    """Each field on its own; ``ValidationError`` naming every field that breaks a rule.

    ``claim_account`` starts with it; a form may call it first to show every field's error
    at once. Looks nothing up: a field error never says anything about the records."""
    facts = ClaimFacts(
        candidate_number=normalize_candidate_number(candidate_number),
        id_number=normalize_claim_id_number(id_number),
        name=normalize_name(name),
        username=(username or "").strip(),
        email=BaseUserManager.normalize_email((email or "").strip()),
        password=password or "",
    )
    checks: dict[str, Callable[[str], None]] = {
        "candidate_number": _check_candidate_number,
        "id_number": _check_id_number,
        "name": validate_person_name,
        "username": _check_username,
        "email": validate_email,
        "password": _password_checker(facts),
    }
    errors: dict[str, list[ValidationError]] = {}
    for field, check in checks.items():
        value = getattr(facts, field)
        if not value:
            errors[field] = [ValidationError(REQUIRED, code="required")]
            continue
        try:
            check(value)
        except ValidationError as error:
            errors[field] = error.error_list
    if errors:
        raise ValidationError(errors)
    return facts


# --- The claim --------------------------------------------------------------------------------


def _matching_admission(facts: ClaimFacts) -> AdmissionRecord:
    """The admission the three facts name, with its person and school; ``ClaimMismatchError``
    unless they name exactly one person.

    The people with that ID number first (the unique ``(id_type, id_number)`` index, every
    type listed), then their admissions (a handful each) with that candidate number.
    """
    people = [
        person
        for person in Student.objects.filter(id_type__in=IdType.values, id_number=facts.id_number)
        if _same_name(facts.name, person.name)
    ]
    admissions = (
        list(
            AdmissionRecord.objects.filter(
                student__in=people, candidate_number=facts.candidate_number
            ).select_related("student", "school")
        )
        if people
        else []
    )
    if len({admission.student_id for admission in admissions}) != 1:
        raise ClaimMismatchError
    newest: AdmissionRecord = max(admissions, key=lambda admission: admission.admission_year)
    return newest


def _language(code: str) -> str:
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return str(settings.LANGUAGE_CODE)


def claim_account(
    *,
    candidate_number: str,
    id_number: str,
    name: str,
    username: str,
    email: str,
    password: str,
    address: str,
    language: str,
) -> Claimed:
    """Create the login of the person an admission names, as the module's docstring says.

    ``address`` is the client's (``records.logins.client_ip``); ``language`` the login's (the
    page's or the request's language: the confirmation email is written in it).

    Raises ``ValidationError`` on the fields, ``ClaimThrottledError``, ``ClaimMismatchError``,
    ``AlreadyClaimedError``. Not itself atomic around the count: a failure must stay counted when
    the claim's own transaction rolls back (on the database cache, the count is a row).
    """
    facts = check_fields(
        candidate_number=candidate_number,
        id_number=id_number,
        name=name,
        username=username,
        email=email,
        password=password,
    )
    attempts = ClaimAttempts(address)
    slot = attempts.take()
    try:
        with transaction.atomic():
            claimed = _claim(facts, address=address, language=language)
    except ClaimMismatchError:
        raise  # counted: the slot stays taken for the window
    except BaseException:
        attempts.give_back(slot)
        raise
    attempts.give_back(slot)
    return claimed


def _claim(facts: ClaimFacts, *, address: str, language: str) -> Claimed:
    admission = _matching_admission(facts)
    person = Student.objects.select_for_update().get(pk=admission.student_id)
    if person.user_id is not None:
        raise AlreadyClaimedError
    errors: dict[str, list[ValidationError]] = {}
    if User.objects.filter(username__iexact=facts.username).exists():
        errors["username"] = [ValidationError(USERNAME_TAKEN, code="taken")]
    if User.objects.filter(email__iexact=facts.email).exists():
        errors["email"] = [ValidationError(EMAIL_TAKEN, code="taken")]
    if errors:
        raise ValidationError(errors)
    family, given = split_name(person.name)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                facts.username,
                email=facts.email,
                password=facts.password,
                last_name=family,
                first_name=given,
                language=_language(language),
            )
    except IntegrityError:  # the same user name, claimed by someone else this very moment
        raise ValidationError(
            {"username": [ValidationError(USERNAME_TAKEN, code="taken")]}
        ) from None
    grant_role(user, roles.STUDENT)
    person.user = user
    update = ["user", "updated"]
    if not person.email:
        person.email = facts.email
        update.append("email")
    person.save(update_fields=update)
    audit_append(
        subject=person,
        action=STUDENT_CLAIMED,
        actor=user,
        data={
            "username": user.username,
            "admission": admission.pk,
            "candidate_number": admission.candidate_number,
            "address": address,
        },
        subject_locked=True,
    )
    _announce(user, person, admission)
    return Claimed(user=user, person=person, admission=admission)


def _announce(user: User, person: Student, admission: AdmissionRecord) -> None:
    """The email to the new address: the account exists, its user name, where to log in."""
    recipient = recipient_of(user, person.name)
    claimed_at = timezone.now()
    site = settings.SITE_URL.rstrip("/")
    notify(
        "account_claimed",
        # Keyed on the moment: a person whose login was removed may claim again.
        object_key=f"records.student:{person.pk}@{claimed_at:%Y%m%dT%H%M%S%f}",
        recipients=[recipient],
        context={
            "name": person.name,
            "username": user.username,
            "school": admission.school.name,
            "year": admission.admission_year,
            "claimed_at": claimed_at,
            "login_url": site + reverse("login"),
        },
    )
