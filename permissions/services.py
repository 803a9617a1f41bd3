"""Granting and revoking roles and scoped permissions: the only writes to guardian's tables."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db import transaction
from guardian.shortcuts import assign_perm
from guardian.shortcuts import get_perms
from guardian.shortcuts import remove_perm

from permissions import roles
from permissions.checks import forget
from permissions.checks import granted_ids

UNKNOWN_ROLE = "unknown role %(role)s"


def role_group(role: str) -> Group:
    if role not in roles.ALL:
        raise ValidationError(UNKNOWN_ROLE, params={"role": role})
    group, _ = Group.objects.get_or_create(name=role)
    return group


def ensure_roles() -> None:
    for role in roles.ALL:
        role_group(role)


@transaction.atomic
def grant_role(user: AbstractUser, role: str, scope_object: models.Model | None = None) -> None:
    """Make ``user`` a member of ``role``, acting for ``scope_object`` (a School or Province).

    Only object permissions are granted: a role never holds a global scoped permission.
    """
    user.groups.add(role_group(role))
    for perm in roles.SCOPE_GRANTS.get(role, ()):
        if scope_object is None:
            raise ValidationError(
                "role %(role)s needs the school or province it acts for", params={"role": role}
            )
        assign_perm(perm, user, scope_object)
    forget(user)


@transaction.atomic
def revoke_role(user: AbstractUser, role: str, scope_object: models.Model | None = None) -> None:
    """Withdraw the role's grants on ``scope_object``; leave the group once none remain."""
    perms = roles.SCOPE_GRANTS.get(role, ())
    for perm in perms:
        if scope_object is not None:
            remove_perm(perm, user, scope_object)
    forget(user)
    if not any(granted_ids(user, perm) for perm in perms):
        user.groups.remove(role_group(role))


def perms_on(user: AbstractUser, scope_object: models.Model) -> list[str]:
    """The codenames ``user`` holds on one scope object (for display and the API)."""
    return list(get_perms(user, scope_object))
