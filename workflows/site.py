"""The web shell: one viewflow ``Site`` for every role. Add a flow's pages by appending its
``Application`` to ``site``'s viewsets."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application
from viewflow.urls import Site

from permissions.checks import sees_by_grant
from workflows.pages import admissions
from workflows.pages import corrections
from workflows.pages import graduation
from workflows.pages import identity_changes
from workflows.pages import proofs
from workflows.pages import revocations
from workflows.pages import shell
from workflows.pages import status_changes
from workflows.pages import verification
from workflows.pages import worklist
from workflows.pages import years


class HomeApp(Application):
    title = _("Home")
    icon = "home"
    app_name = "home"
    menu_template_name = None  # a single page: the site menu's entry is enough

    index_path = path("", shell.home, name="index")
    school_path = path("schools/<str:code>/", shell.school_detail, name="school")
    # A cancellation of an admission: its student reads it and appeals here.
    cancellation_path = path(
        "cancellations/<id:pk>/", admissions.cancellation_page, name="cancellation"
    )


class WorkApp(Application):
    """The work list and the task page of every flow."""

    title = _("Work list")
    icon = "inbox"
    app_name = "work"
    menu_template_name = None

    index_path = path("", worklist.work_list, name="index")
    task_path = path("<id:task_pk>/", worklist.task, name="task")


class CorrectionsApp(Application):
    """Corrections of registered qualifications: the student's and officers' pages."""

    title = _("Corrections")
    icon = "edit_note"
    app_name = "corrections"
    menu_template_name = None

    # viewflow's menu links every application to its "index" URL.
    index_path = path("", corrections.index, name="index")
    qualification_path = path(
        "qualifications/<id:pk>/", corrections.qualification_page, name="qualification"
    )
    detail_path = path("<id:pk>/", corrections.detail, name="detail")
    evidence_path = path("evidence/<id:pk>/", corrections.evidence, name="evidence")


class AdmissionsApp(Application):
    """Freshmen's admissions: the list with counts, search and bulk outcomes, the cohorts'
    pages with their registration, the import of admission files."""

    title = _("Admissions")
    icon = "school"
    app_name = "admissions"
    menu_template_name = None
    # In the menu of officers and administrators: a student reads their own on the home page.
    permission = staticmethod(sees_by_grant)

    index_path = path("", admissions.index, name="index")
    cohorts_path = path("cohorts/", admissions.cohorts, name="cohorts")
    cohort_path = path("cohorts/<id:pk>/", admissions.cohort_page, name="cohort")
    import_new_path = path("imports/new/", admissions.import_page, name="import_new")
    import_path = path("imports/<id:pk>/", admissions.import_detail, name="import")
    import_errors_path = path(
        "imports/<id:pk>/errors.csv", admissions.import_errors, name="import_errors"
    )


class YearsApp(Application):
    """Academic-year registration (学年注册): the rounds' list, a round's page with its students,
    deferrals and "register everyone enrolled"."""

    title = _("Year registration")
    icon = "how_to_reg"
    app_name = "years"
    menu_template_name = None
    # In the menu of officers and administrators: a student reads their own on the home page.
    permission = staticmethod(sees_by_grant)

    index_path = path("", years.rounds, name="index")
    round_path = path("<id:pk>/", years.round_page, name="round")


class GraduationApp(Application):
    """Qualification registration (学历注册): the graduating cohorts' list (a province's
    administrators: every school's, with counts), an officer's form to open one, and a
    cohort's page: its graduates with their checks and the photo gate, bulk decisions, the
    re-check of a held graduate, and "register the cohort"."""

    title = _("Qualification registration")
    icon = "workspace_premium"
    app_name = "graduations"  # the URL: /graduations/
    namespace = "graduation"
    menu_template_name = None
    # In the menu of officers and administrators: a student reads their own on the home page.
    permission = staticmethod(sees_by_grant)

    index_path = path("", graduation.index, name="index")
    cohort_path = path("<id:pk>/", graduation.cohort_page, name="cohort")


class StatusChangesApp(Application):
    """Status changes (学籍异动): the student files a request from their status and follows
    it; everyone lists the requests they may see. Officers decide on the work list."""

    title = _("Status changes")
    icon = "swap_horiz"
    app_name = "status-changes"  # the URL: /status-changes/
    namespace = "status_changes"
    menu_template_name = None

    index_path = path("", status_changes.index, name="index")
    new_path = path("new/", status_changes.new, name="new")
    detail_path = path("<id:pk>/", status_changes.detail, name="detail")
    past_max_period_path = path(
        "past-max-period/", status_changes.past_max_period, name="past_max_period"
    )


class ProofsApp(Application):
    """Certificate proofs (学历证明书): the student applies from their qualification's page and
    follows the application; everyone lists the applications they may see. Officers decide
    on the work list."""

    title = _("Certificate proofs")
    icon = "verified"
    app_name = "certificate-proofs"  # the URL: /certificate-proofs/
    namespace = "proofs"
    menu_template_name = None

    index_path = path("", proofs.index, name="index")
    new_path = path("new/", proofs.new, name="new")
    detail_path = path("<id:pk>/", proofs.detail, name="detail")
    evidence_path = path("<id:pk>/evidence/<id:evidence_pk>/", proofs.evidence, name="evidence")


class RevocationsApp(Application):
    """Revocations of qualifications: an officer proposes one from the qualification's page;
    its page shows the written decision and the appeal period (delivery, the student's
    appeal). Decisions are taken on the work list."""

    title = _("Revocations")
    icon = "gavel"
    app_name = "revocations"
    menu_template_name = None

    index_path = path("", revocations.index, name="index")
    new_path = path("new/", revocations.new, name="new")
    detail_path = path("<id:pk>/", revocations.detail, name="detail")


class VerificationApp(Application):
    """The student's verification reports: create one for a qualification or their status,
    read its code, link, QR code and access log, extend or revoke it."""

    title = _("Verification reports")
    icon = "verified"
    app_name = "verification"
    menu_template_name = None

    index_path = path("", verification.index, name="index")
    detail_path = path("<id:pk>/", verification.detail, name="detail")


class IdentityChangesApp(Application):
    """Identity changes (DOMAIN.md §2.6): the student files a change of their identity or
    programme from their status, with its proof, and follows it; everyone lists the requests
    they may see. Officers decide on the work list."""

    title = _("Identity changes")
    icon = "badge"
    app_name = "identity-changes"  # the URL: /identity-changes/
    namespace = "identity_changes"
    menu_template_name = None

    index_path = path("", identity_changes.index, name="index")
    new_path = path("new/", identity_changes.new, name="new")
    detail_path = path("<id:pk>/", identity_changes.detail, name="detail")
    evidence_path = path("evidence/<id:pk>/", identity_changes.evidence, name="evidence")


site = Site(
    title=_("Xueji student records"),
    viewsets=[
        HomeApp(),
        WorkApp(),
        AdmissionsApp(),
        YearsApp(),
        GraduationApp(),
        StatusChangesApp(),
        ProofsApp(),
        RevocationsApp(),
        IdentityChangesApp(),
        CorrectionsApp(),
        VerificationApp(),
    ],
)
