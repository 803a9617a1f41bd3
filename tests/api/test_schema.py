from __future__ import annotations

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

API_PATHS = {
    "/api/v1/auth/token/",
    "/api/v1/auth/claim/",
    "/api/v1/me/",
    "/api/v1/me/email/",
    "/api/v1/provinces/",
    "/api/v1/schools/",
    "/api/v1/schools/{code}/",
    "/api/v1/majors/",
    "/api/v1/ethnic-groups/",
    "/api/v1/qualifications/",
    "/api/v1/qualifications/{id}/",
    "/api/v1/corrections/",
    "/api/v1/corrections/{id}/",
    "/api/v1/corrections/{id}/withdraw/",
    "/api/v1/corrections/{id}/resubmit/",
    "/api/v1/corrections/{id}/evidence/",
    "/api/v1/admissions/outcomes/",
    "/api/v1/admission-reviews/",
    "/api/v1/admission-reviews/{id}/register/",
    "/api/v1/graduations/",
    "/api/v1/graduations/{id}/",
    "/api/v1/graduations/{id}/prepare/",
    "/api/v1/graduations/{id}/graduates/",
    "/api/v1/graduations/{id}/register/",
    "/api/v1/graduations/{id}/rechecks/",
    "/api/v1/year-registrations/",
    "/api/v1/year-registrations/{id}/",
    "/api/v1/year-registrations/{id}/register/",
    "/api/v1/year-registrations/{id}/outcomes/",
    "/api/v1/year-registrations/{id}/students/",
    "/api/v1/tasks/",
    "/api/v1/tasks/{id}/decide/",
    "/api/v1/tasks/counts/",
    "/api/v1/tasks/decide/",
    "/api/v1/admission-imports/",
    "/api/v1/admission-imports/{id}/",
    "/api/v1/admission-imports/{id}/errors/",
    "/api/v1/admissions/",
    "/api/v1/student-statuses/",
    "/api/v1/student-statuses/{id}/",
    "/api/v1/status-changes/",
    "/api/v1/status-changes/types/",
    "/api/v1/status-changes/{id}/",
    "/api/v1/status-changes/{id}/withdraw/",
    "/api/v1/status-changes/{id}/resubmit/",
    "/api/v1/certificate-proofs/",
    "/api/v1/certificate-proofs/{id}/",
    "/api/v1/certificate-proofs/{id}/withdraw/",
    "/api/v1/certificate-proofs/{id}/resubmit/",
    "/api/v1/certificate-proofs/{id}/evidence/",
    "/api/v1/revocations/",
    "/api/v1/revocations/{id}/",
    "/api/v1/revocations/{id}/delivery/",
    "/api/v1/revocations/{id}/appeal/",
    "/api/v1/verification-reports/",
    "/api/v1/verification-reports/{id}/",
    "/api/v1/verification-reports/{id}/extend/",
    "/api/v1/verification-reports/{id}/revoke/",
    "/api/v1/verify/public-key/",
    "/api/v1/verify/certificate/",
    "/api/v1/verify/{code}/",
    "/api/v1/verify/{code}/signed/",
    "/api/v1/health/",
    "/api/v1/status-changes/{id}/delivery/",
    "/api/v1/status-changes/{id}/appeal/",
    "/api/v1/admission-cancellations/{id}/",
    "/api/v1/admission-cancellations/{id}/delivery/",
    "/api/v1/admission-cancellations/{id}/appeal/",
    "/api/v1/identity-changes/",
    "/api/v1/identity-changes/fields/",
    "/api/v1/identity-changes/{id}/",
    "/api/v1/identity-changes/{id}/withdraw/",
    "/api/v1/identity-changes/{id}/resubmit/",
    "/api/v1/identity-changes/{id}/evidence/",
}


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == API_PATHS


@pytest.mark.django_db
def test_schema_is_served_with_the_token_scheme_and_error_format(api):
    response = api.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "detail", "fields"}
    me = schema["paths"]["/api/v1/me/"]["get"]
    assert {"tokenAuth": []} in me["security"]
    assert me["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    # Obtaining a token needs no authentication.
    assert "security" not in schema["paths"]["/api/v1/auth/token/"]["post"]


@pytest.mark.django_db
def test_swagger_ui_is_served_offline(api):
    response = api.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.findall(r"https?://", html), "the page must not load anything from a CDN"
    assert '"validatorUrl": null' in html  # no badge from validator.swagger.io
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a static file"


@pytest.fixture
def schema(api, db):
    return api.get("/api/schema/", {"format": "json"}).json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_documents_the_errors_it_can_answer(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in _operations(schema):
        statuses = set(operation["responses"])
        expected = {"400"}
        if operation.get("security", [{}]) != [{}] and "security" in operation:
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"413", "415"}
        assert expected <= statuses, (method, path, expected - statuses)
        for status in (s for s in statuses if int(s) >= 400):
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"] == error, (method, path, status)


def test_the_token_endpoint_documents_its_throttle(schema):
    assert "429" in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]


def test_the_claim_needs_no_authentication_and_documents_its_answers(schema):
    claim = schema["paths"]["/api/v1/auth/claim/"]["post"]
    assert "security" not in claim
    assert {"201", "400", "409", "429"} <= set(claim["responses"])


def test_conflicts_are_documented_where_they_happen(schema):
    assert "409" in schema["paths"]["/api/v1/tasks/{id}/decide/"]["post"]["responses"]
    assert "409" in schema["paths"]["/api/v1/corrections/"]["post"]["responses"]


def test_a_revision_without_an_approver_is_allowed_by_the_schema(schema):
    revision = schema["components"]["schemas"]["Revision"]["properties"]

    assert revision["approved_by"]["nullable"] is True
    assert revision["approved_by_name"]["nullable"] is True


def test_withdraw_and_resubmit_document_their_conflicts(schema):
    for action in ("withdraw", "resubmit"):
        responses = schema["paths"][f"/api/v1/corrections/{{id}}/{action}/"]["post"]["responses"]
        assert "409" in responses, action


def test_the_outcomes_document_the_return_of_a_retained_admission(schema):
    schemas = schema["components"]["schemas"]
    outcome = schemas["OutcomeRequest"]["properties"]
    enum = schemas[outcome["outcome"]["allOf"][0]["$ref"].rsplit("/", 1)[-1]]["enum"]
    assert set(enum) == {"gave_up", "retained", "cancelled", "registered"}
    assert outcome["year"]["nullable"] is True
    assert "retained admission" in outcome["year"]["description"]
    assert "`registered`: a retained admission's return" in outcome["outcome"]["description"]
    result = schemas["OutcomeResult"]["properties"]
    assert "student_number" in result
    assert "status_elsewhere" in result["code"]["description"]
    description = schema["paths"]["/api/v1/admissions/outcomes/"]["post"]["description"]
    assert "`registered` for a `retained`" in description


def test_status_changes_document_their_answers(schema):
    filing = schema["paths"]["/api/v1/status-changes/"]["post"]["responses"]
    assert {"201", "400", "403", "404", "409"} <= set(filing)
    for action in ("withdraw", "resubmit"):
        path = f"/api/v1/status-changes/{{id}}/{action}/"
        assert "409" in schema["paths"][path]["post"]["responses"], action
    types = schema["paths"]["/api/v1/status-changes/types/"]["get"]["responses"]["200"]
    assert types["content"]["application/json"]["schema"]["type"] == "array"
    assert "404" in schema["paths"]["/api/v1/student-statuses/{id}/"]["get"]["responses"]
