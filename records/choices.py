"""Enumerations of the regulation, stored with English identifiers and Chinese labels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
