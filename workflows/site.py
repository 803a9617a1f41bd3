"""The web shell: one viewflow ``Site`` for every role."""

from __future__ import annotations

from viewflow.urls import Site

site = Site(title="学籍 Xueji", viewsets=[])
