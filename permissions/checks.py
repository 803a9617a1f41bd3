"""The only two permission checks: ``may(user, perm, obj)`` and ``scope(user, perm, queryset)``.

A scoped permission is granted on a scope object (a School or a Province) through guardian.
A record reaches its scope objects through its model's ``scope_paths``, e.g.
``{"records.school": "school_id", "records.province": "province_id", "owner": "user_id"}``.
``scope`` first fetches the few ids of the scope objects granted to the user (one query over
the direct-FK grant tables of ``permissions.models``, once per request), then filters by that
literal list, which an index on the record's ``school_id`` serves (PERMISSIONS.md §2).

``VIEW`` means "may see": the user owns the row, or holds a view grant on its school or
province. Global (model-level) grants of scoped permissions are ignored on purpose.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import Any
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import Permission
from django.db import connection
from django.db import models

from permissions import codenames
from permissions.models import ProvinceGroupPermission
from permissions.models import ProvinceUserPermission
from permissions.models import SchoolGroupPermission
from permissions.models import SchoolUserPermission

_M = TypeVar("_M", bound=models.Model)
AnyUser = AbstractBaseUser | AnonymousUser

_CACHE_ATTR = "_xueji_granted_ids"


@functools.cache
def _scope_model(perm: str) -> type[models.Model]:
    """The model a scoped permission is declared on (School, Province)."""
    app_label, codename = perm.split(".", 1)
    permission = Permission.objects.select_related("content_type").get(
        content_type__app_label=app_label, codename=codename
    )
    model = permission.content_type.model_class()
    assert model is not None, perm  # noqa: S101  (a permission of an uninstalled app)
    return model


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _is_active(user: AnyUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


# (user table, group table) of each scope model's direct-FK grants.
_GRANT_TABLES: tuple[tuple[type[models.Model], type[models.Model]], ...] = (
    (SchoolUserPermission, SchoolGroupPermission),
    (ProvinceUserPermission, ProvinceGroupPermission),
)


def _target(table: type[models.Model]) -> type[models.Model]:
    """The scope model a grant table points at."""
    target = table._meta.get_field("content_object").related_model
    assert isinstance(target, type), table  # noqa: S101  (a concrete model, by construction)
    return target


@functools.cache
def _grants_sql() -> str:
    """One ``UNION ALL`` over every grant table, user and group grants: built once."""
    qn = connection.ops.quote_name
    through: Any = get_user_model()._meta.get_field("groups").remote_field.through
    user_groups = qn(through._meta.db_table)
    permission_table = qn(Permission._meta.db_table)
    parts = []
    for user_table, group_table in _GRANT_TABLES:
        app_label = _target(user_table)._meta.app_label
        for table, principal in ((user_table, "user"), (group_table, "group")):
            name = qn(table._meta.db_table)
            if principal == "user":
                where = f"g.{qn('user_id')} = %s"
            else:
                where = (
                    f"g.{qn('group_id')} IN (SELECT ug.{qn('group_id')} FROM {user_groups} ug"  # noqa: S608
                    f" WHERE ug.{qn('user_id')} = %s)"
                )
            # Only quoted identifiers of our own models are interpolated; the user id is a
            # parameter.
            parts.append(
                f"SELECT '{app_label}.' || p.{qn('codename')}, g.{qn('content_object_id')}"  # noqa: S608
                f" FROM {name} g JOIN {permission_table} p"
                f" ON p.{qn('id')} = g.{qn('permission_id')} WHERE {where}"
            )
    return " UNION ALL ".join(parts)


def _load_grants(user: AnyUser) -> dict[str, frozenset[Any]]:
    """Every object grant of the user, direct or through a group, in one query."""
    sql = _grants_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk] * sql.count("%s"))
        rows = cursor.fetchall()
    grants: dict[str, set[Any]] = {}
    for perm, pk in rows:
        grants.setdefault(perm, set()).add(pk)
    return {perm: frozenset(ids) for perm, ids in grants.items()}


def granted_ids(user: AnyUser, perm: str) -> frozenset[Any] | None:
    """Primary keys of the scope objects on which ``user`` holds ``perm``.

    ``None`` means "all of them": a superuser's view grants. A superuser decides nothing by
    being one: for any other permission (reviewing, signing off) only the grants they hold
    count, as for anyone (issue 11: a superuser without the grant decides nothing). Loaded
    once per user object, which Django creates afresh for every request;
    ``permissions.services`` clears it on grant and revoke. Global (model-level) grants are
    never read here.
    """
    if not _is_active(user):
        return frozenset()
    if getattr(user, "is_superuser", False) and perm in codenames.VIEW_GRANTS:
        return None
    if _CACHE_ATTR not in user.__dict__:
        user.__dict__[_CACHE_ATTR] = _load_grants(user)
    grants: dict[str, frozenset[Any]] = user.__dict__[_CACHE_ATTR]
    return grants.get(perm, frozenset())


def sees_by_grant(user: AnyUser) -> bool:
    """Whether ``user`` sees records by a grant on a school or a province (an officer, an
    administrator, a superuser), not only their own as a student does."""
    return any(granted_ids(user, perm) != frozenset() for perm in codenames.VIEW_GRANTS)


def forget(user: Any) -> None:
    """Drop the cached grants of this user object."""
    user.__dict__.pop(_CACHE_ATTR, None)


def _path(model: type[models.Model], key: str) -> str | None:
    """The one path of ``key`` (the owner's)."""
    found = _paths(model, key)
    return found[0] if found else None


def _paths(model: type[models.Model], key: str) -> tuple[str, ...]:
    """The paths from ``model`` to its scope objects of kind ``key``: one, or several when a
    record belongs to more than one school or province (a transfer: the sending and the
    receiving school)."""
    paths: dict[str, str | tuple[str, ...]] = getattr(model, "scope_paths", {})
    found = paths.get(key)
    if found is None:
        return ()
    return (found,) if isinstance(found, str) else tuple(found)


def _resolve(obj: models.Model, path: str) -> Any:
    value: Any = obj
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def _owns(user: AnyUser, obj: models.Model) -> bool:
    path = _path(type(obj), "owner")
    return path is not None and _resolve(obj, path) == user.pk


def may(user: AnyUser | None, perm: str, obj: models.Model) -> bool:
    """May ``user`` exercise ``perm`` on ``obj`` (a scope object or a record)?"""
    if not _is_active(user):
        return False
    assert user is not None  # noqa: S101  (narrowing for mypy)
    if perm == codenames.VIEW:
        return _owns(user, obj) or any(may(user, p, obj) for p in codenames.VIEW_GRANTS)
    paths = _paths(type(obj), _label(_scope_model(perm)))
    if not paths:
        return False
    ids = granted_ids(user, perm)
    return ids is None or any(_resolve(obj, path) in ids for path in paths)


def _scope_filter(user: AnyUser, perm: str, model: type[models.Model]) -> models.Q | None:
    """The filter for ``perm``; ``None`` when the model cannot be reached by it."""
    paths = _paths(model, _label(_scope_model(perm)))
    if not paths:
        return None
    ids = granted_ids(user, perm)
    if ids is None:
        return models.Q()
    return reduce(or_, (models.Q(**{f"{path}__in": sorted(ids)}) for path in paths))


def _owner_filter(model: type[models.Model], path: str, user: AnyUser) -> models.Q | None:
    """The filter for the rows ``user`` owns. A path through a relation
    (``student__user_id``) is resolved first to the few related keys (the user's person), so
    the filter is a literal ``student_id IN (…)`` on the row's own column, never a join that
    stops an index from serving "the newest rows in scope"; ``None`` when the user owns
    nothing there."""
    first, _, rest = path.partition("__")
    if not rest:
        return models.Q(**{path: user.pk})
    related = model._meta.get_field(first).related_model
    if not (isinstance(related, type) and issubclass(related, models.Model)):
        raise TypeError(f"scope path {path!r} of {model.__name__} names no relation")
    keys = list(related._default_manager.filter(**{rest: user.pk}).values_list("pk", flat=True))
    return models.Q(**{f"{first}_id__in": keys}) if keys else None


def scope(user: AnyUser | None, perm: str, queryset: models.QuerySet[_M]) -> models.QuerySet[_M]:
    """The rows of ``queryset`` on which ``user`` may exercise ``perm``."""
    if not _is_active(user):
        return queryset.none()
    assert user is not None  # noqa: S101
    model = queryset.model
    filters: list[models.Q] = []
    perms: Iterable[str] = codenames.VIEW_GRANTS if perm == codenames.VIEW else (perm,)
    if perm == codenames.VIEW and (owner := _path(model, "owner")):
        owned = _owner_filter(model, owner, user)
        if owned is not None:
            filters.append(owned)
    for p in perms:
        q = _scope_filter(user, p, model)
        if q is not None:
            if not q:  # superuser: everything
                return queryset
            filters.append(q)
    if not filters:
        return queryset.none()
    return queryset.filter(reduce(or_, filters))


def holders(perm: str, scope_object: models.Model) -> models.QuerySet[Any]:
    """The active users who hold ``perm`` on ``scope_object``, directly or through a group.

    For notices ("the school's officers"); never used to decide anything.
    """
    user_model = get_user_model()
    model = _scope_model(perm)
    codename = perm.split(".", 1)[1]
    user_table, group_table = next(t for t in _GRANT_TABLES if _target(t[0]) is model)
    direct = user_table._default_manager.filter(
        permission__codename=codename, content_object=scope_object.pk
    ).values("user_id")
    via_group = group_table._default_manager.filter(
        permission__codename=codename, content_object=scope_object.pk
    ).values("group__user")
    return user_model._default_manager.filter(
        models.Q(pk__in=direct) | models.Q(pk__in=via_group), is_active=True
    ).order_by("pk")
