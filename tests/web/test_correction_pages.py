"""The correction pages: filing, following, deciding; 404 for everyone else."""

from __future__ import annotations

import io
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from notifications.models import Notification
from records.models import AuditEvent
from records.models import CorrectionEvidence
from records.models import CorrectionRequest
from records.models import Qualification
from records.models import User
from tests import factories
from workflows import work
from workflows.flows.correction import CorrectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bj, sh = places.bj, places.sh
    pku = places.pku
    thu = places.thu
    fdu = places.fdu
    a = factories.user("student_a", language="en")
    c = factories.user("student_c")
    return {
        "q": factories.qualification(factories.student("王小明", login=a), pku),
        "student_a": a,
        "student_c": c,
        "qc": factories.qualification(factories.student("李娜", login=c), fdu),
        "officer_10001": factories.officer(pku, "officer_10001", language="en"),
        "officer_10003": factories.officer(thu, "officer_10003"),
        "province_11": factories.provincial_admin(bj, "province_11", language="en"),
        "province_31": factories.provincial_admin(sh, "province_31"),
    }


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return SimpleUploadedFile("户口本.png", buffer.getvalue(), content_type="image/png")


def _file(world, **extra):
    data = {"field_0": "name", "value_0": "王晓明", "reason": "录入错误", **extra}
    return _client(world["student_a"]).post(f"/corrections/qualifications/{world['q'].pk}/", data)


def _task(node):
    return Task.objects.get(flow_task=node, status=STATUS.NEW)


@dataclass
class Input:
    tag: str
    attrs: dict[str, str | None]
    options: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    text: str = ""


