"""Freshmen for the claim tests: admissions imported by the real import, and the claim each of
them would type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.cache import cache

from records.models import AdmissionRecord
from tests.records import admission_files as files

PASSWORD = "a long passphrase 42"


def admitted(*rows: dict[str, str]) -> list[AdmissionRecord]:
    """Import ``rows`` (``admission_files.row``) for school 10001 (needs ``places``); their
    admissions, in the order given."""
    files.reference()
    batch = files.imported(files.csv_bytes(list(rows)), None)
    assert batch.imported == len(rows), files.errors_of(batch)
    by_number = {
        a.candidate_number: a
        for a in AdmissionRecord.objects.filter(batch=batch).select_related("student", "school")
    }
    return [by_number[row["candidate_number"]] for row in rows]


def claim_of(row: dict[str, str], **overrides: Any) -> dict[str, str]:
    """What the freshman of ``row`` types to claim their account."""
    values = {
        "candidate_number": row["candidate_number"],
        "id_number": row["id_number"],
        "name": row["name"],
        "username": f"fresh{row['candidate_number'][-4:]}",
        "email": f"fresh{row['candidate_number'][-4:]}@example.org",
        "password": PASSWORD,
    }
    values.update(overrides)
    return values


def fresh_cache() -> Iterator[None]:
    """For an autouse fixture: failed claims are counted in the cache, none before or after
    a test (a Redis cache, unlike the database's table, is not rolled back with the test)."""
    cache.clear()
    yield
    cache.clear()
