"""What several record models share: the append-only base and the scope of a student's
record at a school."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

# A student's record at a school: seen by the student, the school and the school's province.
STUDENT_RECORD_SCOPE: dict[str, str] = {
    "records.school": "school_id",
    "records.province": "province_id",
    "owner": "student__user_id",
}


class AppendOnlyModel(models.Model):
    """Rows are written once and never changed or deleted through the ORM (the PostgreSQL
    trigger of each subclass refuses it below the ORM too)."""

    append_only_message = "rows of this table are append-only"

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValidationError(self.append_only_message)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValidationError(self.append_only_message)
