"""Importing an admission file: each row checked (``checks``), against the rows before it and
against the database, and the valid ones written in chunks.

- ``skip_invalid`` (the default) writes each chunk's valid rows in a transaction of its own,
  so the counts grow while it runs and what was written stays if it stops.
- ``all_or_nothing`` checks the whole file first, writing only the error report; when every
  row is valid it imports them all in one transaction, otherwise nothing.

A row whose candidate number is already recorded for the same person in that year is a
*duplicate*: re-importing a file changes nothing. The file is read as a stream; a row repeating
an earlier one is found within its chunk by digests, and across chunks by the database (the
earlier row was written by this import), so nothing grows with the file; only the first pass of
``all_or_nothing``, which writes nothing, keeps an 8-byte digest per candidate number and per ID
number (about 140 MB for a million rows).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.db import connection
from django.db import transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import granted_ids
from records.admissions.checks import Lookups
from records.admissions.checks import Problem
from records.admissions.checks import check_row
from records.admissions.reading import COLUMNS
from records.admissions.reading import FileFormatError
from records.admissions.reading import Row
from records.admissions.reading import open_sheet
from records.admissions.signals import announce_import
from records.audit import audit_append
from records.choices import AdmissionState
from records.choices import ImportMode
from records.choices import ImportState
from records.models import AdmissionImport
from records.models import AdmissionImportError
from records.models import AdmissionRecord
from records.models import School
from records.models import Student
from records.models import User

logger = logging.getLogger(__name__)

CHUNK = 1000

_COPY_PEOPLE = (
    "COPY records_student (id, name, gender, birth_date, id_type, id_number, ethnicity_id, "
    "email, photo, created, updated) FROM STDIN"
)
_COPY_ADMISSIONS = (
    "COPY records_admissionrecord (student_id, candidate_number, school_id, province_id, "
    "origin_province_id, admission_year, major_code, major_name, level, learning_form, "
    "study_length, admission_type_id, state, reason, batch_id, created, updated) FROM STDIN"
)

REPEATED_CANDIDATE = _("This candidate number is on an earlier row of the file.")
REPEATED_ID = _("This ID number is on an earlier row of the file.")
CANDIDATE_TAKEN = _(
    "The candidate number %(number)s is already recorded for %(year)d for another person."
)
ID_CONFLICT = _(
    "This ID number is already recorded for %(name)s, born %(birth)s: name, gender and birth "
    "date must agree with it."
)
ADMITTED_ELSEWHERE = _(
    "This person is already admitted for %(year)d (candidate number %(number)s)."
)
UNREADABLE_ROW = _("The file cannot be read past row %(row)d: %(error)s")
INTERNAL_ERROR = _("The import stopped on an error of ours; it is logged. Rows written stay.")
NOT_AN_IMPORTER = _("Only an officer of a school may import admissions.")


def _digest(*parts: object) -> int:
    joined = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(joined, digest_size=8).digest(), "big")


@dataclass
class Counts:
    total: int = 0
    imported: int = 0
    duplicates: int = 0
    invalid: int = 0


class Importer:
    """One run over one file (``run_import``)."""

    def __init__(self, batch: AdmissionImport, lookups: Lookups, *, write: bool) -> None:
        self.batch = batch
        self.lookups = lookups
        self.write = write
        self.counts = Counts()
        self.candidates_seen: set[int] = set()
        self.ids_seen: set[int] = set()
        self.labels: dict[str, str] = {}
        self._keys: list[tuple[set[int], int]] = []  # the digests the current chunk added

    # --- one chunk --------------------------------------------------------------------------
    def chunk(self, rows: list[Row]) -> None:
        self._keys = []
        problems: list[tuple[int, Problem]] = []
        checked: list[tuple[Row, dict[str, Any]]] = []
        for row in rows:
            clean, found = check_row(row.values, self.lookups)
            found += self._repeats(clean)
            if found:
                problems += [(row.number, problem) for problem in found]
            else:
                checked.append((row, clean))
        fresh, more = self._against_the_database(checked)
        problems += more
        self.counts.total += len(rows)
        self.counts.invalid += len({number for number, _problem in problems})
        if self.write and fresh:
            self._create(fresh)
        self.counts.imported += len(fresh) if self.write else 0
        if self.write:
            # What this chunk wrote, the database now finds (``_against_the_database``): only
            # a check without writes (``all_or_nothing``'s first pass) keeps every digest.
            self.candidates_seen.clear()
            self.ids_seen.clear()
        AdmissionImportError.objects.bulk_create(
            AdmissionImportError(
                batch=self.batch,
                row=number,
                column=self.labels.get(problem.column, problem.column),
                code=problem.code,
                message=problem.message,
            )
            for number, problem in problems
        )

    def _repeats(self, clean: dict[str, Any]) -> list[Problem]:
        found = []
        if clean.get("candidate_number") and clean.get("admission_year"):
            key = _digest(clean["admission_year"], clean["candidate_number"])
            if key in self.candidates_seen:
                found.append(Problem("candidate_number", "repeated", str(REPEATED_CANDIDATE)))
            else:
                self.candidates_seen.add(key)
                self._keys.append((self.candidates_seen, key))
        if clean.get("id_number") and clean.get("id_type"):
            key = _digest(clean["id_type"], clean["id_number"])
            if key in self.ids_seen:
                found.append(Problem("id_number", "repeated", str(REPEATED_ID)))
            else:
                self.ids_seen.add(key)
                self._keys.append((self.ids_seen, key))
        return found

    def _against_the_database(
        self, checked: list[tuple[Row, dict[str, Any]]]
    ) -> tuple[list[dict[str, Any]], list[tuple[int, Problem]]]:
        """The rows to create (each with its person's pk, or None for a new person) and the
        problems found; duplicates are counted."""
        if not checked:
            return [], []
        admitted = {
            (a["admission_year"], a["candidate_number"]): a
            for a in AdmissionRecord.objects.filter(
                candidate_number__in={clean["candidate_number"] for _row, clean in checked},
                admission_year__in={clean["admission_year"] for _row, clean in checked},
            ).values(
                "admission_year",
                "candidate_number",
                "student__id_type",
                "student__id_number",
                "batch_id",
            )
        }
        people = {
            (p["id_type"], p["id_number"]): p
            for p in Student.objects.filter(
                id_number__in={clean["id_number"] for _row, clean in checked}
            ).values("pk", "id_type", "id_number", "name", "gender", "birth_date")
        }
        years_of = {
            (a["student_id"], a["admission_year"]): a
            for a in AdmissionRecord.objects.filter(
                student_id__in=[p["pk"] for p in people.values()],
            ).values("student_id", "admission_year", "candidate_number", "batch_id")
        }
        fresh, problems = [], []
        for row, clean in checked:
            year, number = clean["admission_year"], clean["candidate_number"]
            identity = (clean["id_type"], clean["id_number"])
            existing = admitted.get((year, number))
            if existing is not None and existing["batch_id"] == self.batch.pk:
                # Written from an earlier chunk of this file: a repeat, found here rather than
                # by keeping every candidate number of the file in memory.
                problems.append(
                    (row.number, Problem("candidate_number", "repeated", str(REPEATED_CANDIDATE)))
                )
                continue
            if existing is not None:
                if (existing["student__id_type"], existing["student__id_number"]) == identity:
                    self.counts.duplicates += 1
                else:
                    problems.append(
                        (
                            row.number,
                            Problem(
                                "candidate_number",
                                "candidate_taken",
                                str(CANDIDATE_TAKEN % {"number": number, "year": year}),
                            ),
                        )
                    )
                continue
            person = people.get(identity)
            if person is not None:
                if (person["name"], person["gender"], person["birth_date"]) != (
                    clean["name"],
                    clean["gender"],
                    clean["birth_date"],
                ):
                    message = ID_CONFLICT % {
                        "name": person["name"],
                        "birth": person["birth_date"].isoformat(),
                    }
                    problems.append((row.number, Problem("id_number", "id_conflict", str(message))))
                    continue
                other = years_of.get((person["pk"], year))
                if other is not None and other["batch_id"] == self.batch.pk:
                    problems.append(
                        (row.number, Problem("id_number", "repeated", str(REPEATED_ID)))
                    )
                    continue
                if other is not None:
                    message = ADMITTED_ELSEWHERE % {
                        "year": year,
                        "number": other["candidate_number"],
                    }
                    problems.append(
                        (row.number, Problem("id_number", "admitted_elsewhere", str(message)))
                    )
                    continue
            fresh.append({**clean, "person": person["pk"] if person else None, "row": row.number})
        return fresh, problems

    def _create(self, fresh: list[dict[str, Any]]) -> None:
        if connection.vendor == "postgresql":
            self._copy(fresh)
            return
        new_people = [
            Student(
                name=clean["name"],
                gender=clean["gender"],
                birth_date=clean["birth_date"],
                id_type=clean["id_type"],
                id_number=clean["id_number"],
                ethnicity=clean["ethnicity"],
            )
            for clean in fresh
            if clean["person"] is None
        ]
        Student.objects.bulk_create(new_people)
        created = iter(new_people)
        AdmissionRecord.objects.bulk_create(
            AdmissionRecord(
                student_id=clean["person"] or next(created).pk,
                candidate_number=clean["candidate_number"],
                school=clean["school"],
                province_id=clean["school"].province_id,
                origin_province=clean["origin_province"],
                admission_year=clean["admission_year"],
                major_code=clean["major_code"],
                major_name=clean["major_name"],
                level=clean["level"],
                learning_form=clean["learning_form"],
                study_length=clean["study_length"],
                admission_type=clean["admission_type"],
                batch=self.batch,
            )
            for clean in fresh
        )

    def _copy(self, fresh: list[dict[str, Any]]) -> None:
        """PostgreSQL: the same rows by ``COPY``, the new persons' ids drawn from their
        sequence first (a third of ``bulk_create``'s time: no SQL to compile, no RETURNING)."""
        now = timezone.now()
        new = [clean for clean in fresh if clean["person"] is None]
        # Django's exceptions (``IntegrityError``) also for COPY, which its wrapper leaves raw.
        with connection.wrap_database_errors, connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Student._meta.db_table, len(new)],
            )
            for clean, (pk,) in zip(new, cursor.fetchall(), strict=True):
                clean["person"] = pk
            with cursor.copy(_COPY_PEOPLE) as copy:
                for clean in new:
                    ethnicity = clean["ethnicity"]
                    copy.write_row(
                        (
                            clean["person"],
                            clean["name"],
                            clean["gender"],
                            clean["birth_date"],
                            clean["id_type"],
                            clean["id_number"],
                            ethnicity.pk if ethnicity else None,
                            "",
                            "",
                            now,
                            now,
                        )
                    )
            with cursor.copy(_COPY_ADMISSIONS) as copy:
                for clean in fresh:
                    admission_type = clean["admission_type"]
                    copy.write_row(
                        (
                            clean["person"],
                            clean["candidate_number"],
                            clean["school"].pk,
                            clean["school"].province_id,
                            clean["origin_province"].pk,
                            clean["admission_year"],
                            clean["major_code"],
                            clean["major_name"],
                            clean["level"],
                            clean["learning_form"],
                            clean["study_length"],
                            admission_type.pk if admission_type else None,
                            AdmissionState.ADMITTED,
                            "",
                            self.batch.pk,
                            now,
                            now,
                        )
                    )

    # --- the whole file ---------------------------------------------------------------------
    def run(self, rows: Iterator[Row], *, atomic_chunks: bool) -> None:
        chunk: list[Row] = []
        last = 1
        try:
            for row in rows:
                chunk.append(row)
                last = row.number
                if len(chunk) == CHUNK:
                    self._flush(chunk, atomic=atomic_chunks)
                    chunk = []
        except (UnicodeDecodeError, ValueError) as exc:  # a broken CSV or workbook midway
            raise FileFormatError(str(UNREADABLE_ROW % {"row": last + 1, "error": exc})) from exc
        if chunk:
            self._flush(chunk, atomic=atomic_chunks)

    def _flush(self, chunk: list[Row], *, atomic: bool) -> None:
        if not atomic:
            self.chunk(chunk)
            return
        before = Counts(**vars(self.counts))
        try:
            with transaction.atomic():
                self.chunk(chunk)
                self.save_counts()
        except IntegrityError:
            # Another import wrote some of these rows meanwhile: checked again, they are its
            # duplicates (or conflicts) now.
            self.counts = before
            for seen, key in self._keys:
                seen.discard(key)
            with transaction.atomic():
                self.chunk(chunk)
                self.save_counts()

    def save_counts(self) -> None:
        for name, value in vars(self.counts).items():
            setattr(self.batch, name, value)
        self.batch.save(update_fields=[*vars(self.counts), "state"])


