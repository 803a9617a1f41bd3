"""The account pages at /accounts/: viewflow's ``AuthViewset`` with the shell's own templates.

``django.contrib.admin`` comes before viewflow in ``INSTALLED_APPS``, so the stock
``registration/*.html`` templates would be the admin's (its header, its breadcrumbs to /admin/).
Every page here names its own template. What is left out of ``AuthViewset``, on purpose:

- password reset by email (not asked for; its emails would bypass the notification outbox);
- viewflow's profile page (it listed every column of the user, superuser flag included, and
  took avatar uploads): ``profile`` is our own page instead;
- the "password changed" page: the change redirects to the profile with a message.

Added: the login form says when a lockout ends (``records.logins``), one's own email
address is changed through a link sent to the new address (``records.accounts``), and a
freshman claims their account with their admission (``claim``, ``records.admissions.claim``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import password_validation
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.urls import path
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView
from viewflow.contrib.auth import AuthenticationForm
from viewflow.contrib.auth import AuthViewset
from viewflow.utils import viewprop

from permissions import roles
from records.accounts import EMAIL_CHANGE_MAX_AGE
from records.accounts import EmailChange
from records.accounts import announce_password_change
from records.accounts import email_change_confirm
from records.accounts import email_change_pending
from records.accounts import email_change_request
from records.admissions.claim import EMAIL_MAX
from records.admissions.claim import NAME_MAX
from records.admissions.claim import PASSWORD_MAX
from records.admissions.claim import USERNAME_MAX
from records.admissions.claim import AlreadyClaimedError
from records.admissions.claim import ClaimMismatchError
from records.admissions.claim import ClaimThrottledError
from records.admissions.claim import check_fields
from records.admissions.claim import claim_account
from records.demo import DEMO_FRESHMAN
from records.demo import demo_id_number
from records.logins import client_ip
from records.logins import locked_out_error
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


class LoginForm(AuthenticationForm):  # viewflow's (icons on the fields)
    """The login form; a locked-out login is told until when instead of "wrong password"."""

    def get_invalid_login_error(self) -> ValidationError:
        error: ValidationError = locked_out_error(self.request) or super().get_invalid_login_error()
        return error


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("New email address"))


class EmailChangeView(FormView):  # type: ignore[type-arg]
    """Ask to change one's email address: a link goes to the new address, a notice to the
    current one, and nothing changes until the link is opened."""

    template_name = "workflows/accounts/email_change.html"
    form_class = EmailChangeForm
    success_url = reverse_lazy("profile")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        _in_shell(request)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "account": self.request.user}

    def form_valid(self, form: EmailChangeForm) -> HttpResponse:
        user: User = self.request.user  # type: ignore[assignment]
        try:
            change = email_change_request(user=user, new_email=form.cleaned_data["email"])
        except ValidationError as error:
            form.add_error(None, error)  # on the field it names
            return self.form_invalid(form)
        messages.success(
            self.request,
            _(
                "A confirmation link was sent to %(email)s. Your address changes when you open "
                "it, within %(days)d days; until then your emails go to your current address."
            )
            % {"email": change.new, "days": EMAIL_CHANGE_MAX_AGE.days},
        )
        return super().form_valid(form)


class EmailConfirmView(View):
    """The link of the confirmation email: shows the change and confirms it on POST (a
    mail scanner that opens the link changes nothing); refuses an altered, expired, replayed
    or another user's link with a page that says which."""

    template_name = "workflows/accounts/email_confirm.html"

    def _page(
        self,
        request: HttpRequest,
        *,
        change: EmailChange | None = None,
        error: ValidationError | None = None,
    ) -> TemplateResponse:
        _in_shell(request)
        response = views.page(
            request,
            self.template_name,
            {"account": request.user, "change": change, "errors": error.messages if error else []},
        )
        if error is not None:
            response.status_code = 400
        return response

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        try:
            change = email_change_pending(user=user, token=token)
        except ValidationError as error:
            return self._page(request, error=error)
        return self._page(request, change=change)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        try:
            change = email_change_confirm(user=user, token=token)
        except ValidationError as error:
            return self._page(request, error=error)
        messages.success(request, _("Your email address is now %(email)s.") % {"email": change.new})
        return redirect("profile")


# Room for the spaces and full-width characters people type; the service checks the rest.
TYPED_MAX = 64


