"""``/api/v1/``: the API shell (auth, the caller's account, reference data).

The last route answers every unknown URL under ``/api/v1/`` with the JSON 404. The public
look-ups, ``/api/v1/verify/…``, are ``verify_patterns``, which ``config.urls`` matches first.
"""

from __future__ import annotations

from django.urls import URLPattern
from django.urls import URLResolver
from django.urls import path
from django.urls import re_path

from records.api import admissions
from records.api import claim
from records.api import qualifications
from records.api import reference
from records.api import statuses
from records.api import verification
from records.api import views
from records.api.errors import api_not_found

app_name = "api"
urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("auth/claim/", claim.ClaimView.as_view(), name="claim"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/email/", views.MeEmailView.as_view(), name="me-email"),
    path("provinces/", reference.ProvinceList.as_view(), name="province-list"),
    path("schools/", reference.SchoolList.as_view(), name="school-list"),
    path("schools/<str:code>/", reference.SchoolDetail.as_view(), name="school-detail"),
    path("majors/", reference.MajorList.as_view(), name="major-list"),
    path("ethnic-groups/", reference.EthnicGroupList.as_view(), name="ethnic-group-list"),
    path("qualifications/", qualifications.QualificationList.as_view(), name="qualification-list"),
    path(
        "qualifications/<id:pk>/",
        qualifications.QualificationDetail.as_view(),
        name="qualification-detail",
    ),
    path("admission-imports/", admissions.ImportListCreate.as_view(), name="admission-import-list"),
    path(
        "admission-imports/<id:pk>/",
        admissions.ImportDetail.as_view(),
        name="admission-import-detail",
    ),
    path(
        "admission-imports/<id:pk>/errors/",
        admissions.ImportErrors.as_view(),
        name="admission-import-errors",
    ),
    path("admissions/", admissions.AdmissionList.as_view(), name="admission-list"),
    path("student-statuses/", admissions.StudentStatusList.as_view(), name="student-status-list"),
    path(
        "student-statuses/<id:pk>/",
        statuses.StudentStatusDetail.as_view(),
        name="student-status-detail",
    ),
    path(
        "verification-reports/",
        verification.ReportListCreate.as_view(),
        name="verification-report-list",
    ),
    path(
        "verification-reports/<id:pk>/",
        verification.ReportDetail.as_view(),
        name="verification-report-detail",
    ),
    path(
        "verification-reports/<id:pk>/extend/",
        verification.ReportExtend.as_view(),
        name="verification-report-extend",
    ),
    path(
        "verification-reports/<id:pk>/revoke/",
        verification.ReportRevoke.as_view(),
        name="verification-report-revoke",
    ),
    path("health/", verification.Health.as_view(), name="health"),
    re_path(r"^.*$", api_not_found, name="not-found"),
]

# ``/api/v1/verify/…`` (namespace ``verify``), included by ``config.urls`` before the rest of
# the API: the look-up of a code, the most-called public URL, is then the third route tried,
# not the eightieth (resolving it through the API's routes took a tenth of its time).
verify_patterns: list[URLPattern | URLResolver] = [
    path("public-key/", verification.PublicKey.as_view(), name="public-key"),
    path("certificate/", verification.CertificateCheckView.as_view(), name="certificate"),
    path("<str:code>/", verification.public_report_json, name="report"),
    path("<str:code>/signed/", verification.SignedReport.as_view(), name="signed"),
]
