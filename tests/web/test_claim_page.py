"""``/accounts/claim/``: a freshman creates their login with their admission, from a link on
the login page; a mismatch is one message above the form, field errors sit under their
fields; after five failures from one address the page answers 429; a claim logs the freshman
in and lands on their home page, which shows the admission."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from django.test import Client

from records.models import User
from tests import factories
from tests.claims import PASSWORD
from tests.claims import admitted
from tests.claims import claim_of
from tests.claims import fresh_cache
from tests.records.admission_files import row

pytestmark = pytest.mark.django_db

CLAIM = "/accounts/claim/"
LOGIN = "/accounts/login/"
SUMMARY = re.compile(r'<div class="vf-form__errors">(.*?)</div>', re.S)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    yield from fresh_cache()


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.CLAIM_FAILURE_LIMIT = 5
    settings.CLAIM_FAILURE_WINDOW_MINUTES = 10
    settings.TRUSTED_PROXIES = []


@pytest.fixture
def freshman(places) -> dict[str, str]:
    first = row(1)
    admitted(first)
    return first


def _form(row_values: dict[str, str], **overrides: str) -> dict[str, str]:
    values = claim_of(row_values, **overrides)
    values.setdefault("password_again", values["password"])
    return values


def _field_errors(page: str) -> dict[str, str]:
    """Each field's error, as the form renders it under the field (its ``error``)."""
    found = {}
    for tag in re.findall(r"<vf-field-\w+ [^>]*>", page):
        name = re.search(r' name="([^"]+)"', tag)
        error = re.search(r' error="([^"]*)"', tag)
        if name and error:
            found[name.group(1)] = html.unescape(error.group(1))
    return found


def _summary(page: str) -> str:
    found = SUMMARY.search(page)
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).strip() if found else ""


def test_the_login_page_links_to_the_claim_page():
    page = Client().get(LOGIN).content.decode()

    assert f'href="{CLAIM}"' in page
    assert "新生首次登录？认领账号" in page


def test_the_claim_page_needs_no_login_and_asks_for_every_fact():
    response = Client().get(CLAIM)

    assert response.status_code == 200
    page = response.content.decode()
    assert "认领账号" in page
    for field in ("candidate_number", "id_number", "name", "username", "email", "password"):
        assert f'name="{field}"' in page
    assert 'name="password_again"' in page
    assert "录取通知书" in page


def test_the_claim_page_in_english():
    page = Client().get(CLAIM, headers={"Accept-Language": "en"}).content.decode()

    assert "Claim your account" in page
    assert 'label="Candidate number"' in page
    assert "Create my account" in page


def test_the_demo_freshman_is_shown_in_development_only(settings):
    from records.demo import DEMO_FRESHMAN
    from records.demo import demo_id_number

    settings.DEBUG = True
    shown = Client().get(CLAIM).content.decode()
    settings.DEBUG = False
    hidden = Client().get(CLAIM).content.decode()

    for fact in (DEMO_FRESHMAN.candidate_number, demo_id_number(DEMO_FRESHMAN)):
        assert fact in shown
        assert fact not in hidden


def test_a_logged_in_user_is_sent_home(freshman):
    client = Client()
    client.force_login(factories.user("someone"))

    response = client.get(CLAIM)

    assert response.status_code == 302
    assert response["Location"] == "/home/"


def test_a_claim_logs_the_freshman_in_and_lands_on_their_home_with_the_admission(freshman):
    client = Client()

    response = client.post(CLAIM, _form(freshman, username="linxiao"))

    assert response.status_code == 302
    assert response["Location"] == "/home/"
    home = client.get("/home/").content.decode()
    assert "linxiao" in home  # the welcome message names the user name to log in with
    assert "我的录取与学籍" in home
    assert "北京大学" in home
    assert "计算机科学与技术" in home
    assert freshman["id_number"] not in home
    user = User.objects.get(username="linxiao")
    assert user.language == "zh-hans"
    again = Client().post(LOGIN, {"username": "linxiao", "password": PASSWORD})
    assert (again.status_code, again["Location"]) == (302, "/")


def test_a_mismatch_is_one_message_above_the_form_and_keeps_what_was_typed(freshman):
    response = Client().post(CLAIM, _form(freshman, name="李四"))

    assert response.status_code == 200
    page = response.content.decode()
    assert _summary(page).startswith("以上信息与录取信息不符")
    assert _field_errors(page) == {}  # no field is singled out
    assert f'value="{freshman["candidate_number"]}"' in page
    assert not User.objects.exists()


def test_field_errors_sit_under_their_fields_all_at_once(freshman):
    typed = _form(freshman, username="has space", email="nope", password="short")
    typed["password_again"] = "different"

    response = Client().post(CLAIM, typed)

    errors = _field_errors(response.content.decode())
    assert set(errors) == {"username", "email", "password", "password_again"}
    assert "至少需要 8 个字符" in errors["password"]
    assert errors["password_again"] == "两次输入的密码不一致。"
    assert _summary(response.content.decode()) == ""


def test_a_taken_user_name_is_said_under_its_field(freshman):
    factories.user("linxiao")

    response = Client().post(CLAIM, _form(freshman, username="LinXiao"))

    assert _field_errors(response.content.decode()) == {"username": "该用户名已被使用，请换一个。"}


def test_after_five_failures_the_page_answers_429_saying_how_long_to_wait(freshman):
    client = Client()
    for _ in range(5):
        assert client.post(CLAIM, _form(freshman, name="李四")).status_code == 200

    response = client.post(CLAIM, _form(freshman))

    assert response.status_code == 429
    assert 590 <= int(response["Retry-After"]) <= 600
    assert "约 10 分钟后再试" in _summary(response.content.decode())
    assert Client(REMOTE_ADDR="198.51.100.9").post(CLAIM, _form(freshman)).status_code == 302


def test_an_already_claimed_admission_is_told_above_the_form(freshman):
    assert Client().post(CLAIM, _form(freshman)).status_code == 302

    again = Client().post(CLAIM, _form(freshman, username="other", email="other@example.org"))

    assert "该录取信息已开通过账号" in _summary(again.content.decode())
