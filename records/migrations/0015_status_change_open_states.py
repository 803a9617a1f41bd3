# The open states of transfers and of adverse decisions, together (two branches merged).

import django_fsm
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0014_adverse_decisions'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='statuschangerequest',
            name='one_open_status_change_per_type',
        ),
        migrations.AlterField(
            model_name='statuschangerequest',
            name='state',
            field=django_fsm.FSMField(choices=[('submitted', 'Submitted'), ('department_approved', 'Approved at the first school level'), ('school_approved', 'Approved by the school'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('returned', 'Returned for revision'), ('withdrawn', 'Withdrawn'), ('in_appeal', 'In the appeal period'), ('overturned', 'Cancelled on appeal'), ('target_review', 'Approved by the sending school'), ('in_notice', 'In public notice'), ('notice_ended', 'Public notice ended')], default='submitted', max_length=50, protected=True, verbose_name='state'),
        ),
        migrations.AddConstraint(
            model_name='statuschangerequest',
            constraint=models.UniqueConstraint(condition=models.Q(('state__in', ['submitted', 'department_approved', 'school_approved', 'returned', 'in_appeal', 'target_review', 'in_notice', 'notice_ended'])), fields=('status', 'type'), name='one_open_status_change_per_type'),
        ),
    ]
