"""People: logins (``User``) and the persons whose records Xueji keeps (``Student``)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from records.choices import OPEN_STATUS_STATES
from records.choices import Gender
from records.choices import IdType
from records.models.identity import PERSON_CURRENT_SQL
from records.models.identity import PERSON_GUARDED
from records.models.identity import IdentityGuarded
from records.models.identity import guard_trigger
from records.models.reference import Ethnicity
from records.names import full_name
from records.validators import validate_identity
from records.validators import validate_person_name

# A person's identity: what an approved correction of a qualification also corrects in the
# person (``records.services.student_correct``).
PERSON_FIELDS = ("name", "gender", "birth_date", "id_type", "id_number")


class User(AbstractUser):
    """A login. People's identity lives in ``Student``; roles are groups."""

    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def get_full_name(self) -> str:
        """A Chinese name family name first without a space (``last_name`` + ``first_name``:
        王小明), any other "first last" (``records.names.full_name``)."""
        return full_name(family=self.last_name, given=self.first_name)

    @property
    def display_name(self) -> str:
        """What pages, histories, the API and emails call this user: the full name, or the
        username when none is set."""
        return self.get_full_name() or self.username


class Student(IdentityGuarded):
    """A person whose records Xueji keeps (学生). Identity only: records point here.

    While the person has a current student status, their identity (``PERSON_GUARDED``)
    changes only through an identity change request (``records.models.identity``).
    """

    guarded: ClassVar[tuple[str, ...]] = PERSON_GUARDED

    name = models.CharField(
        pgettext_lazy("person", "name"), max_length=40, validators=[validate_person_name]
    )
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_type = models.CharField(
        _("ID type"), max_length=32, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = models.CharField(_("ID number"), max_length=32)
    ethnicity = models.ForeignKey(  # null: not known yet (an admission file may not say)
        Ethnicity, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("ethnic group")
    )
    email = models.EmailField(_("email"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="photos/students/%Y/", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="student",
        verbose_name=_("login"),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = {"owner": "user_id"}

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="student_unique_id")
        ]
        indexes: ClassVar = [
            # The lists' search by a name's start (``LIKE 'x%'``, whatever the collation).
            models.Index(
                fields=["name"], name="student_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]
        triggers: ClassVar = [guard_trigger(PERSON_GUARDED, PERSON_CURRENT_SQL)]

    def __str__(self) -> str:
        return self.name

    def is_identity_current(self) -> bool:
        return bool(self.statuses.filter(state__in=OPEN_STATUS_STATES).exists())

    def clean(self) -> None:
        try:
            self.id_number = validate_identity(
                id_type=self.id_type,
                id_number=self.id_number,
                birth_date=self.birth_date,
                gender=self.gender,
            )
        except ValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