class _Inputs(HTMLParser):
    """The named inputs, selects and textareas of a page, by name (the value widgets kept in
    a <template> for the script have no name)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, Input] = {}
        self.open: Input | None = None

    def handle_starttag(self, tag, attrs):
        named = dict(attrs)
        if tag in ("input", "select", "textarea") and named.get("name"):
            self.found[named["name"]] = self.open = Input(tag, named)
        elif tag == "option" and self.open is not None and self.open.tag == "select":
            self.open.options.append(named.get("value") or "")
            if "selected" in named:
                self.open.selected.append(named.get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("select", "textarea"):
            self.open = None

    def handle_data(self, data):
        if self.open is not None and self.open.tag == "textarea":
            self.open.text += data


def _inputs(html: str) -> dict[str, Input]:
    parser = _Inputs()
    parser.feed(html)
    return parser.found


def _summary(html: str) -> str:
    return html.split('id="error-summary"')[1].split("</div>", maxsplit=1)[0]


def test_the_whole_path_through_the_pages(world):
    response = _client(world["student_a"]).post(
        f"/corrections/qualifications/{world['q'].pk}/",
        {
            "field_0": "name",
            "value_0": "王晓明",
            "field_1": "study_length",
            "value_1": "5",
            "reason": "录入错误",
            "evidence": [_png()],
        },
    )
    correction = CorrectionRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/corrections/{correction.pk}/"
    assert [c["field"] for c in correction.changes] == ["name", "study_length"]
    assert correction.evidence.count() == 1

    officer = _client(world["officer_10001"])
    tasks = officer.get("/work/").content.decode()
    review = _task(CorrectionFlow.school_review)
    assert f"/work/{review.pk}/" in tasks
    page = officer.get(f"/work/{review.pk}/").content.decode()
    assert "王小明" in page
    assert "王晓明" in page
    assert "户口本.png" in page
    bad = officer.post(f"/work/{review.pk}/", {"decision": "reject", "comment": ""})
    assert bad.status_code == 200
    assert "comment is required" in bad.content.decode()
    done = officer.post(f"/work/{review.pk}/", {"decision": "approve"})
    assert done.status_code == 302
    assert done["Location"] == "/work/"  # nothing else waits: back to the work list

    signoff = _task(CorrectionFlow.province_signoff)
    _client(world["province_11"]).post(
        f"/work/{signoff.pk}/", {"decision": "approve", "comment": "ok"}
    )
    correction.refresh_from_db()
    assert correction.state == "approved"
    final = _client(world["student_a"]).get(f"/corrections/qualifications/{world['q'].pk}/")
    text = final.content.decode()
    assert Qualification.objects.get(pk=world["q"].pk).name == "王晓明"
    assert "王晓明" in text
    revisions = text.split('id="revisions"')[1]
    assert "王小明" in revisions  # the old name, kept in the history


def test_errors_are_shown_next_to_the_field_and_the_input_is_kept(world):
    response = _file(world, field_0="birth_date", value_0="yesterday")
    assert response.status_code == 200
    text = response.content.decode()
    assert "YYYY-MM-DD" in text
    value = _inputs(text)["value_0"].attrs  # typed without JavaScript: kept, as text
    assert (value["type"], value["value"]) == ("text", "yesterday")
    assert "录入错误" in text
    assert not CorrectionRequest.objects.exists()
    response = _file(world, reason="")
    assert "This field is required" in response.content.decode()


def test_a_second_open_request_shows_the_conflict(world):
    _file(world)
    response = _file(world, field_0="gender", value_0="female")
    assert response.status_code == 200
    assert "open correction request" in response.content.decode()
    assert CorrectionRequest.objects.count() == 1


def test_return_resubmit_and_withdraw(world):
    _file(world)
    correction = CorrectionRequest.objects.get()
    work.decide(
        task_pk=_task(CorrectionFlow.school_review).pk,
        user=world["officer_10001"],
        decision="return",
        comment="请附证明",
    )
    student = _client(world["student_a"])
    page = student.get(f"/corrections/{correction.pk}/").content.decode()
    assert 'id="resubmit"' in page
    assert "请附证明" in page
    student.post(
        f"/corrections/{correction.pk}/",
        {"action": "resubmit", "field_0": "name", "value_0": "王晓鸣", "reason": "已附"},
    )
    correction.refresh_from_db()
    assert (correction.state, correction.changes[0]["new"]) == ("submitted", "王晓鸣")
    student.post(f"/corrections/{correction.pk}/", {"action": "withdraw", "confirm": "yes"})
    correction.refresh_from_db()
    assert correction.state == "withdrawn"


# Who may see student_a's pages (school 10001, province 11).
ALLOWED = {"student_a", "officer_10001", "province_11"}
EVERYONE = [
    "student_a",
    "student_c",
    "officer_10001",
    "officer_10003",
    "province_11",
    "province_31",
]


@pytest.mark.parametrize("who", EVERYONE)
def test_the_permission_matrix_of_the_pages(world, who):
    _file(world, evidence=[_png()])
    correction = CorrectionRequest.objects.get()
    client = _client(world[who])
    expected = 200 if who in ALLOWED else 404
    assert client.get(f"/corrections/qualifications/{world['q'].pk}/").status_code == expected
    assert client.get(f"/corrections/{correction.pk}/").status_code == expected
    evidence = correction.evidence.get()
    assert client.get(f"/corrections/evidence/{evidence.pk}/").status_code == expected
    review = _task(CorrectionFlow.school_review)
    task_status = 200 if who == "officer_10001" else 404
    assert client.get(f"/work/{review.pk}/").status_code == task_status
    assert client.post(f"/work/{review.pk}/", {"decision": "approve"}).status_code in (
        {task_status, 302} - {200}
    )
    if who != "officer_10001":
        assert Task.objects.get(pk=review.pk).status == STATUS.NEW


def test_the_corrections_menu_entry_leads_to_the_corrections_page_from_everywhere(world):
    """viewflow's menu links each application to its "index" URL: from the home page and the
    account pages the entry must lead to /corrections/, not back to the page itself."""
    client = _client(world["student_a"])
    for path in ("/home/", "/accounts/profile/", "/corrections/"):
        page = client.get(path).content.decode()
        assert 'href="/corrections/"' in page, path


def test_the_corrections_page_lists_the_requests_in_the_users_scope(world):
    _file(world)
    request = CorrectionRequest.objects.get()
    link = f'href="/corrections/{request.pk}/"'
    for who in ("student_a", "officer_10001", "province_11"):
        page = _client(world[who]).get("/corrections/").content.decode()
        assert link in page, who
    for who in ("student_c", "officer_10003", "province_31"):
        page = _client(world[who]).get("/corrections/").content.decode()
        assert link not in page, who


def test_choices_are_entered_and_shown_as_the_pages_show_them(world):
    response = _file(world, field_0="learning_form", value_0="Correspondence")
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    assert correction.changes[0]["new"] == "correspondence"
    review = _task(CorrectionFlow.school_review)
    page = _client(world["officer_10001"]).get(f"/work/{review.pk}/").content.decode()
    assert "Regular full-time" in page
    assert "Correspondence" in page
    assert "full_time" not in page


def test_an_unknown_choice_is_refused_next_to_its_input_which_then_offers_the_choices(world):
    response = _file(world, field_0="graduation_result", value_0="dropped out")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Choose one of: Graduated, Completed without graduating." in text
    value = _inputs(text)["value_0"]
    assert (value.tag, value.options, value.selected) == (
        "select",
        ["", "graduated", "completed"],
        [],
    )
    assert not CorrectionRequest.objects.exists()


def test_pages_name_people_not_their_user_names(world):
    student = world["student_a"]
    student.last_name, student.first_name = "王", "小明"
    student.save()
    officer = world["officer_10001"]
    officer.last_name, officer.first_name = "张", "伟"
    officer.save()
    _file(world)
    correction = CorrectionRequest.objects.get()
    work.decide(
        task_pk=_task(CorrectionFlow.school_review).pk,
        user=officer,
        decision="return",
        comment="请附证明",
    )

    page = _client(officer).get(f"/corrections/{correction.pk}/").content.decode()

    assert 'filed by <span id="requester">王小明</span>' in page
    timeline = page.split('id="timeline"')[1]
    assert "王小明" in timeline
    assert "张伟" in timeline
    assert "student_a" not in page
    assert "officer_10001" not in timeline  # (the menu shows the viewer's own email address)
    assert "Welcome, 王小明" in _client(student).get("/home/").content.decode()


def test_the_change_table_shows_the_values_at_filing_and_the_corrections(world, settings):
    _file(world)
    correction = CorrectionRequest.objects.get()
    officer = _client(world["officer_10001"])

    in_english = officer.get(f"/corrections/{correction.pk}/").content.decode()
    officer.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    in_chinese = officer.get(f"/corrections/{correction.pk}/").content.decode()

    assert "<th>Field</th><th>Value at filing</th><th>Corrected to</th>" in in_english
    assert "<th>原值</th><th>更正为</th>" in in_chinese
    assert "<td>王小明</td><td><strong>王晓明</strong></td>" in in_chinese


def _not_a_pdf() -> SimpleUploadedFile:
    """A program named like a PDF: refused by its content."""
    return SimpleUploadedFile("证明.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")


def test_the_value_input_follows_the_picked_field_after_a_failed_submit(world):
    """Typed without JavaScript into plain inputs, the values come back in the picked field's
    own input: a select of its choices (a label shown as its code), a date, the majors' list."""
    factories.major("080902", "软件工程")
    response = _file(
        world,
        field_0="gender",
        value_0="Female",
        field_1="birth_date",
        value_1="2002-03-14",
        field_2="major_code",
        value_2="软件工程",
        field_3="name",
        value_3="王晓明",
        reason="",
    )
    text = response.content.decode()
    inputs = _inputs(text)
    assert (inputs["value_0"].tag, inputs["value_0"].selected) == ("select", ["female"])
    assert inputs["value_0"].options == ["", "male", "female"]
    assert '<option value="female" selected>Female</option>' in text  # the page's language
    assert inputs["value_1"].attrs["type"] == "date"
    assert inputs["value_1"].attrs["value"] == "2002-03-14"
    assert (inputs["value_2"].attrs["list"], inputs["value_2"].attrs["value"]) == (
        "majors",
        "软件工程",
    )
    assert '<option value="软件工程">080902</option>' in text.split('<datalist id="majors">')[1]
    assert (inputs["value_3"].attrs["type"], inputs["value_3"].attrs["value"]) == ("text", "王晓明")
    # The script's widgets, one per kind of field: it swaps them in when a field is picked.
    widgets = text.split('<template class="xj-value-widgets">')[1].split("</template>")[0]
    assert '<select name="" data-value="" data-for="level">' in widgets
    assert '<input type="date" name="" data-value="" data-for="graduation_date">' in widgets


