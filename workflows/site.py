"""The web shell: one viewflow ``Site`` for every role. Add a flow's pages by appending its
``Application`` to ``site``'s viewsets."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application
from viewflow.urls import Site

from workflows import correction_views
from workflows import views


class HomeApp(Application):
    title = _("Home")
    icon = "home"
    app_name = "home"
    menu_template_name = None  # a single page: the site menu's entry is enough

    index_path = path("", views.home, name="index")
    school_path = path("schools/<str:code>/", views.school_detail, name="school")


class CorrectionsApp(Application):
    """Corrections of registered qualifications: the student's and officers' pages."""

    title = _("Corrections")
    icon = "edit_note"
    app_name = "corrections"
    menu_template_name = None

    # viewflow's menu links every application to its "index" URL.
    index_path = path("", correction_views.task_list, name="index")
    qualification_path = path(
        "qualifications/<int:pk>/", correction_views.qualification_page, name="qualification"
    )
    detail_path = path("<int:pk>/", correction_views.detail, name="detail")
    evidence_path = path("evidence/<int:pk>/", correction_views.evidence, name="evidence")
    task_path = path("tasks/<int:task_pk>/", correction_views.task, name="task")


site = Site(title=_("Xueji student records"), viewsets=[HomeApp(), CorrectionsApp()])