def allowed_schools(user: User) -> frozenset[str] | None:
    """The codes of the schools ``user`` may import for (``None``: every school)."""
    ids = granted_ids(user, codenames.REVIEW_SCHOOL)
    return None if ids is None else frozenset(str(pk) for pk in ids)


def importer_schools(user: User) -> frozenset[str] | None:
    """``allowed_schools``, refusing a user who acts for no school (the upload's check)."""
    codes = allowed_schools(user)
    if codes is not None and not codes:
        raise PermissionDenied(NOT_AN_IMPORTER)
    return codes


def visible_imports(user: Any) -> QuerySet[AdmissionImport]:
    """The imports ``user`` may follow: their own (a superuser's: every one), newest first."""
    imports = AdmissionImport.objects.select_related("school")
    if not user.is_superuser:
        imports = imports.filter(uploaded_by=user)
    return imports.order_by("-created", "-pk")


def run_import(
    batch_pk: int, *, progress: Callable[[AdmissionImport], None] | None = None
) -> AdmissionImport:
    """Run a queued import to its end (``done``, or ``failed`` with the reason)."""
    # Claimed once: a second worker handed the same import (the sweep) finds it taken.
    claimed = AdmissionImport.objects.filter(pk=batch_pk, state=ImportState.QUEUED).update(
        state=ImportState.RUNNING, started=timezone.now()
    )
    batch = AdmissionImport.objects.select_related("uploaded_by", "school").get(pk=batch_pk)
    if not claimed:
        return batch
    user = batch.uploaded_by
    with translation.override(user.language if user else settings.LANGUAGE_CODE):
        lookups = Lookups.load(
            allowed_schools=allowed_schools(user) if user else None,
            chosen_school=batch.school_id,
        )
        try:
            _run(batch, lookups, progress)
        except FileFormatError as problem:
            batch.state, batch.failure = ImportState.FAILED, problem.message
        except Exception:
            logger.exception("admission import %s failed", batch.pk)
            batch.state, batch.failure = ImportState.FAILED, str(INTERNAL_ERROR)
        else:
            batch.state = ImportState.DONE
        batch.finished = timezone.now()
        batch.save()
        with transaction.atomic():
            audit_append(
                subject=batch,
                action="admissions.imported",
                actor=user,
                data={
                    "file": batch.original_name,
                    "mode": batch.mode,
                    "state": batch.state,
                    "total": batch.total,
                    "imported": batch.imported,
                    "duplicates": batch.duplicates,
                    "invalid": batch.invalid,
                },
                subject_locked=True,
            )
    announce_import(batch)  # the workflows open the reviews of its cohorts
    return batch