def test_the_choices_are_labelled_in_the_users_language(world):
    page = _client(world["student_c"]).post(
        f"/corrections/qualifications/{world['qc'].pk}/",
        {"field_0": "learning_form", "value_0": "函授", "reason": ""},
    )
    text = page.content.decode()
    assert '<option value="correspondence" selected>函授</option>' in text
    assert '<option value="gender">性别</option>' in text


def test_a_major_is_filed_by_its_name_or_its_code(world):
    factories.major("080902", "软件工程")
    assert _file(world, field_0="major_code", value_0="软件工程").status_code == 302
    correction = CorrectionRequest.objects.get()
    assert correction.changes[0]["new"] == "080902"
    page = _client(world["student_a"]).get(f"/corrections/qualifications/{world['q'].pk}/")
    assert "计算机科学与技术" in page.content.decode()  # the major's name beside its code


def test_an_unknown_major_is_refused_next_to_its_row(world):
    response = _file(world, field_0="major_code", value_0="软件工")
    text = response.content.decode()
    rule = (  # autoescaped
        "major code: “软件工” is neither the code nor the exact name of a major in the "
        "Ministry&#x27;s catalogue or among school 10001&#x27;s own majors."
    )
    assert f'<ul class="errorlist" id="id_value_0_error"><li>{rule}</li>' in text
    assert f'<a href="#id_value_0">{rule}</a>' in _summary(text)
    assert not CorrectionRequest.objects.exists()


