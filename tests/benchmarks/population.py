"""Bulk population for the benchmarks: clone one real, service-made correction (student,
qualification, request, viewflow process and its school-review task) N times with
``INSERT … SELECT`` over ``generate_series``, spread over many schools. The clones are rows
exactly like the services write, minus the audit and outbox rows (which no benchmarked query
reads). Every second clone waits at the province, every tenth is overdue, and each has its
work item; the kept counts are rebuilt from the items."""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.db import connection
from django.db import models
from django.db import transaction
from pgtrigger import runtime as pgtrigger_runtime
from viewflow.workflow.models import Process
from viewflow.workflow.models import Task

from records.models import CorrectionRequest
from records.models import Qualification
from records.models import Student
from workflows.models import CorrectionProcess


def _columns(model: type[models.Model]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if not f.primary_key or f.remote_field]


def _select(model: type[models.Model], alias: str, overrides: dict[str, str]) -> tuple[str, str]:
    cols = [c for c in _columns(model) if c not in ("id",)]
    if model is CorrectionProcess:
        cols = ["process_ptr_id", "request_id", "school_id", "province_id"]
    exprs = [overrides.get(c, f"{alias}.{connection.ops.quote_name(c)}") for c in cols]
    return ", ".join(connection.ops.quote_name(c) for c in cols), ", ".join(exprs)


# Every second round of new tasks over the schools waits at the province, every tenth round is
# overdue (``rounds``: the number of schools, so each school gets its share): as the services
# would leave them (the request forwarded, the task on the sign-off node and the province's scope).
_TO_PROVINCE = """
WITH moved AS (
    UPDATE viewflow_task t
    SET flow_task = replace(t.flow_task, '.school_review', '.province_signoff'),
        owner_permission_obj_pk = cp.province_id
    FROM workflows_correctionprocess cp
    WHERE cp.process_ptr_id = t.process_id AND t.status = 'NEW' AND (t.id / {rounds}) % 2 = 0
      AND t.flow_task LIKE '%.school_review'
      AND NOT EXISTS (SELECT 1 FROM workflows_workitem w WHERE w.task_id = t.id)
    RETURNING cp.request_id
)
UPDATE records_correctionrequest r SET state = 'school_approved' FROM moved
WHERE r.id = moved.request_id
"""
_WORK_ITEMS = """
INSERT INTO workflows_workitem (task_id, process_id, flow, step, scope_id, school_id,
    province_id, subject_id, student_name, reference, requester_id, summary, created, due,
    remind_at, overdue_at, decision)
SELECT t.id, t.process_id, 'correction',
    CASE WHEN t.flow_task LIKE '%.school_review' THEN 'school_review' ELSE 'province_signoff' END,
    t.owner_permission_obj_pk, r.school_id, r.province_id, r.id, s.name, q.certificate_number,
    r.requester_id, '["name"]'::jsonb, c.created, c.created + interval '7 days',
    c.created + interval '5 days', CASE WHEN (t.id / {rounds}) % 10 = 3 THEN now() END, ''
FROM viewflow_task t
JOIN workflows_correctionprocess cp ON cp.process_ptr_id = t.process_id
JOIN records_correctionrequest r ON r.id = cp.request_id
JOIN records_student s ON s.id = r.student_id
JOIN records_qualification q ON q.id = r.qualification_id
CROSS JOIN LATERAL (SELECT now() - (1000000 - t.id) * interval '10 seconds' AS created) c
WHERE t.status = 'NEW' AND t.flow_task_type = 'HUMAN'
  AND NOT EXISTS (SELECT 1 FROM workflows_workitem w WHERE w.task_id = t.id)
"""
_RECOUNT = [
    "DELETE FROM workflows_workcount",
    """INSERT INTO workflows_workcount (flow, step, school_id, province_id, scope_id, open, overdue)
    SELECT flow, step, school_id, province_id, scope_id, count(*),
        count(*) FILTER (WHERE overdue_at IS NOT NULL)
    FROM workflows_workitem WHERE closed IS NULL
    GROUP BY flow, step, school_id, province_id, scope_id""",
]


def _add_work(cursor: Any, *, to_province: bool, rounds: int) -> None:
    """The cloned tasks' work items, and the kept counts rebuilt from the items."""
    if to_province:
        cursor.execute(_TO_PROVINCE.format(rounds=rounds))
    cursor.execute(_WORK_ITEMS.format(rounds=rounds))
    for statement in _RECOUNT:
        cursor.execute(statement)


