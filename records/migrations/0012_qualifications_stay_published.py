# The published record stays published (issue 11, item 3).

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0011_transfers'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='qualification',
            name='registered_immutable',
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='qualification',
            trigger=pgtrigger.compiler.Trigger(name='registered_immutable', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN ((OLD."status" IN (\'registered\', \'revoked\') AND (OLD."name" IS DISTINCT FROM (NEW."name") OR OLD."gender" IS DISTINCT FROM (NEW."gender") OR OLD."birth_date" IS DISTINCT FROM (NEW."birth_date") OR OLD."id_type" IS DISTINCT FROM (NEW."id_type") OR OLD."id_number" IS DISTINCT FROM (NEW."id_number") OR OLD."photo" IS DISTINCT FROM (NEW."photo") OR OLD."education_type" IS DISTINCT FROM (NEW."education_type") OR OLD."start_date" IS DISTINCT FROM (NEW."start_date") OR OLD."graduation_date" IS DISTINCT FROM (NEW."graduation_date") OR OLD."major_code" IS DISTINCT FROM (NEW."major_code") OR OLD."major_name" IS DISTINCT FROM (NEW."major_name") OR OLD."level" IS DISTINCT FROM (NEW."level") OR OLD."study_length" IS DISTINCT FROM (NEW."study_length") OR OLD."learning_form" IS DISTINCT FROM (NEW."learning_form") OR OLD."graduation_result" IS DISTINCT FROM (NEW."graduation_result") OR OLD."principal_name" IS DISTINCT FROM (NEW."principal_name") OR OLD."certificate_number" IS DISTINCT FROM (NEW."certificate_number") OR OLD."minor_note" IS DISTINCT FROM (NEW."minor_note") OR OLD."student_id" IS DISTINCT FROM (NEW."student_id") OR OLD."school_id" IS DISTINCT FROM (NEW."school_id") OR OLD."province_id" IS DISTINCT FROM (NEW."province_id"))) OR (OLD."status" = \'revoked\' AND (NEW."status" IS DISTINCT FROM (OLD."status") OR NEW."revoked_at" IS DISTINCT FROM (OLD."revoked_at") OR NEW."revoke_reason" IS DISTINCT FROM (OLD."revoke_reason"))) OR (NOT (OLD."status" = \'draft\') AND NEW."status" = \'draft\'))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='ad7f872f26aee127cac05275b24fc4e4e969b1bd', operation='UPDATE', pgid='pgtrigger_registered_immutable_2eabd', table='records_qualification', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='qualification',
            trigger=pgtrigger.compiler.Trigger(name='created_as_draft', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (NOT (NEW."status" = \'draft\'))', func="RAISE EXCEPTION 'pgtrigger: Cannot insert rows from % table', TG_TABLE_NAME;", hash='95b29198986b99e4536143d580c2d0a1bdf593fb', operation='INSERT', pgid='pgtrigger_created_as_draft_f93dc', table='records_qualification', when='BEFORE')),
        ),
    ]
