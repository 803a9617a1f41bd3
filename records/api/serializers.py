"""Request and response shapes of the API shell: errors, token, account, reference data."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from records.api.errors import LockedOut
from records.choices import Gender
from records.choices import IdType
from records.converters import MAX_ID
from records.logins import lockout_of
from records.models import PERSON_FIELDS
from records.models import PROVINCE_CODE_RULE
from records.models import Ethnicity
from records.models import Major
from records.models import Province
from records.models import School
from records.models import User


def object_id_field(**kwargs: Any) -> serializers.IntegerField:
    """An object's number in a body: a positive integer that a database column can hold."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


BAD_CREDENTIALS = _("Unable to log in with provided credentials.")  # DRF's message and catalogue
UNKNOWN_PROVINCE = _("No province has the code %(code)s.")
NOT_CHANGEABLE = _("This field cannot be changed here.")
EMAIL_NEEDS_CONFIRMATION = _(
    "A new email address must be confirmed from that address: POST it to /api/v1/me/email/, "
    "which sends it a confirmation link."
)
EMAIL_CHANGE_REQUESTED = _(
    "A confirmation link was sent to %(email)s. Your address changes when it is opened, "
    "within %(days)d days; until then your emails go to your current address."
)
QUERY_MAX_LENGTH = 50


class ErrorSerializer(serializers.Serializer[Any]):
    """Every error answer under /api/ (see records/api/errors.py)."""

    code = serializers.CharField(
        help_text="Stable snake_case error code, e.g. `invalid`, `not_authenticated`, "
        "`authentication_failed`, `permission_denied`, `not_found`, `method_not_allowed`, "
        "`parse_error`, `unsupported_media_type`, `throttled`, `locked_out`, `conflict`."
    )
    detail = serializers.CharField(help_text="Human-readable message in the request's language.")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # A field named "fields" cannot be declared: it would shadow ``Serializer.fields``.
        fields = super().get_fields()
        fields["fields"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Messages per invalid input field (`non_field_errors` for the whole "
            "input; nested fields as dotted paths). Empty unless `code` is `invalid`.",
        )
        return fields


# --- Token ----------------------------------------------------------------------------------------


class TokenObtainSerializer(serializers.Serializer[Any]):
    # As long as a user name can be (and as axes' record of failed attempts keeps).
    username = serializers.CharField(write_only=True, max_length=150)
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # ModelBackend refuses inactive users, so they get the same answer as a wrong password.
        # django-axes counts the failures (the request is what it needs for that).
        request = self.context["request"]
        user = authenticate(
            request=request,
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            lockout = lockout_of(request)
            if lockout is not None:
                raise LockedOut(lockout)
            raise serializers.ValidationError(BAD_CREDENTIALS, code="authorization")
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


# --- The caller's account -------------------------------------------------------------------------


class StudentRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PersonChangeSerializer(serializers.Serializer[Any]):
    """A changed field of the person, from an approved correction or identity change."""

    field = serializers.ChoiceField(choices=[*PERSON_FIELDS, "ethnicity"])
    field_label = serializers.CharField(
        source="label", help_text="The field's label in the caller's language."
    )
    old = serializers.CharField(
        allow_blank=True,
        help_text="The value it replaced: a choice as its code, a date as YYYY-MM-DD, an ID "
        "number masked.",
    )
    new = serializers.CharField(allow_blank=True, help_text="The corrected value, likewise.")
    at = serializers.DateTimeField()
    by = serializers.CharField(help_text="Who approved the correction, by name.")
    correction = serializers.IntegerField(
        source="correction_id", allow_null=True, help_text="The correction request's id."
    )
    identity_change = serializers.IntegerField(
        source="identity_change_id",
        allow_null=True,
        help_text="The identity change request's id (`/api/v1/identity-changes/`).",
    )


class PersonSerializer(serializers.Serializer[Any]):
    """The person a student's login belongs to: their identity as it stands, the ID number
    masked, and every correction of it, newest first."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    gender = serializers.ChoiceField(choices=Gender.choices)
    birth_date = serializers.DateField()
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number_masked = serializers.CharField()
    ethnicity = serializers.CharField(help_text="Code of the ethnic group.")
    history = PersonChangeSerializer(many=True)


class MeSerializer(serializers.Serializer[Any]):
    """Who the caller is, their roles, and the schools and provinces they act for."""

    username = serializers.CharField()
    name = serializers.CharField(help_text="Full name, or the username when none is set.")
    email = serializers.EmailField(allow_blank=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES)
    superuser = serializers.BooleanField(
        help_text="A superuser sees every school and province (`schools` and `provinces` are "
        "then empty rather than listing everything) but decides only where granted."
    )
    roles = serializers.ListField(
        child=serializers.CharField(), help_text="Role groups, e.g. `school_officer`."
    )
    schools = serializers.ListField(
        child=serializers.CharField(),
        help_text="Sorted codes of the schools whose records the caller sees.",
    )
    provinces = serializers.ListField(
        child=serializers.CharField(),
        help_text="Sorted codes of the provinces whose records the caller sees.",
    )
    student = StudentRefSerializer(
        allow_null=True, help_text="The person this login belongs to, if it is a student's."
    )
    person = PersonSerializer(
        allow_null=True,
        help_text="That person's identity and the history of its corrections (null unless "
        "the login is a student's).",
    )


class MeUpdateSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("language", "email")

    def validate_email(self, value: str) -> str:
        # The current address is accepted (a client may send the whole object back); a new one
        # needs the new address's confirmation (POST /me/email/).
        if self.instance is not None and value.strip().lower() != self.instance.email.lower():
            raise serializers.ValidationError(EMAIL_NEEDS_CONFIRMATION)
        return self.instance.email if self.instance is not None else value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Say so instead of silently ignoring e.g. {"username": ...}.
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [NOT_CHANGEABLE] for name in unknown})
        return attrs


class EmailChangeSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(help_text="The new address; it gets the confirmation link.")


class EmailChangeRequestedSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(help_text="The address the confirmation link was sent to.")
    detail = serializers.CharField(help_text="What happens next, in the caller's language.")


# --- Reference data -------------------------------------------------------------------------------


class ProvinceSerializer(serializers.ModelSerializer[Province]):
    class Meta:
        model = Province
        fields = ("code", "name", "note")


class SchoolSerializer(serializers.ModelSerializer[School]):
    province = serializers.CharField(source="province_id", help_text="Province code.")
    province_name = serializers.CharField(source="province.name")

    class Meta:
        model = School
        fields = (
            "code",
            "identifier",
            "name",
            "province",
            "province_name",
            "department",
            "level",
            "remarks",
            "credit_system",
        )


class MajorSerializer(serializers.ModelSerializer[Major]):
    class Meta:
        model = Major
        fields = ("code", "name", "discipline", "class_code", "class_name", "note")


class EthnicitySerializer(serializers.ModelSerializer[Ethnicity]):
    class Meta:
        model = Ethnicity
        fields = ("code", "name", "note")


class SearchFilterSerializer(serializers.Serializer[Any]):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=QUERY_MAX_LENGTH,
        help_text="Part of the name, or the start of the code.",
    )


class SchoolFilterSerializer(SearchFilterSerializer):
    province = serializers.RegexField(
        r"^\d{2}$",
        required=False,
        error_messages={"invalid": PROVINCE_CODE_RULE},
        help_text="Province code (2 digits, GB/T 2260).",
    )

    def validate_province(self, value: str) -> str:
        if not Province.objects.filter(pk=value).exists():
            raise serializers.ValidationError(
                UNKNOWN_PROVINCE % {"code": value}, code="unknown_province"
            )
        return value
