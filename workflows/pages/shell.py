"""The shell's own pages: a home page per role, a school page, the language switch, login."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.i18n import set_language as django_set_language

from permissions import codenames
from permissions import roles
from permissions.checks import scope
from records.demo import DEMO_USERS
from records.models import AdmissionRecord
from records.models import CorrectionRequest
from records.models import Province
from records.models import School
from records.models import Student
from records.models import StudentStatus
from records.models import User
from records.people import person_history
from records.qualifications import visible_qualifications
from workflows import work


def visible_corrections(user: User) -> QuerySet[CorrectionRequest]:
    """The correction requests ``user`` may see (own, a school's, a province's), with their
    school for display."""
    return scope(user, codenames.VIEW, CorrectionRequest.objects.select_related("school"))


def page(request: HttpRequest, template: str, context: dict[str, Any]) -> TemplateResponse:
    """Render inside the site shell (the menu needs the site and app of the URL)."""
    match = request.resolver_match
    shell = {"site": getattr(match, "site", None), "app": getattr(match, "app", None)}
    return TemplateResponse(request, template, {**shell, **context})


def own_admissions(person: Student | None) -> dict[str, Any]:
    """A person's admissions and their student statuses (学籍) with their academic-year
    registrations, newest first: what a student sees of them on their home page."""
    if person is None:
        return {"admissions": [], "statuses": []}
    admissions = AdmissionRecord.objects.filter(student=person).select_related(
        "school", "admission_type"
    )
    statuses = (
        StudentStatus.objects.filter(student=person)
        .select_related("school", "admission_type")
        .prefetch_related("year_registrations")
    )
    return {
        "admissions": list(admissions.order_by("-admission_year", "-pk")),
        "statuses": list(statuses.order_by("-entry_date", "-pk")),
    }


def home(request: HttpRequest) -> TemplateResponse:
    """What this user may see, by role; every list goes through ``scope``."""
    user: User = request.user  # type: ignore[assignment]
    role_names = set(user.groups.values_list("name", flat=True))
    person = Student.objects.filter(user=user).select_related("ethnicity").first()
    schools = work.with_counts(
        scope(user, codenames.VIEW, School.objects.select_related("province"))
    )
    provinces = scope(user, codenames.VIEW_PROVINCE_RECORDS, Province.objects.all())
    school_page = Paginator(schools, 50).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "roles": [r for r in roles.ALL if r in role_names],
        "person": person,
        "person_history": person_history(person) if person else [],
        **own_admissions(person),
        "qualifications": visible_qualifications(user).select_related("school")[:20]
        if person or schools.exists()
        else [],
        "corrections": visible_corrections(user).order_by("-created")[:20],
        "tasks_count": sum(row["open"] for row in work.counts(user)),
        "provinces": provinces,
        "schools": school_page,
        "is_platform_admin": user.is_staff or roles.PLATFORM_ADMIN in role_names,
    }
    return page(request, "workflows/home.html", context)


def school_detail(request: HttpRequest, code: str) -> TemplateResponse:
    """A school the user may see; any other answers 404."""
    school = get_object_or_404(
        scope(request.user, codenames.VIEW, School.objects.select_related("province")), pk=code
    )
    qualifications = (
        visible_qualifications(request.user).filter(school=school).order_by("-created")[:50]
    )
    return page(
        request, "workflows/school.html", {"school": school, "qualifications": qualifications}
    )


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language``; a signed-in user's choice is also kept on the account, so
    their emails follow it."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    known = {code for code, _ in settings.LANGUAGES}
    if request.method == "POST" and language in known and request.user.is_authenticated:
        User.objects.filter(pk=request.user.pk).update(language=language)
    return response


class LoginView(auth_views.LoginView):
    """The login page, with the demo logins shown in development only."""

    template_name = "workflows/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if settings.DEBUG:
            context["demo_users"] = DEMO_USERS
            context["demo_password"] = settings.DEMO_PASSWORD
        return context

    def get_success_url(self) -> str:
        url = self.get_redirect_url()
        safe = url_has_allowed_host_and_scheme(url, allowed_hosts={self.request.get_host()})
        return url if url and safe else "/"
