from __future__ import annotations

from django.urls import URLPattern
from django.urls import URLResolver

app_name = "api"
urlpatterns: list[URLPattern | URLResolver] = []
