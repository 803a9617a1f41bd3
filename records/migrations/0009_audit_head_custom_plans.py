"""The audit events' ``keep_head`` trigger: its plans, its index and its level.

A registration's appends grew quadratic in one session. PL/pgSQL caches a plan per statement
of a function for the session and, after five runs, keeps a generic plan costed once. The
row trigger's ``SELECT … FOR UPDATE`` of the chain's head (``subject_type_id = … AND
subject_id = …``), costed while the heads were few, read the head through the foreign key's
index on subject_type_id alone and filtered on subject_id: every head of the subject type
(nearly all heads are admissions' or persons') for each event. In a fresh database 500
events' insert took 0.2 s at first and 1.3-1.8 s once 10,000 heads were there.

- The index on subject_type_id alone goes: the unique (subject_type_id, subject_id) serves
  the foreign key (its first column), so no plan can pick it.
- ``keep_head`` and ``written_by_append`` become statement triggers: the events of a
  statement are checked against their heads (and each against the one before it in its
  chain) in one query and the heads moved in one upsert; the row triggers cost more than the
  rows they guarded.
- PostgreSQL: ``keep_head``'s function plans its statements for each insert
  (``plan_cache_mode = force_custom_plan``), with the statement's rows and the tables' sizes
  of the moment: a generic plan costed on a handful of heads would scan them.

pgtrigger writes a trigger's function with ``CREATE OR REPLACE FUNCTION`` when the trigger's
definition changes, which drops the setting: a migration that installs a new version of
``keep_head`` must run ``force_custom_plans`` again (``tests/records/test_audit_heads.py``
checks that the setting is there).
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

FUNCTION = "pgtrigger_keep_head_283c4()"


def force_custom_plans(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER FUNCTION {FUNCTION} SET plan_cache_mode = force_custom_plan")


def default_plans(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER FUNCTION {FUNCTION} RESET plan_cache_mode")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('records', '0008_year_registrations'),
    ]

    operations = [
        migrations.AlterField(
            model_name='audithead',
            name='subject_type',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype'),
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='auditevent',
            name='keep_head',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='audithead',
            name='written_by_append',
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='auditevent',
            trigger=pgtrigger.compiler.Trigger(name='keep_head', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE broken record;', func="\nPERFORM 1 FROM records_audithead\n    WHERE (subject_type_id, subject_id) IN (SELECT subject_type_id, subject_id FROM new_events)\n    ORDER BY subject_type_id, subject_id FOR UPDATE;\nSELECT e.seq, e.subject_type_id, e.subject_id,\n       coalesce(e.before_seq, h.seq, 0) AS follows\n    INTO broken\n    FROM (SELECT subject_type_id, subject_id, seq, prev_hash,\n                 lag(seq) OVER chain AS before_seq, lag(hash) OVER chain AS before_hash\n          FROM new_events\n          WINDOW chain AS (PARTITION BY subject_type_id, subject_id ORDER BY seq)) e\n    LEFT JOIN records_audithead h\n        ON h.subject_type_id = e.subject_type_id AND h.subject_id = e.subject_id\n    WHERE CASE WHEN e.before_seq IS NULL\n               THEN e.seq <> coalesce(h.seq, 0) + 1\n                    OR e.prev_hash <> coalesce(h.hash, repeat('0', 64))  -- GENESIS_HASH\n               ELSE e.seq <> e.before_seq + 1 OR e.prev_hash <> e.before_hash\n          END\n    ORDER BY e.subject_type_id, e.subject_id, e.seq\n    LIMIT 1;\nIF FOUND THEN\n    RAISE EXCEPTION 'audit event % of %:% does not follow its chain''s head (seq %)',\n        broken.seq, broken.subject_type_id, broken.subject_id, broken.follows;\nEND IF;\nINSERT INTO records_audithead (subject_type_id, subject_id, seq, hash)\n    SELECT DISTINCT ON (subject_type_id, subject_id) subject_type_id, subject_id, seq, hash\n    FROM new_events\n    ORDER BY subject_type_id, subject_id, seq DESC\n    ON CONFLICT (subject_type_id, subject_id)\n    DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;\nRETURN NULL;\n", hash='e495e7a31e74d0385a64504e923d16133a2c0b10', level='STATEMENT', operation='INSERT', pgid='pgtrigger_keep_head_283c4', referencing='REFERENCING NEW TABLE AS new_events ', table='records_auditevent', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='audithead',
            trigger=pgtrigger.compiler.Trigger(name='written_by_append', sql=pgtrigger.compiler.UpsertTriggerSql(func="\nIF pg_trigger_depth() < 2 THEN\n    RAISE EXCEPTION 'pgtrigger: audit heads move only when an audit event is inserted';\nEND IF;\nRETURN NULL;\n", hash='251d5d95c52633d6f7922bb72dd84a3b16b7fde2', level='STATEMENT', operation='INSERT OR UPDATE', pgid='pgtrigger_written_by_append_ae8e4', table='records_audithead', when='BEFORE')),
        ),
        migrations.RunPython(force_custom_plans, default_plans),
    ]
