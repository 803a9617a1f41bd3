"""Roles are groups. What each role is granted, and on which kind of object."""

from __future__ import annotations

from permissions import codenames

STUDENT = "student"
SCHOOL_OFFICER = "school_officer"
PROVINCIAL_ADMIN = "provincial_admin"
MINISTRY_VIEWER = "ministry_viewer"
PLATFORM_ADMIN = "platform_admin"

ALL = (STUDENT, SCHOOL_OFFICER, PROVINCIAL_ADMIN, MINISTRY_VIEWER, PLATFORM_ADMIN)

# The object permissions a member of the role receives on the school or province it acts for.
SCOPE_GRANTS: dict[str, tuple[str, ...]] = {
    SCHOOL_OFFICER: (codenames.VIEW_SCHOOL_RECORDS, codenames.REVIEW_SCHOOL),
    PROVINCIAL_ADMIN: (codenames.VIEW_PROVINCE_RECORDS, codenames.SIGNOFF_PROVINCE),
    MINISTRY_VIEWER: (codenames.VIEW_PROVINCE_RECORDS,),
}
