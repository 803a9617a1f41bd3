"""The account pages: in the site shell (not the admin's templates), in Chinese, with a
security email on a password change; password reset is not offered."""

from __future__ import annotations

import pytest
from django.test import Client

from notifications.models import Notification
from permissions import roles
from records.models import Province
from records.models import User
from tests import factories

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-Passw0rd-for-xueji"


@pytest.fixture
def officer() -> User:
    factories.province("11", "北京市")
    pku = factories.school("10001", "北京大学", "11")
    return factories.officer(pku, "officer_10001")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_profile_is_a_shell_page_without_internal_columns(officer):
    page = _client(officer).get("/accounts/profile/").content.decode()
    assert "officer_10001" in page
    assert "学校学籍管理人员" in page  # the role, in Chinese
    assert 'href="/accounts/password_change/"' in page
    assert "vf-page__menu" in page  # the site's menu, although /accounts/ is outside the Site
    assert 'href="/home/"' in page
    for internal in ("超级用户", "工作人员", "is_superuser", 'type="file"'):
        assert internal not in page


def test_password_change_uses_the_shell_not_the_admin(officer):
    page = _client(officer).get("/accounts/password_change/").content.decode()
    assert 'name="old_password"' in page
    assert "修改密码" in page
    assert "Django" not in page  # the admin's header ("Django 管理") and breadcrumbs
    assert "/admin/" not in page


def test_a_password_change_keeps_the_session_and_sends_a_notice(officer):
    client = _client(officer)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": "pw", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert "您的密码已修改" in client.get("/accounts/profile/").content.decode()
    assert User.objects.get(pk=officer.pk).check_password(NEW_PASSWORD)
    notice = Notification.objects.get(event="password_changed")
    assert notice.recipient_email == officer.email
    assert notice.language == "zh-hans"
    assert "密码" in notice.subject


def test_a_wrong_old_password_changes_nothing(officer):
    client = _client(officer)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "旧密码不正确" in response.content.decode()
    assert User.objects.get(pk=officer.pk).check_password("pw")
    assert not Notification.objects.exists()


def test_password_rules_read_as_chinese_text(officer):
    """Django 5.2's "too short" message has no zh_Hans translation of its own; ours fills it.
    The rules are plain text (viewflow's field would show Django's HTML list as markup)."""
    response = _client(officer).post(
        "/accounts/password_change/",
        {"old_password": "pw", "new_password1": "short", "new_password2": "short"},
    )
    page = response.content.decode()
    assert "密码太短，至少需要 8 个字符。" in page
    assert "too short" not in page
    assert "&lt;ul" not in page
    assert "<ul&gt;" not in page


def test_logging_out_returns_to_the_login_page(officer):
    client = _client(officer)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/home/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "url",
    ["/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/done/"],
)
def test_password_reset_by_email_is_not_offered(url):
    assert Client().get(url).status_code == 404


def test_the_menu_and_the_school_table_speak_chinese(officer):
    province = factories.provincial_admin(Province.objects.get(pk="11"), "province_11")
    page = _client(province).get("/home/").content.decode()
    assert "应用" in page  # viewflow's "Applications" menu heading
    assert "Applications" not in page
    assert "<th>学校名称</th>" in page  # a school has a 名称, not a person's 姓名


def test_the_ministry_viewer_sees_their_provinces():
    beijing = factories.province("11", "北京市")
    factories.province("31", "上海市")
    viewer = factories.user("ministry", role=roles.MINISTRY_VIEWER, scope=beijing)
    page = _client(viewer).get("/home/").content.decode()
    assert "11 北京市" in page
    assert "上海市" not in page


def _admin_sets_password(user: User, confirmation: str):
    """A superuser sets ``user``'s password in the admin to NEW_PASSWORD, confirmed as given."""
    admin = User.objects.create_superuser("root", "root@example.org", "pw")
    return _client(admin).post(
        f"/admin/records/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": confirmation, "usable_password": "true"},
    )


def test_an_administrators_password_change_is_announced_to_the_user(officer):
    response = _admin_sets_password(officer, NEW_PASSWORD)
    assert response.status_code == 302
    assert User.objects.get(pk=officer.pk).check_password(NEW_PASSWORD)
    notice = Notification.objects.get(event="password_changed")
    assert notice.recipient_email == officer.email
    assert notice.language == officer.language


def test_a_refused_administrators_password_change_announces_nothing(officer):
    response = _admin_sets_password(officer, "something-else")
    assert response.status_code == 200
    assert User.objects.get(pk=officer.pk).check_password("pw")
    assert not Notification.objects.exists()


def test_the_profile_is_headed_by_the_full_name_with_the_user_name_beside_it(officer):
    officer.last_name, officer.first_name = "张", "伟"
    officer.save()

    page = _client(officer).get("/accounts/profile/").content.decode()
    account = page.split('id="account"')[1]

    assert "<h2>张伟</h2>" in account
    assert "<tr><th>用户名</th><td>officer_10001</td></tr>" in account
