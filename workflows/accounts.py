"""The account pages at /accounts/: viewflow's ``AuthViewset`` with the shell's own templates.

``django.contrib.admin`` comes before viewflow in ``INSTALLED_APPS``, so the stock
``registration/*.html`` templates would be the admin's (its header, its breadcrumbs to /admin/).
Every page here names its own template. What is left out of ``AuthViewset``, on purpose:

- password reset by email (not asked for; its emails would bypass the notification outbox);
- viewflow's profile page (it listed every column of the user, superuser flag included, and
  took avatar uploads): ``profile`` is our own page instead;
- the "password changed" page: the change redirects to the profile with a message.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from viewflow.contrib.auth import AuthViewset
from viewflow.utils import viewprop

from permissions import roles
from records.accounts import announce_password_change
from records.models import Student
from records.models import User
from records.people import person_history
from workflows.pages import shell as views
from workflows.site import site


def _in_shell(request: HttpRequest) -> None:
    """These URLs are outside the ``Site``; show them with its menu all the same (viewflow's
    base template reads the site from the resolver match, as ``SiteMiddleware`` sets it)."""
    if request.resolver_match is not None:
        request.resolver_match.site = site  # type: ignore[attr-defined]


def profile(request: HttpRequest) -> TemplateResponse:
    """Who I am: account, language, roles; a student's record (我的信息) with the history of
    its corrections; the way to change the password."""
    _in_shell(request)
    user: User = request.user  # type: ignore[assignment]
    role_names = set(user.groups.values_list("name", flat=True))
    person = Student.objects.filter(user=user).select_related("ethnicity").first()
    return views.page(
        request,
        "workflows/accounts/profile.html",
        {
            "account": user,
            "roles": [r for r in roles.ALL if r in role_names],
            "person": person,
            "person_history": person_history(person) if person else [],
        },
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change inside the shell; the user is told by email too."""

    template_name = "workflows/accounts/password_change.html"
    success_url = reverse_lazy("profile")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        _in_shell(request)
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class: type[Form] | None = None) -> Form:
        form: Form = super().get_form(form_class)
        # Django's help text here is an HTML list; viewflow's field shows it as plain text.
        help_texts = password_validation.password_validators_help_texts()
        form.fields["new_password1"].help_text = " ".join(str(text) for text in help_texts)
        return form

    def form_valid(self, form: Form) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            announce_password_change(form.user)  # type: ignore[attr-defined]
        messages.success(self.request, _("Your password was changed."))
        return response


class AccountViewset(AuthViewset):
    """Log in, log out (back to the login page), profile, password change."""

    login_view_class = views.LoginView
    pass_change_view_class = PasswordChangeView

    # Left out (see the module's docstring): viewflow skips a pattern that is None.
    pass_change_done_path = None
    pass_reset_path = None
    pass_reset_done_path = None
    pass_reset_confirm_path = None
    pass_reset_complete_path = None

    def get_logout_view_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        return {"next_page": settings.LOGIN_URL, **kwargs}

    @viewprop
    def profile_view(self) -> Any:
        return profile


accounts = AccountViewset()