def clone_corrections(
    *,
    template: CorrectionRequest,
    schools: list[tuple[str, str]],
    start: int,
    count: int,
    to_province: bool = True,
) -> None:
    """Add ``count`` open corrections numbered from ``start``; school i = schools[i % len]."""
    process = CorrectionProcess.objects.get(request=template)
    task = Task.objects.get(process=process, flow_task_type="HUMAN")
    codes = "ARRAY[" + ",".join(f"'{code}'" for code, _ in schools) + "]"
    provs = "ARRAY[" + ",".join(f"'{prov}'" for _, prov in schools) + "]"
    n = len(schools)
    school_expr = f"({codes})[1 + (g.i % {n})]"
    prov_expr = f"({provs})[1 + (g.i % {n})]"
    t = connection.ops.quote_name
    s_cols, s_vals = _select(
        Student,
        "ts",
        {
            "id_type": "'passport'",
            "id_number": "'B' || lpad(g.i::text, 10, '0')",
            "user_id": "NULL",
            "name": "'学生' || g.i",
        },
    )
    q_cols, q_vals = _select(
        Qualification,
        "tq",
        {
            "student_id": "s.id",
            "school_id": school_expr,
            "province_id": prov_expr,
            "certificate_number": "'8' || lpad(g.i::text, 17, '0')",
            "name": "s.name",
            "id_number": "s.id_number",
            "id_type": "'passport'",
        },
    )
    r_cols, r_vals = _select(
        CorrectionRequest,
        "tr",
        {
            "qualification_id": "q.id",
            "student_id": "q.student_id",
            "school_id": "q.school_id",
            "province_id": "q.province_id",
            "reason": "'bench ' || q.certificate_number",
        },
    )
    p_cols, p_vals = _select(Process, "tp", {"data": "jsonb_build_object('request', r.id)"})
    k_cols, k_vals = _select(
        Task,
        "tk",
        {
            "process_id": "p.id",
            "owner_permission_obj_pk": "r.school_id",
            "data": "'{}'::jsonb",
        },
    )
    # Identifiers and integers from our own models only: no user input reaches this SQL.
    sql = f"""
    WITH g AS (SELECT i FROM generate_series({start}, {start + count - 1}) AS i),
    s AS (
        INSERT INTO {t(Student._meta.db_table)} ({s_cols})
        SELECT {s_vals} FROM g, {t(Student._meta.db_table)} ts WHERE ts.id = {template.student_id}
        RETURNING id, id_number, name
    ),
    sg AS (SELECT s.*, substr(s.id_number, 2)::int AS i FROM s),
    q AS (
        INSERT INTO {t(Qualification._meta.db_table)} ({q_cols})
        SELECT {q_vals} FROM sg s JOIN g ON g.i = s.i, {t(Qualification._meta.db_table)} tq
        WHERE tq.id = {template.qualification_id}
        RETURNING id, student_id, school_id, province_id, certificate_number
    ),
    r AS (
        INSERT INTO {t(CorrectionRequest._meta.db_table)} ({r_cols})
        SELECT {r_vals} FROM q, {t(CorrectionRequest._meta.db_table)} tr WHERE tr.id = {template.pk}
        RETURNING id, school_id, province_id
    ),
    p AS (
        INSERT INTO {t(Process._meta.db_table)} ({p_cols})
        SELECT {p_vals} FROM r, {t(Process._meta.db_table)} tp WHERE tp.id = {process.pk}
        RETURNING id, (data->>'request')::bigint AS request_id
    ),
    cp AS (
        INSERT INTO {t(CorrectionProcess._meta.db_table)}
            (process_ptr_id, request_id, school_id, province_id)
        SELECT p.id, r.id, r.school_id, r.province_id FROM p JOIN r ON r.id = p.request_id
        RETURNING process_ptr_id
    )
    INSERT INTO {t(Task._meta.db_table)} ({k_cols})
    SELECT {k_vals} FROM p JOIN r ON r.id = p.request_id, {t(Task._meta.db_table)} tk
    WHERE tk.id = {task.pk}
    """
    # The clones copy a registered qualification: the trigger that makes every row start as
    # a draft (registration's revision and audit then follow) is set aside for the load, as
    # ``pgtrigger.ignore`` does (whose wrapper cannot take this SQL's ``%`` operator).
    with pgtrigger.ignore("records.Qualification:created_as_draft"):
        ignored = "{" + ",".join(pgtrigger_runtime._ignore.value) + "}"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [ignored])
        cursor.execute(sql)
        _add_work(cursor, to_province=to_province, rounds=n)
    with connection.cursor() as cursor:
        # As after any bulk load: statistics for the planner, and nothing left for autovacuum
        # to do (on two cores it would compete with the measurements that follow).
        cursor.execute("VACUUM (ANALYZE)")


def mark_overdue(task_pks: list[int]) -> None:
    """Mark these open work items overdue, and rebuild the kept counts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE workflows_workitem SET overdue_at = now() WHERE task_id = ANY(%s)",
            [task_pks],
        )
        for statement in _RECOUNT:
            cursor.execute(statement)
