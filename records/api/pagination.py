"""Paging of the API's lists: ``limit``/``offset`` with a maximum page size.

DRF's own ``LimitOffsetPagination`` takes any ``limit`` (a huge one returns a whole table)
and hands any ``offset`` to the database (2**63 is out of PostgreSQL's bigint range: a 500).
Here ``limit`` is capped at ``API_MAX_PAGE_SIZE`` (200 unless set) and an ``offset`` past
the end answers an empty page without asking the database for rows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.request import Request
from rest_framework.views import APIView

DEFAULT_MAX_PAGE_SIZE = 200


def max_page_size() -> int:
    return int(getattr(settings, "API_MAX_PAGE_SIZE", DEFAULT_MAX_PAGE_SIZE))


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """``?limit=`` (1 to the maximum, default ``PAGE_SIZE``) and ``?offset=``."""

    def __init__(self) -> None:
        self.max_limit = max_page_size()  # per view instance: read when a request comes

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if self.offset >= self.count:  # also the offsets no database column could hold
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_limit)
                parameter["description"] = (
                    f"Number of results to return per page (at most {self.max_limit}; a larger "
                    "value returns that many)."
                )
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"]["minimum"] = 0
        return parameters
