from __future__ import annotations

from django.db import migrations

ROLES = ("student", "school_officer", "provincial_admin", "ministry_viewer", "platform_admin")


def create_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    group = apps.get_model("auth", "Group")
    for name in ROLES:
        group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("permissions", "0001_scope_object_permissions"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
