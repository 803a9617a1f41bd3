"""The programme an admission names and its student status copies is declared once
(``records.models.Programme``), so the two records cannot drift apart; and no model change is
left without its migration."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import models

from records.models import AdmissionRecord
from records.models import Programme
from records.models import StudentStatus

PROGRAMME_FIELDS = {
    "major_code",
    "major_name",
    "level",
    "learning_form",
    "study_length",
    "admission_type",
}


@pytest.mark.django_db
def test_the_programme_is_declared_once_for_both_records_with_no_migration_left():
    assert Programme._meta.abstract
    assert {f.name for f in Programme._meta.get_fields()} == PROGRAMME_FIELDS
    for model in (AdmissionRecord, StudentStatus):
        assert issubclass(model, Programme)
        for name in PROGRAMME_FIELDS:
            field = model._meta.get_field(name)
            declared = Programme._meta.get_field(name)
            assert isinstance(field, models.Field)
            assert isinstance(declared, models.Field)
            assert field.deconstruct()[1:] == declared.deconstruct()[1:], (model, name)
            # The base's own declaration, not one of the model's that looks alike.
            assert field.creation_counter == declared.creation_counter

    # What differs between the two stays declared on each.
    on_admission = AdmissionRecord._meta.get_field("candidate_number")
    on_status = StudentStatus._meta.get_field("candidate_number")
    assert isinstance(on_admission, models.Field)
    assert isinstance(on_status, models.Field)
    assert (on_admission.blank, on_status.blank) == (False, True)
    # The move changed no field: no migration is left to write.
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