def test_a_failed_submit_summarises_the_errors_and_focuses_the_first(world):
    response = _file(world, field_0="gender", value_0="", field_1="", value_1="王晓明", reason="")
    text = response.content.decode()
    summary = _summary(text)
    assert 'role="alert"' in text.split('id="error-summary"')[1].split(">")[0]
    assert "Nothing was submitted: correct the 3 errors below." in summary
    links = [part.split('"')[0] for part in summary.split('<a href="#')[1:]]
    assert links == ["id_value_0", "id_field_1", "id_reason"]  # in the order of the page
    assert "gender: Enter the new value." in summary
    assert "Field, row 2: Choose the field this value is for." in summary
    assert "Reason: This field is required." in summary
    inputs = _inputs(text)
    assert [name for name, i in inputs.items() if "autofocus" in i.attrs] == ["value_0"]
    invalid = [name for name, i in inputs.items() if i.attrs.get("aria-invalid") == "true"]
    assert invalid == ["value_0", "field_1", "reason"]
    assert inputs["value_0"].attrs["aria-describedby"] == "id_value_0_error"


def test_a_field_is_corrected_once_and_at_least_one_is_named(world):
    text = _file(world, field_1="name", value_1="王晓鸣").content.decode()
    assert "Field, row 2: This field is already chosen in another row." in _summary(text)
    text = _file(world, field_0="", value_0="").content.decode()
    assert '<a href="#id_field_0">Field, row 1: Name at least one field to correct.</a>' in text
    assert not CorrectionRequest.objects.exists()


def test_a_graduation_year_the_certificate_number_contradicts_is_refused_on_its_row(world):
    """The certificate number holds the issue year: its error goes next to the date."""
    response = _file(world, field_0="graduation_date", value_0="2025-07-01")
    text = response.content.decode()
    row = text.split('id="id_value_0_error"')[1].split("</ul>")[0]
    assert "certificate number: Digits 7-10 of the certificate number" in row


def test_a_form_error_without_an_input_focuses_the_summary(world):
    _file(world)
    text = _file(world, field_0="gender", value_0="female").content.decode()
    opening = text.split('id="error-summary"')[1].split(">")[0]
    assert "autofocus" in opening
    assert "open correction request" in _summary(text)
    assert not [name for name, i in _inputs(text).items() if "autofocus" in i.attrs]


def test_a_refused_evidence_file_files_nothing_and_keeps_every_input(world):
    response = _file(
        world,
        field_1="study_length",
        value_1="5",
        evidence=[_png(), _not_a_pdf()],
    )
    assert response.status_code == 200
    assert not CorrectionRequest.objects.exists()
    assert not CorrectionEvidence.objects.exists()
    assert (
        not AuditEvent.objects.exists()
        or not AuditEvent.objects.filter(action__startswith="correction.").exists()
    )
    assert not Notification.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "evidence").exists()
    text = response.content.decode()
    rule = "证明.pdf: Evidence must be a PDF, JPEG or PNG file (checked by its content)."
    evidence = text.split('<label for="id_evidence">')[1].split("</div>\n</div>")[0]
    assert rule in evidence
    assert "choose them again" in evidence
    assert f'<a href="#id_evidence">Evidence: {rule}' in (_summary(text))
    inputs = _inputs(text)
    assert "autofocus" in inputs["evidence"].attrs
    assert (inputs["field_0"].selected, inputs["value_0"].attrs["value"]) == (["name"], "王晓明")
    assert (inputs["field_1"].selected, inputs["value_1"].selected) == (["study_length"], ["5"])
    assert inputs["reason"].text.strip() == "录入错误"


