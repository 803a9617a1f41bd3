"""Searching admissions and student statuses: one rule for the API and the pages."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q

from records.models import StudentStatus

ID_NUMBER_LIKE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9Xx]|[A-Za-z0-9]{8,}")
STUDENT_NUMBER_MAX = 20


def search(q: str, model: type[Any]) -> Q:
    """A name's start; a candidate or student number (in full, or its start); an ID number
    only in full (a prefix of one would let a search enumerate them)."""
    match = Q(student__name__startswith=q)
    if q.isascii() and q.isdigit():
        match |= Q(candidate_number__startswith=q)
        if model is StudentStatus:
            match |= Q(student_number__startswith=q)
        elif len(q) <= STUDENT_NUMBER_MAX:
            match |= Q(status__student_number=q)
    if ID_NUMBER_LIKE.fullmatch(q):
        match |= Q(student__id_number=q.upper())
    return match
