"""Bulk population for the benchmarks: clone one real, service-made correction (student,
qualification, request, viewflow process and its school-review task) N times with
``INSERT … SELECT`` over ``generate_series``, spread over many schools. The clones are rows
exactly like the services write, minus the audit and outbox rows (which no benchmarked query
reads)."""

from __future__ import annotations

from django.db import connection
from django.db import models
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


def clone_corrections(
    *, template: CorrectionRequest, schools: list[tuple[str, str]], start: int, count: int
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
        RETURNING id, id_number
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
    with connection.cursor() as cursor:
        cursor.execute(sql)
        # As after any bulk load: statistics for the planner, and nothing left for autovacuum
        # to do (on two cores it would compete with the measurements that follow).
        cursor.execute("VACUUM (ANALYZE)")
