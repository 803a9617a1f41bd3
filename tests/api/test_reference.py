from __future__ import annotations

import pytest

from records.models import Major
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    """Any authenticated user may read reference data; this one prefers English."""
    return token_client(factories.user(language="en"))


@pytest.fixture
def schools():
    factories.province("11", "北京市")
    factories.province("31", "上海市")
    factories.school("10001", "北京大学", "11")
    factories.school("10003", "清华大学", "11")
    factories.school("10246", "复旦大学", "31")
    factories.school("10247", "同济大学", "31")


class TestSchools:
    def test_lists_schools_paginated_by_code(self, reader, schools):
        body = reader.get("/api/v1/schools/?limit=2").json()

        assert body["count"] == 4
        assert [s["code"] for s in body["results"]] == ["10001", "10003"]
        assert body["next"].endswith("limit=2&offset=2")
        assert body["results"][0] == {
            "code": "10001",
            "identifier": "4111010001",
            "name": "北京大学",
            "province": "11",
            "province_name": "北京市",
            "department": "",
            "level": "",
            "remarks": "",
            "credit_system": False,
        }

    def test_filters_by_province(self, reader, schools):
        body = reader.get("/api/v1/schools/", {"province": "31"}).json()

        assert [s["code"] for s in body["results"]] == ["10246", "10247"]

    def test_searches_the_name(self, reader, schools):
        body = reader.get("/api/v1/schools/", {"q": "大学", "province": "11"}).json()
        assert [s["code"] for s in body["results"]] == ["10001", "10003"]

        body = reader.get("/api/v1/schools/", {"q": "复旦"}).json()
        assert [s["name"] for s in body["results"]] == ["复旦大学"]

    def test_searches_the_start_of_the_code(self, reader, schools):
        body = reader.get("/api/v1/schools/", {"q": "1024"}).json()

        assert [s["code"] for s in body["results"]] == ["10246", "10247"]

    def test_an_empty_query_filters_nothing(self, reader, schools):
        assert reader.get("/api/v1/schools/", {"q": ""}).json()["count"] == 4

    def test_names_a_malformed_province(self, reader, schools):
        response = reader.get("/api/v1/schools/", {"province": "beijing"})

        assert_error(
            response,
            400,
            "invalid",
            fields={"province": ["A province code is 2 digits (GB/T 2260)."]},
        )

    def test_names_an_unknown_province(self, reader, schools):
        response = reader.get("/api/v1/schools/", {"province": "99"})

        assert_error(
            response, 400, "invalid", fields={"province": ["No province has the code 99."]}
        )

    def test_names_a_too_long_query(self, reader, schools):
        response = reader.get("/api/v1/schools/", {"q": "x" * 51})

        body = assert_error(response, 400, "invalid")
        assert list(body["fields"]) == ["q"]

    def test_shows_one_school(self, reader, schools):
        response = reader.get("/api/v1/schools/10246/")

        assert response.status_code == 200
        assert response.json()["name"] == "复旦大学"
        assert response.json()["province_name"] == "上海市"

    def test_needs_authentication(self, api, schools):
        assert_error(api.get("/api/v1/schools/"), 401, "not_authenticated")
        assert_error(api.get("/api/v1/schools/10001/"), 401, "not_authenticated")

    def test_combines_province_and_query(self, reader, schools):
        factories.school("10005", "北京工业大学", "11")
        factories.school("11232", "北京城市学院", "11")
        factories.school("10272", "上海北京路学院", "31")  # 北京 in the name, wrong province

        body = reader.get("/api/v1/schools/", {"province": "11", "q": "北京"}).json()

        assert [s["code"] for s in body["results"]] == ["10001", "10005", "11232"]


@pytest.fixture
def catalogue():
    """A slice of the Ministry's lists (the full CSVs are loaded by load_reference_data)."""
    factories.province("11", "北京市")
    factories.province("12", "天津市")
    factories.ethnicity("01", "汉族")
    factories.ethnicity("02", "蒙古族")
    for code, name, discipline, class_code, class_name in [
        ("010101", "哲学", "哲学", "0101", "哲学类"),
        ("010102", "逻辑学", "哲学", "0101", "哲学类"),
        ("020101", "经济学", "经济学", "0201", "经济学类"),
        ("080901", "计算机科学与技术", "工学", "0809", "计算机类"),
    ]:
        Major.objects.create(
            code=code,
            name=name,
            discipline=discipline,
            class_code=class_code,
            class_name=class_name,
        )


class TestOtherReferenceData:
    def test_lists_every_province_unpaginated(self, reader, catalogue):
        body = reader.get("/api/v1/provinces/").json()

        assert body == [
            {"code": "11", "name": "北京市", "note": ""},
            {"code": "12", "name": "天津市", "note": ""},
        ]

    def test_lists_every_ethnic_group_unpaginated(self, reader, catalogue):
        body = reader.get("/api/v1/ethnic-groups/").json()

        assert body == [
            {"code": "01", "name": "汉族", "note": ""},
            {"code": "02", "name": "蒙古族", "note": ""},
        ]

    def test_lists_majors_paginated(self, reader, catalogue):
        body = reader.get("/api/v1/majors/").json()

        assert body["count"] == 4
        assert body["results"][0] == {
            "code": "010101",
            "name": "哲学",
            "discipline": "哲学",
            "class_code": "0101",
            "class_name": "哲学类",
            "note": "",
        }

    def test_searches_majors_by_name(self, reader, catalogue):
        body = reader.get("/api/v1/majors/", {"q": "计算机"}).json()

        assert [m["code"] for m in body["results"]] == ["080901"]

    def test_searches_majors_by_code(self, reader, catalogue):
        body = reader.get("/api/v1/majors/", {"q": "0101"}).json()

        assert [m["code"] for m in body["results"]] == ["010101", "010102"]

    @pytest.mark.parametrize(
        "url", ["/api/v1/provinces/", "/api/v1/majors/", "/api/v1/ethnic-groups/"]
    )
    def test_needs_authentication(self, api, url):
        assert_error(api.get(url), 401, "not_authenticated")
