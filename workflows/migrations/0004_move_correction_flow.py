"""The correction flow moved from ``workflows/flows.py`` to ``workflows/flows/correction.py``.
viewflow stores a flow and its nodes by module path, so the stored references follow it; then
every open human task of the flow gets its work item (what ``open_item`` writes for new tasks).
No app code is imported: the due times count working days with chinese-calendar directly."""

from __future__ import annotations

import datetime

import chinese_calendar
from django.db import migrations

OLD = "workflows/flows.CorrectionFlow"
NEW = "workflows/flows.correction.CorrectionFlow"
STEPS = {  # node -> (scope attribute, due period in working days)
    "school_review": ("school", 5),
    "province_signoff": ("province", 10),
}


def _rename(old: str, new: str) -> list[str]:
    return [
        f"UPDATE viewflow_process SET flow_class = '{new}' WHERE flow_class = '{old}'",
        f"UPDATE viewflow_task SET flow_task = '{new}' || substr(flow_task, {len(old) + 1})"
        f" WHERE flow_task LIKE '{old}.%'",
    ]


def _working_day(day: datetime.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def _add(start: datetime.datetime, days: int) -> datetime.datetime:
    step, day, left = (1 if days >= 0 else -1), start.date(), abs(days)
    while left:
        day += datetime.timedelta(days=step)
        left -= _working_day(day)
    return start.replace(year=day.year, month=day.month, day=day.day)


def backfill(apps, schema_editor):
    Task = apps.get_model("viewflow", "Task")
    WorkItem = apps.get_model("workflows", "WorkItem")
    CorrectionProcess = apps.get_model("workflows", "CorrectionProcess")
    for node, (scope, period) in STEPS.items():
        rows = Task.objects.filter(
            flow_task=f"{NEW}.{node}", status__in=["NEW", "ASSIGNED", "STARTED"]
        ).values_list("pk", "process_id", "created")
        for task_id, process_id, created in rows:
            process = CorrectionProcess.objects.select_related(
                "request__student", "request__qualification"
            ).get(pk=process_id)
            request = process.request
            due = _add(created, period)
            WorkItem.objects.create(
                task_id=task_id,
                process_id=process_id,
                flow="correction",
                step=node,
                scope_id=str(getattr(process, f"{scope}_id")),
                school_id=request.school_id,
                province_id=request.province_id,
                subject_id=request.pk,
                student_name=request.student.name,
                reference=request.qualification.certificate_number,
                requester_id=request.requester_id,
                summary=[change["field"] for change in request.changes],
                created=created,
                due=due,
                remind_at=_add(due, -2),
            )


def name_pattern_index(apps, schema_editor):
    """``q`` matches the start of a name (``LIKE 'x%'``), which PostgreSQL serves from a
    ``varchar_pattern_ops`` index only (its collation is not C)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX workitem_open_name_prefix ON workflows_workitem"
            " (student_name varchar_pattern_ops) WHERE closed IS NULL"
        )


def drop_name_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS workitem_open_name_prefix")


class Migration(migrations.Migration):
    dependencies = [("workflows", "0003_work_items")]

    operations = [
        migrations.RunSQL(_rename(OLD, NEW), reverse_sql=_rename(NEW, OLD)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(name_pattern_index, drop_name_pattern_index),
    ]
