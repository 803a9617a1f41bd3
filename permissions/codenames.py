"""Every permission the checks name, declared once.

Scoped permissions are granted on a School or a Province object (guardian), never globally
and never per record: see DESIGN.md §4.
"""

from __future__ import annotations

# Granted on a School to its officers.
VIEW_SCHOOL_RECORDS = "records.view_school_records"
REVIEW_SCHOOL = "records.review_school"
# Granted on a Province to its administrators (and, read-only, to ministry viewers).
VIEW_PROVINCE_RECORDS = "records.view_province_records"
SIGNOFF_PROVINCE = "records.signoff_province"

SCOPED = (VIEW_SCHOOL_RECORDS, REVIEW_SCHOOL, VIEW_PROVINCE_RECORDS, SIGNOFF_PROVINCE)

# The meta-permission "may see": owner, or any of the view grants.
VIEW = "view"
VIEW_GRANTS = (VIEW_SCHOOL_RECORDS, VIEW_PROVINCE_RECORDS)
