"""Importing admission files: formats and encodings, every check, both modes, re-import."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.db import transaction

from records.choices import AdmissionState
from records.choices import StatusState
from records.models import AdmissionRecord
from records.models import Student
from records.models import StudentStatus
from tests import factories
from tests.records.admission_files import csv_bytes
from tests.records.admission_files import errors_of
from tests.records.admission_files import imported
from tests.records.admission_files import reference
from tests.records.admission_files import row
from tests.records.admission_files import xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(places):
    reference()
    return factories.officer(places.pku, "officer_10001")


def _counts(batch):
    return batch.state, batch.total, batch.imported, batch.duplicates, batch.invalid


class TestFormats:
    @pytest.mark.parametrize(
        ("encoding", "chinese"),
        [("utf-8", False), ("utf-8-sig", True), ("gbk", True), ("utf-8", True)],
        ids=["utf8-english", "utf8-bom-chinese", "gbk-chinese", "utf8-chinese"],
    )
    def test_csv_in_every_encoding_imports_each_row(self, officer, encoding, chinese):
        rows = [row(1), row(2, name="阿依古丽·买买提"), row(3)]

        batch = imported(csv_bytes(rows, encoding=encoding, chinese=chinese), officer)

        assert _counts(batch) == ("done", 3, 3, 0, 0), errors_of(batch)
        admission = AdmissionRecord.objects.get(candidate_number=rows[1]["candidate_number"])
        assert admission.student.name == "阿依古丽·买买提"
        assert admission.state == AdmissionState.ADMITTED
        assert (admission.school_id, admission.province_id, admission.admission_year) == (
            "10001",
            "11",
            2026,
        )
        assert (admission.level, admission.learning_form, admission.study_length) == (
            "bachelor",
            "full_time",
            "4",
        )

    def test_xlsx_imports_each_row(self, officer):
        batch = imported(xlsx_bytes([row(1), row(2)]), officer, name="freshmen.xlsx")

        assert _counts(batch) == ("done", 2, 2, 0, 0), errors_of(batch)

    def test_a_file_without_a_required_column_fails_naming_it(self, officer):
        content = csv_bytes([row(1)]).replace(b"candidate_number,", b"number,", 1)

        batch = imported(content, officer)

        assert batch.state == "failed"
        assert "candidate_number（考生号）" in batch.failure
        assert AdmissionRecord.objects.count() == 0

    def test_a_file_that_is_neither_csv_nor_xlsx_fails(self, officer):
        batch = imported(b"PK\x03\x04 not a workbook", officer, name="x.xlsx")

        assert batch.state == "failed"
        assert "XLSX" in batch.failure

    def test_blank_lines_are_no_rows(self, officer):
        content = csv_bytes([row(1)]) + b",,,,,,,,,,,,,,\r\n\r\n"

        assert _counts(imported(content, officer)) == ("done", 1, 1, 0, 0)


class TestChecks:
    @pytest.mark.parametrize(
        ("overrides", "column", "code"),
        [
            ({"candidate_number": "26110001"}, "candidate_number", "format"),
            ({"candidate_number": "25110000000001"}, "candidate_number", "candidate_year"),
            ({"candidate_number": "26310000000001"}, "candidate_number", "candidate_province"),
            ({"name": ""}, "name", "required"),
            ({"name": "王<b>"}, "name", "name"),
            ({"gender": "x"}, "gender", "invalid_choice"),
            ({"birth_date": "2007-13-01"}, "birth_date", "invalid_date"),
            ({"birth_date": "2006-01-01"}, "birth_date", "birth_date_mismatch"),
            ({"gender": "男"}, "gender", "gender_mismatch"),  # row 2 is a woman
            ({"id_number": "110108200701010011"}, "id_number", "checksum"),
            ({"id_type": "驾驶证"}, "id_type", "invalid_choice"),
            ({"school_code": "99999"}, "school_code", "unknown"),
            ({"school_code": "10003"}, "school_code", "out_of_scope"),
            ({"major_code": "999999"}, "major_code", "unknown"),
            ({"major_name": "软件工程"}, "major_name", "mismatch"),
            ({"level": "初中"}, "level", "invalid_choice"),
            ({"study_length": "9"}, "study_length", "invalid_choice"),
            ({"learning_form": "自学"}, "learning_form", "invalid_choice"),
            ({"admission_type": "特招"}, "admission_type", "unknown"),
            ({"admission_type": "国防生"}, "admission_type", "retired"),
            ({"admission_year": "1800"}, "admission_year", "invalid_year"),
            ({"origin_province": "火星"}, "origin_province", "unknown"),
        ],
    )
    def test_each_rule_is_reported_on_its_row_and_column(self, officer, overrides, column, code):
        batch = imported(csv_bytes([row(1), row(2, **overrides)]), officer)

        assert _counts(batch) == ("done", 2, 1, 0, 1)
        assert (3, column, code) in errors_of(batch), errors_of(batch)
        error = batch.errors.get(code=code)
        assert error.message  # a sentence, in the uploader's language

    def test_the_report_names_the_files_own_headers(self, officer):
        batch = imported(csv_bytes([row(1, gender="x")], encoding="gbk", chinese=True), officer)

        assert errors_of(batch) == [(2, "性别", "invalid_choice")]
        assert "男" in batch.errors.get().message  # the choices, in Chinese

    def test_labels_codes_and_aliases_are_accepted(self, officer):
        rows = [
            row(1, gender="male", level="bachelor", learning_form="full_time"),
            row(2, gender="2", level="Undergraduate (bachelor's)", id_type="居民身份证"),
            row(3, admission_type="国家专项计划", origin_province="北京市"),
            row(4, birth_date=row(4)["birth_date"].replace("-", ""), major_name=""),
        ]

        batch = imported(csv_bytes(rows), officer)

        assert _counts(batch) == ("done", 4, 4, 0, 0), errors_of(batch)
        third = AdmissionRecord.objects.get(candidate_number=rows[2]["candidate_number"])
        assert third.admission_type_id == "national_special_plan"

    def test_a_row_repeating_an_earlier_one_is_reported(self, officer):
        rows = [row(1), row(2, candidate_number=row(1)["candidate_number"]), row(3)]
        rows.append(row(4, id_number=row(3)["id_number"], birth_date=row(3)["birth_date"]))
        rows[3]["gender"] = rows[2]["gender"]

        batch = imported(csv_bytes(rows), officer)

        assert _counts(batch) == ("done", 4, 2, 0, 2)
        assert (3, "candidate_number", "repeated") in errors_of(batch)
        assert (5, "id_number", "repeated") in errors_of(batch)


class TestAgainstTheDatabase:
    def test_re_importing_the_same_file_changes_nothing(self, officer):
        content = csv_bytes([row(1), row(2), row(3)])
        imported(content, officer)
        people = Student.objects.count()

        again = imported(content, officer)

        assert _counts(again) == ("done", 3, 0, 3, 0)
        assert AdmissionRecord.objects.count() == 3
        assert Student.objects.count() == people

    def test_a_candidate_number_of_another_person_is_refused(self, officer):
        imported(csv_bytes([row(1)]), officer)
        other = row(2, candidate_number=row(1)["candidate_number"])

        batch = imported(csv_bytes([other]), officer)

        assert errors_of(batch) == [(2, "candidate_number", "candidate_taken")]

    def test_an_id_number_recorded_with_another_name_is_refused(self, officer):
        imported(csv_bytes([row(1)]), officer)
        renamed = row(1, candidate_number="26110000009999", name="王另名")

        batch = imported(csv_bytes([renamed]), officer)

        assert errors_of(batch) == [(2, "id_number", "id_conflict")]
        assert row(1)["name"] in batch.errors.get().message

    def test_a_person_admitted_elsewhere_the_same_year_is_refused(self, officer, places):
        thu = factories.officer(places.thu)
        imported(csv_bytes([row(1, school_code="10003")]), thu)

        batch = imported(csv_bytes([row(1, candidate_number="26110000009999")]), officer)

        assert errors_of(batch) == [(2, "id_number", "admitted_elsewhere")]

    def test_a_known_person_admitted_again_in_another_year_keeps_one_person(self, officer):
        imported(csv_bytes([row(1)]), officer)
        later = row(1, candidate_number="27110000000001", admission_year="2027")

        batch = imported(csv_bytes([later]), officer)

        assert _counts(batch) == ("done", 1, 1, 0, 0), errors_of(batch)
        assert Student.objects.count() == 1
        assert Student.objects.get().admissions.count() == 2


class TestModes:
    def test_skip_invalid_imports_the_valid_rows(self, officer):
        batch = imported(csv_bytes([row(1), row(2, gender="?"), row(3)]), officer)

        assert _counts(batch) == ("done", 3, 2, 0, 1)

    def test_all_or_nothing_imports_nothing_when_a_row_is_invalid(self, officer):
        batch = imported(
            csv_bytes([row(1), row(2, gender="?"), row(3)]), officer, mode="all_or_nothing"
        )

        assert _counts(batch) == ("done", 3, 0, 0, 1)
        assert errors_of(batch) == [(3, "gender", "invalid_choice")]
        assert AdmissionRecord.objects.count() == 0
        assert Student.objects.count() == 0

    def test_all_or_nothing_imports_everything_when_every_row_is_valid(self, officer):
        rows = [row(n) for n in range(1, 2503)]  # three chunks

        batch = imported(csv_bytes(rows), officer, mode="all_or_nothing")

        assert _counts(batch) == ("done", 2502, 2502, 0, 0)
        assert AdmissionRecord.objects.count() == 2502

    def test_chunks_keep_finding_repeats_across_their_borders(self, officer):
        rows = [row(n) for n in range(1, 1003)]
        rows.append(row(2000, candidate_number=rows[0]["candidate_number"]))

        batch = imported(csv_bytes(rows), officer)

        assert _counts(batch) == ("done", 1003, 1002, 0, 1)
        assert errors_of(batch) == [(1004, "candidate_number", "repeated")]


def test_the_command_imports_a_file_with_progress_and_counts(officer, tmp_path, capsys):
    path = tmp_path / "freshmen.csv"
    path.write_bytes(csv_bytes([row(1), row(2, gender="?")], encoding="gbk", chinese=True))

    call_command("import_admissions", str(path), "--school", "10001")

    out, err = capsys.readouterr()
    assert "done: 2 rows, 1 imported, 0 duplicates, 1 invalid" in out
    assert "row 3, 性别" in out
    assert "rows" in err  # the progress bar


def test_the_command_refuses_an_unknown_school(officer, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "freshmen.csv"
    path.write_bytes(csv_bytes([row(1)]))

    with pytest.raises(CommandError, match="no school has the code 99999"):
        call_command("import_admissions", str(path), "--school", "99999")


def test_one_current_full_time_status_per_person(places):
    person = factories.student("王小明")
    common = {
        "student": person,
        "province": places.bj,
        "level": "bachelor",
        "major_code": "080901",
        "major_name": "计算机科学与技术",
        "learning_form": "full_time",
        "study_length": "4",
        "entry_date": "2026-09-01",
        "expected_graduation": "2030-07-01",
    }
    StudentStatus.objects.create(school=places.pku, student_number="2026000001", **common)

    with pytest.raises(IntegrityError), transaction.atomic():
        StudentStatus.objects.create(school=places.thu, student_number="2026000001", **common)
    part_time = {**common, "learning_form": "part_time"}
    StudentStatus.objects.create(school=places.thu, student_number="2026000002", **part_time)
    assert StudentStatus.objects.filter(state=StatusState.ENROLLED).count() == 2
