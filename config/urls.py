from __future__ import annotations

from django.contrib import admin
from django.urls import include
from django.urls import path
from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView
from drf_spectacular.views import SpectacularSwaggerView

from records.api.errors import api_not_found
from records.api.urls import verify_patterns
from workflows.accounts import accounts
from workflows.pages import shell as workflows_views
from workflows.pages import verification as verification_pages
from workflows.site import site

urlpatterns = [
    path("i18n/setlang/", workflows_views.set_language, name="set_language"),
    path("accounts/", accounts.urls),
    path("admin/", admin.site.urls),
    path("api/v1/verify/", include((verify_patterns, "verify"))),  # before the rest of the API
    path("api/v1/", include("workflows.api.urls")),
    path("api/v1/", include("records.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", api_not_found),  # any other /api/ URL: the JSON 404, not an HTML page
    # Public verification (no login): a report's page and its QR code.
    path("verify/<str:code>", verification_pages.public_page, name="verify-page"),
    path("verify/<str:code>/qr.svg", verification_pages.qr, name="verify-qr"),
    path("", site.urls),
]
# MEDIA_ROOT is never served, not even with DEBUG: evidence files are read only through the
# evidence view (workflows.pages.corrections.evidence), after the login and the scope check.
# Django's own error answers: JSON in the error format under /api/, the site's pages elsewhere.
handler400 = "records.api.errors.bad_request"
handler403 = "records.api.errors.permission_denied"
handler404 = "records.api.errors.page_not_found"
handler500 = "records.api.errors.server_error"
