"""The web shell: login, per-role home pages, 404 for what is not yours, language, admin."""

from __future__ import annotations

import pytest
from django.test import Client

from permissions import roles
from records.models import User
from records.services import student_correct
from records.validators import mask_id_number
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places):
    bj, sh = places.bj, places.sh
    pku = places.pku
    thu = places.thu
    fdu = places.fdu
    student_user = factories.user("student_a", role=roles.STUDENT)
    person = factories.student("王小明", login=student_user)
    return {
        "pku": pku,
        "thu": thu,
        "fdu": fdu,
        "person": person,
        "q": factories.qualification(person, pku),
        "student": student_user,
        "officer": factories.officer(pku, "officer_10001"),
        "province": factories.provincial_admin(bj, "province_11"),
        "province31": factories.provincial_admin(sh, "province_31"),
        "ministry": factories.user("ministry", role=roles.MINISTRY_VIEWER, scope=bj),
    }


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_users_are_sent_to_the_login_page():
    response = Client().get("/home/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/home/")
    assert Client().get("/accounts/login/").status_code == 200


def test_login_with_a_password(world):
    client = Client()
    response = client.post("/accounts/login/", {"username": "officer_10001", "password": "pw"})
    assert response.status_code == 302
    assert client.get("/home/").status_code == 200
    bad = Client().post("/accounts/login/", {"username": "officer_10001", "password": "nope"})
    assert bad.status_code == 200
    assert not bad.wsgi_request.user.is_authenticated


def test_the_demo_hint_shows_only_in_debug(settings):
    settings.DEBUG = True
    assert "student_a" in Client().get("/accounts/login/").content.decode()
    settings.DEBUG = False
    assert "student_a" not in Client().get("/accounts/login/").content.decode()


def test_the_student_sees_their_record_with_a_masked_id(world):
    page = _client(world["student"]).get("/home/").content.decode()
    person = world["person"]
    assert "王小明" in page
    assert world["q"].certificate_number in page
    assert person.id_number not in page
    assert person.id_number[:4] + "**********" + person.id_number[-4:] in page
    assert "北京大学" in page  # the school of their qualification
    assert "清华大学" not in page


def test_the_officer_sees_their_school_only(world):
    page = _client(world["officer"]).get("/home/").content.decode()
    assert "/home/schools/10001/" in page
    assert "/home/schools/10003/" not in page
    assert world["q"].certificate_number in page
    assert world["person"].id_number not in page


def test_the_provincial_admin_sees_the_province_s_schools(world):
    page = _client(world["province"]).get("/home/").content.decode()
    assert "/home/schools/10001/" in page
    assert "/home/schools/10003/" in page
    assert "/home/schools/10246/" not in page


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("officer", "10001", 200),
        ("officer", "10003", 404),
        ("officer", "10246", 404),
        ("province", "10001", 200),
        ("province", "10003", 200),
        ("province", "10246", 404),
        ("province31", "10001", 404),
        ("province31", "10246", 200),
        ("ministry", "10003", 200),
        ("ministry", "10246", 404),
        ("student", "10001", 404),
    ],
)
def test_school_page_is_404_unless_yours(world, who, code, status):
    assert _client(world[who]).get(f"/home/schools/{code}/").status_code == status


def test_the_site_is_chinese_by_default_and_the_switch_is_remembered(world):
    client = _client(world["officer"])
    assert "您的角色" in client.get("/home/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/home/"})
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert "Your roles" in client.get("/home/").content.decode()
    assert User.objects.get(pk=world["officer"].pk).language == "en"
    fresh = _client(User.objects.get(pk=world["officer"].pk))  # another browser, no cookie
    assert "Your roles" in fresh.get("/home/").content.decode()


def test_an_unknown_language_changes_nothing(world):
    client = _client(world["officer"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/home/"})
    assert User.objects.get(pk=world["officer"].pk).language == "zh-hans"


def test_admin_and_object_permission_pages(world):
    root = factories.user("root")
    root.is_superuser = root.is_staff = True
    root.save()
    client = _client(root)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/records/school/10001/permissions/").status_code == 200
    assert client.get("/admin/records/qualification/").status_code == 200
    assert client.get("/admin/records/qualification/add/").status_code == 403
    students = client.get("/admin/records/student/").content.decode()
    assert world["person"].id_number not in students


def test_the_api_keeps_its_own_authentication():
    response = Client().get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_my_record_shows_the_history_of_its_corrections_on_home_and_profile(world):
    person = world["person"]
    old_id = person.id_number
    approver = world["province"]
    approver.last_name, approver.first_name = "赵", "敏"
    approver.save()
    student_correct(
        student=person, changes={"name": "王晓明"}, acting_user=approver, correction_id=4
    )
    new_id = factories.resident_id(person.birth_date, person.gender, serial=90)
    student_correct(
        student=person, changes={"id_number": new_id}, acting_user=approver, correction_id=5
    )
    client = _client(world["student"])

    for url in ("/home/", "/accounts/profile/"):
        page = client.get(url).content.decode()
        card = page.split('id="person"')[1]
        history = card.split('id="person-history"')[1]
        assert "<td>王晓明</td>" in card.split('id="person-history"')[0]
        assert "我的信息更正记录" in card
        assert "<tr><td>姓名</td><td>王小明</td><td>王晓明</td>" in history
        assert f"<td>{mask_id_number(old_id)}</td><td>{mask_id_number(new_id)}</td>" in history
        assert history.count("<td>赵敏</td>") == 2
        assert old_id not in page
        assert new_id not in page


def test_an_officer_s_profile_has_no_record(world):
    page = _client(world["officer"]).get("/accounts/profile/").content.decode()

    assert 'id="person"' not in page


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/work/?q=%00", "/work/?school=a%00", "/corrections/?state=%01"])
def test_a_control_character_in_a_page_query_is_the_400_page(places, url):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(factories.officer(places.pku))

    response = client.get(url)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_the_menu_offers_admissions_and_year_registration_to_whoever_sees_them_by_grant(world):
    """A student reads their admission and registrations on the home page: the lists of a
    school's or province's are in the menu of officers and administrators only."""
    student = _client(world["student"]).get("/home/").content.decode()
    officer = _client(world["officer"]).get("/home/").content.decode()
    province = _client(world["province"]).get("/home/").content.decode()

    for page in (officer, province):
        assert 'href="/admissions/"' in page
        assert 'href="/years/"' in page
    assert 'href="/admissions/"' not in student
    assert 'href="/years/"' not in student
    assert 'href="/work/"' in student  # the shared work list stays