def test_a_refused_evidence_file_resubmits_nothing_and_keeps_every_input(world):
    _file(world, evidence=[_png()])
    correction = CorrectionRequest.objects.get()
    work.decide(
        task_pk=_task(CorrectionFlow.school_review).pk,
        user=world["officer_10001"],
        decision="return",
        comment="请附户口本",
    )
    response = _client(world["student_a"]).post(
        f"/corrections/{correction.pk}/",
        {
            "action": "resubmit",
            "field_0": "name",
            "value_0": "王晓鸣",
            "reason": "已附户口本",
            "evidence": [_not_a_pdf()],
        },
    )
    assert response.status_code == 200
    correction.refresh_from_db()
    assert correction.state == "returned"
    assert correction.changes[0]["new"] == "王晓明"
    assert correction.evidence.count() == 1
    assert _task(CorrectionFlow.revise)  # still waiting for the revision
    text = response.content.decode()
    evidence = text.split('<label for="id_evidence">')[1].split("</div>\n</div>")[0]
    assert "证明.pdf: Evidence must be a PDF, JPEG or PNG file" in evidence
    inputs = _inputs(text)
    assert inputs["value_0"].attrs["value"] == "王晓鸣"  # what was sent, not what is stored
    assert inputs["reason"].text.strip() == "已附户口本"


def test_the_resubmission_form_starts_from_the_stored_values(world):
    factories.major("080902", "软件工程")
    _file(world, field_0="learning_form", value_0="函授", field_1="major_code", value_1="080902")
    correction = CorrectionRequest.objects.get()
    work.decide(
        task_pk=_task(CorrectionFlow.school_review).pk,
        user=world["officer_10001"],
        decision="return",
        comment="请附证明",
    )
    page = _client(world["student_a"]).get(f"/corrections/{correction.pk}/").content.decode()
    inputs = _inputs(page)
    assert (inputs["value_0"].tag, inputs["value_0"].selected) == ("select", ["correspondence"])
    assert inputs["value_1"].attrs["value"] == "080902"
    assert 'id="error-summary"' not in page


def test_withdrawing_asks_for_confirmation_first(world):
    _file(world)
    correction = CorrectionRequest.objects.get()
    student = _client(world["student_a"])
    url = f"/corrections/{correction.pk}/"
    asked = student.post(url, {"action": "withdraw"})
    assert asked.status_code == 200
    correction.refresh_from_db()
    assert correction.state == "submitted"  # nothing withdrawn yet
    text = asked.content.decode()
    confirm = text.split('id="confirm-withdraw"')[1].split("</form>")[0]
    assert f"Withdraw correction request #{correction.pk}?" in confirm
    assert '<input type="hidden" name="confirm" value="yes">' in confirm
    assert f'href="{url}"' in confirm  # keeping it leads back to the request
    assert 'id="withdraw"' not in text  # the first button gives way to the question
    assert 'id="withdraw"' in student.get(url).content.decode()

    done = student.post(url, {"action": "withdraw", "confirm": "yes"})
    assert done.status_code == 302
    correction.refresh_from_db()
    assert correction.state == "withdrawn"
    after = student.get(url).content.decode()
    assert "The request was withdrawn." in after
    assert 'id="withdraw"' not in after


def test_only_the_requester_is_asked_to_confirm_a_withdrawal(world):
    _file(world)
    correction = CorrectionRequest.objects.get()
    officer = _client(world["officer_10001"])
    text = officer.post(f"/corrections/{correction.pk}/", {"action": "withdraw"}).content.decode()
    assert 'id="confirm-withdraw"' not in text
    response = officer.post(
        f"/corrections/{correction.pk}/", {"action": "withdraw", "confirm": "yes"}
    )
    assert response.status_code == 403
    correction.refresh_from_db()
    assert correction.state == "submitted"
