"""Direct-foreign-key tables for guardian's object permissions on schools and provinces.

Guardian finds these through the reverse relation named ``content_object`` and uses them
instead of its generic tables: real foreign keys, cascade on delete, integer-free joins
(PERMISSIONS.md §1). The targets are named by string so this package imports no records code.
"""

from __future__ import annotations

from django.db import models
from guardian.models import GroupObjectPermissionBase
from guardian.models import UserObjectPermissionBase


class SchoolUserPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("records.School", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class SchoolGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("records.School", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class ProvinceUserPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("records.Province", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class ProvinceGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("records.Province", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