def _run(
    batch: AdmissionImport,
    lookups: Lookups,
    progress: Callable[[AdmissionImport], None] | None,
) -> None:
    def read(importer: Importer) -> Iterator[Row]:
        with batch.file.open("rb") as handle:
            sheet = open_sheet(handle)
            importer.labels = sheet.labels
            yield from sheet.rows

    if batch.mode == ImportMode.ALL_OR_NOTHING:
        check = Importer(batch, lookups, write=False)
        check.run(_reporting(read(check), check, progress), atomic_chunks=True)
        if check.counts.invalid:
            return
        with transaction.atomic():
            importer = Importer(batch, lookups, write=True)
            importer.run(read(importer), atomic_chunks=False)
            importer.save_counts()
        return
    importer = Importer(batch, lookups, write=True)
    importer.run(_reporting(read(importer), importer, progress), atomic_chunks=True)


def _reporting(
    rows: Iterator[Row], importer: Importer, progress: Callable[[AdmissionImport], None] | None
) -> Iterator[Row]:
    for number, row in enumerate(rows, start=1):
        if progress is not None and number % CHUNK == 1:
            progress(importer.batch)
        yield row


def queue_import(
    *,
    upload: UploadedFile | Any,
    name: str,
    user: User | None,
    mode: str = ImportMode.SKIP_INVALID,
    school: School | None = None,
) -> AdmissionImport:
    """Store the file and record the import, ``queued``; the caller runs or queues it."""
    batch = AdmissionImport(uploaded_by=user, school=school, mode=mode, original_name=name[:200])
    batch.file.save(f"admissions-{timezone.now():%Y%m%d%H%M%S}.dat", upload, save=False)
    batch.save()
    return batch


def error_report(batch: AdmissionImport) -> Iterator[bytes]:
    """The import's errors as CSV lines, UTF-8 with a BOM (Excel then reads the Chinese)."""
    yield codecs.BOM_UTF8
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["row", "column", "code", "message"])
    rows = batch.errors.order_by("row", "pk").values_list("row", "column", "code", "message")
    for number, line in enumerate(rows.iterator(chunk_size=2000)):
        writer.writerow(line)
        if number % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def error_report_response(batch: AdmissionImport) -> StreamingHttpResponse:
    """The error report as a CSV download (the API's and the page's)."""
    response = StreamingHttpResponse(error_report(batch), content_type="text/csv; charset=utf-8")
    name = f"admission-import-{batch.pk}-errors.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


__all__ = [
    "COLUMNS",
    "NOT_AN_IMPORTER",
    "allowed_schools",
    "error_report",
    "error_report_response",
    "importer_schools",
    "queue_import",
    "run_import",
    "visible_imports",
]
