"""The web shell: one viewflow ``Site`` for every role. Add a flow's pages by appending its
``Application`` to ``site``'s viewsets."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application
from viewflow.urls import Site

from workflows import views


class HomeApp(Application):
    title = _("Home")
    icon = "home"
    app_name = "home"
    menu_template_name = None  # a single page: the site menu's entry is enough

    index_path = path("", views.home, name="index")
    school_path = path("schools/<str:code>/", views.school_detail, name="school")


site = Site(title=_("Xueji student records"), viewsets=[HomeApp()])