class ClaimForm(forms.Form):
    """The facts of the admission, and the login to create; the service checks them."""

    candidate_number = forms.CharField(
        label=gettext_lazy("Candidate number"),
        max_length=TYPED_MAX,
        help_text=gettext_lazy("考生号: the digits on your admission notice."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=TYPED_MAX,
        help_text=gettext_lazy("The ID number you applied with."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX * 2,
        help_text=gettext_lazy("Your name, as you applied with it."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    username = forms.CharField(
        label=gettext_lazy("User name"),
        max_length=USERNAME_MAX,
        help_text=gettext_lazy("What you will log in with: letters, digits and @ . + - _"),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    email = forms.CharField(
        label=gettext_lazy("Email"),
        max_length=EMAIL_MAX,
        help_text=gettext_lazy("Where your account's emails go."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        max_length=PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=gettext_lazy("Password again"),
        max_length=PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        help_texts = password_validation.password_validators_help_texts()
        self.fields["password"].help_text = " ".join(str(text) for text in help_texts)

    def clean(self) -> dict[str, Any]:
        """Every field's own rules at once (the service's, which look nothing up), and the
        password typed twice the same."""
        cleaned: dict[str, Any] = super().clean() or {}
        first, again = cleaned.get("password"), cleaned.get("password_again")
        if first and again and first != again:
            self.add_error("password_again", _("The two passwords differ."))
        fields = ("candidate_number", "id_number", "name", "username", "email", "password")
        if all(field in cleaned for field in fields):
            try:
                check_fields(**{field: cleaned[field] for field in fields})
            except ValidationError as error:
                self.add_error(None, error)  # on the fields it names
        return cleaned


class ClaimView(FormView):  # type: ignore[type-arg]
    """新生认领账号: a freshman creates their login with their admission's candidate number,
    ID number and name, is logged in and lands on their home page, which shows the
    admission. Answered 429 with ``Retry-After`` when the address has failed too often."""

    template_name = "workflows/accounts/claim.html"
    form_class = ClaimForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            return redirect("home:index")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        if settings.DEBUG:  # as the login page's demo users
            freshman = DEMO_FRESHMAN
            context["demo_freshman"] = {
                "candidate_number": freshman.candidate_number,
                "id_number": demo_id_number(freshman),
                "name": freshman.name,
            }
        return context

    def form_valid(self, form: ClaimForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            claimed = claim_account(
                candidate_number=data["candidate_number"],
                id_number=data["id_number"],
                name=data["name"],
                username=data["username"],
                email=data["email"],
                password=data["password"],
                address=client_ip(self.request),
                language=translation.get_language() or "",
            )
        except ValidationError as error:
            form.add_error(None, error)  # on the fields it names
            return self.form_invalid(form)
        except (ClaimMismatchError, AlreadyClaimedError) as refused:
            form.add_error(None, refused.message)
            return self.form_invalid(form)
        except ClaimThrottledError as refused:
            form.add_error(None, refused.message)
            response = self.form_invalid(form)
            response.status_code = 429
            response["Retry-After"] = str(refused.retry_after)
            return response
        login(self.request, claimed.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            self.request,
            _(
                "Welcome, %(name)s: your account %(username)s is ready. Log in with this user "
                "name from now on; an email to %(email)s confirms it."
            )
            % {
                "name": claimed.person.name,
                "username": claimed.user.username,
                "email": claimed.user.email,
            },
        )
        return redirect("home:index")


class AccountViewset(AuthViewset):
    """Log in, log out (back to the login page), profile, password change, email change, and
    a freshman's claim of their account."""

    login_view_class = views.LoginView
    pass_change_view_class = PasswordChangeView

    # Left out (see the module's docstring): viewflow skips a pattern that is None.
    pass_change_done_path = None
    pass_reset_path = None
    pass_reset_done_path = None
    pass_reset_confirm_path = None
    pass_reset_complete_path = None

    def get_login_view_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = super().get_login_view_kwargs(form_class=LoginForm, **kwargs)
        return result

    @property
    def email_change_path(self) -> URLPattern:
        return path("email/", EmailChangeView.as_view(), name="email_change")

    @property
    def claim_path(self) -> URLPattern:
        return path("claim/", login_not_required(ClaimView.as_view()), name="claim")

    @property
    def email_confirm_path(self) -> URLPattern:
        return path(
            "email/confirm/<str:token>/", EmailConfirmView.as_view(), name="email_change_confirm"
        )

    def get_logout_view_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        return {"next_page": settings.LOGIN_URL, **kwargs}

    @viewprop
    def profile_view(self) -> Any:
        return profile


accounts = AccountViewset()
