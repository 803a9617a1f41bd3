"""An index of ours on viewflow's task table: the open human tasks of one step and one scope
object (a school, a province), newest first, so a task list's first page is read in index
order whatever the number of open tasks (benchmark (b) of issue 3)."""

from __future__ import annotations

from django.db import migrations

INDEX = "workflows_open_task_scope"


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0001_correction_process"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                f"CREATE INDEX {INDEX} ON viewflow_task"
                " (flow_task, owner_permission_obj_pk, created DESC, id DESC)"
                " WHERE status IN ('NEW', 'ASSIGNED', 'STARTED')"
            ),
            reverse_sql=f"DROP INDEX {INDEX}",
        ),
    ]
