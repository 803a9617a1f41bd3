from __future__ import annotations

import pytest

from notifications.models import Notification
from permissions import roles
from permissions.services import grant_role
from records.models import User
from records.services import student_correct
from records.validators import mask_id_number
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/me/"


class TestMe:
    def test_describes_a_student(self):
        login = factories.user("stu", role=roles.STUDENT)
        person = factories.student("李四", login=login)

        body = token_client(login).get(ME_URL).json()

        assert body == {
            "username": "stu",
            "name": "stu",
            "email": "stu@example.org",
            "language": "zh-hans",
            "superuser": False,
            "roles": ["student"],
            "schools": [],
            "provinces": [],
            "student": {"id": person.pk, "name": "李四"},
            "person": {
                "id": person.pk,
                "name": "李四",
                "gender": "male",
                "birth_date": "2003-05-17",
                "id_type": "resident_id",
                "id_number_masked": mask_id_number(person.id_number),
                "ethnicity": "01",
                "history": [],
            },
        }

    def test_lists_the_schools_of_a_school_officer(self):
        first = factories.school("10003", "清华大学")
        second = factories.school("10001", "北京大学")
        officer = factories.officer(first, "officer1")
        factories.school("10002", "中国人民大学")  # not theirs
        officer.first_name = "王老师"
        officer.save()
        grant_role(officer, roles.SCHOOL_OFFICER, second)

        body = token_client(officer).get(ME_URL).json()

        assert body["roles"] == ["school_officer"]
        assert body["schools"] == ["10001", "10003"]
        assert body["provinces"] == []
        assert body["student"] is None
        assert body["name"] == "王老师"

    def test_lists_the_provinces_of_a_provincial_admin(self):
        admin = factories.provincial_admin(factories.province("11", "北京市"), "padmin")
        factories.province("12", "天津市")

        body = token_client(admin).get(ME_URL).json()

        assert body["roles"] == ["provincial_admin"]
        assert body["provinces"] == ["11"]
        assert body["schools"] == []
        assert body["superuser"] is False

    def test_flags_a_superuser_instead_of_listing_every_scope(self):
        factories.school()
        root = User.objects.create_superuser("root", "root@example.org", "pw")

        body = token_client(root).get(ME_URL).json()

        assert body["superuser"] is True
        assert body["schools"] == []
        assert body["provinces"] == []

    def test_refuses_anonymous_callers_with_401(self, api):
        response = api.get(ME_URL, headers={"Accept-Language": "en"})

        body = assert_error(response, 401, "not_authenticated", fields={})
        assert body["detail"] == "Authentication credentials were not provided."
        assert response["WWW-Authenticate"] == "Token"

    def test_refuses_put(self):
        response = token_client(factories.user(language="en")).put(
            ME_URL, {"language": "en"}, format="json"
        )

        body = assert_error(response, 405, "method_not_allowed", fields={})
        assert body["detail"] == 'Method "PUT" not allowed.'


class TestChangeMe:
    def test_changes_the_language_and_answers_in_it(self):
        user = factories.user("alice")

        response = token_client(user).patch(ME_URL, {"language": "en"}, format="json")

        assert response.status_code == 200
        assert response.json()["language"] == "en"
        assert response["Content-Language"] == "en"
        user.refresh_from_db()
        assert user.language == "en"

    def test_refuses_a_new_email_which_needs_a_confirmation(self):
        user = factories.user("alice", language="en")

        response = token_client(user).patch(
            ME_URL, {"email": "a@example.com", "language": "zh-hans"}, format="json"
        )

        body = assert_error(response, 400, "invalid")
        assert list(body["fields"]) == ["email"]
        assert "/api/v1/me/email/" in body["fields"]["email"][0]
        user.refresh_from_db()
        assert (user.email, user.language) == ("alice@example.org", "en")
        assert not Notification.objects.exists()

    def test_accepts_the_current_email_sent_back_unchanged(self):
        user = factories.user("alice")

        response = token_client(user).patch(
            ME_URL, {"email": "Alice@Example.org", "language": "en"}, format="json"
        )

        assert response.status_code == 200
        assert response.json()["email"] == "alice@example.org"
        assert response.json()["language"] == "en"

    def test_names_an_unknown_language(self):
        user = factories.user("alice", language="en")

        response = token_client(user).patch(ME_URL, {"language": "fr"}, format="json")

        assert_error(response, 400, "invalid", fields={"language": ['"fr" is not a valid choice.']})
        user.refresh_from_db()
        assert user.language == "en"

    def test_names_a_bad_email(self):
        user = factories.user("alice", language="en")

        response = token_client(user).patch(
            ME_URL, {"email": "not-an-email", "language": "zh-hans"}, format="json"
        )

        assert_error(response, 400, "invalid", fields={"email": ["Enter a valid email address."]})
        user.refresh_from_db()
        assert (user.email, user.language) == ("alice@example.org", "en")

    def test_refuses_fields_it_cannot_change(self):
        user = factories.user("alice", language="en")

        response = token_client(user).patch(
            ME_URL, {"username": "root", "language": "en"}, format="json"
        )

        assert_error(
            response, 400, "invalid", fields={"username": ["This field cannot be changed here."]}
        )
        user.refresh_from_db()
        assert user.username == "alice"

    def test_reports_a_malformed_body_as_a_parse_error(self):
        response = token_client(factories.user()).generic(
            "PATCH", ME_URL, "{not json", content_type="application/json"
        )

        assert_error(response, 400, "parse_error", fields={})


class TestPersonHistory:
    def test_shows_each_corrected_value_by_whom_and_never_a_full_id_number(self):
        login = factories.user("stu", language="en")
        person = factories.student("王小明", login=login)
        old_id = person.id_number
        approver = factories.user("province_11")
        approver.last_name, approver.first_name = "赵", "敏"
        approver.save()
        student_correct(
            student=person, changes={"name": "王晓明"}, acting_user=approver, correction_id=4
        )
        new_id = factories.resident_id(person.birth_date, person.gender, serial=90)
        student_correct(
            student=person, changes={"id_number": new_id}, acting_user=approver, correction_id=5
        )

        response = token_client(login).get(ME_URL)
        body = response.json()

        assert body["name"] == "王晓明"  # the login follows the person's corrected name
        assert body["student"]["name"] == "王晓明"
        assert body["person"]["name"] == "王晓明"
        history = body["person"]["history"]
        assert [(h["field"], h["field_label"], h["by"], h["correction"]) for h in history] == [
            ("id_number", "ID number", "赵敏", 5),  # newest first, in the caller's language
            ("name", "Name", "赵敏", 4),
        ]
        assert (history[1]["old"], history[1]["new"]) == ("王小明", "王晓明")
        assert (history[0]["old"], history[0]["new"]) == (
            mask_id_number(old_id),
            mask_id_number(new_id),
        )
        assert body["person"]["id_number_masked"] == mask_id_number(new_id)
        assert old_id not in response.content.decode()
        assert new_id not in response.content.decode()

    def test_is_absent_for_a_login_without_a_person(self):
        body = token_client(factories.user("officer")).get(ME_URL).json()

        assert body["person"] is None
