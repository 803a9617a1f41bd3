"""The identity of an enrolled student, guarded (DOMAIN.md §2.6): the person's name, gender,
birth date, ID document and ethnic group, and the status's programme (major, level, learning
form, study length) change only through an approved identity change request
(``records.identity_changes``), which keeps the values they replace.

What counts as a change: an UPDATE of a guarded column of a person who has a current student
status (enrolled, suspended or reserved), or of a current status. Creating a person or a
status is not a change (imports, registration, seed_demo write them), nor is changing a
person who has no current status (an applicant, a graduate). The writers that may change a
guarded value run inside ``identity_writes``: the identity change's approval, an approved
correction of a qualification (``records.services.student_correct``), and the status change
whose type moves the programme (转专业, ``records.status_changes.services``).

Two guards: ``IdentityGuarded.save`` refuses such a save (``IdentityLockedError``) unless
inside ``identity_writes``; on PostgreSQL a row trigger refuses the UPDATE itself, a raw one
too, unless the transaction-local setting ``xueji.identity_change`` names the writer
(``identity_writes`` sets it with ``set_config(…, true)``, i.e. ``SET LOCAL``). A queryset's
``update()`` bypasses ``save``: on SQLite nothing refuses it (nothing in the code does it).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any
from typing import ClassVar

import pgtrigger
from django.db import connection
from django.db import models
from django.utils.translation import gettext_lazy as _

from records.choices import OPEN_STATUS_STATES

IDENTITY_SETTING = "xueji.identity_change"
# The audit actions of an approved identity change, in the person's and the status's chains.
STUDENT_IDENTITY_CHANGED = "student.identity_changed"
STATUS_IDENTITY_CHANGED = "status.identity_changed"
# The person's guarded columns (the ethnic group by its foreign key's column).
PERSON_GUARDED = ("name", "gender", "birth_date", "id_type", "id_number", "ethnicity_id")
# The status's guarded columns (the major's name follows its code).
STATUS_GUARDED = ("major_code", "major_name", "level", "learning_form", "study_length")

IDENTITY_LOCKED = _(
    "%(fields)s of an enrolled student change only through an identity change request "
    "(reviewed by the school and the province, the old values kept): "
    "/api/v1/identity-changes/."
)

_writer: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "xueji_identity_writer", default=None
)


class IdentityLockedError(Exception):
    """A save changed a guarded field of an enrolled student outside ``identity_writes``."""

    def __init__(self, fields: list[str], labels: list[str] | None = None) -> None:
        self.fields = fields
        super().__init__(str(IDENTITY_LOCKED % {"fields": ", ".join(labels or fields)}))


@contextlib.contextmanager
def identity_writes(writer: str) -> Iterator[None]:
    """Let the writes inside change guarded fields: ``writer`` names the flow's request
    (``identity_change:12``, ``correction:5``, ``status_change:7``). Needs a transaction: on
    PostgreSQL the setting lasts until its end at most, and is cleared on leaving."""
    if not writer:
        raise ValueError("identity_writes needs the writer's name")
    on_pg = connection.vendor == "postgresql"
    if on_pg and not connection.in_atomic_block:
        raise RuntimeError("identity_writes runs inside a transaction")
    token = _writer.set(writer)
    if on_pg:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [IDENTITY_SETTING, writer])
    try:
        yield
    finally:
        _writer.reset(token)
        # After an error the transaction (or its savepoint) is rolled back, which reverts the
        # setting with it; a statement now would fail in an aborted transaction.
        if on_pg and not connection.needs_rollback:
            with contextlib.suppress(Exception), connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, '', true)", [IDENTITY_SETTING])


def identity_writer() -> str | None:
    """The writer ``identity_writes`` names, if any."""
    return _writer.get()


def guard_trigger(columns: tuple[str, ...], current: str) -> pgtrigger.Trigger:
    """A row trigger refusing an UPDATE of ``columns`` whose row is current (``current``: an
    SQL condition on ``OLD``) unless ``xueji.identity_change`` is set."""
    changed = pgtrigger.Q()
    for column in columns:
        changed |= pgtrigger.Q(**{f"old__{column}__df": pgtrigger.F(f"new__{column}")})
    return pgtrigger.Trigger(
        name="identity_guarded",
        level=pgtrigger.Row,
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        condition=changed,
        func=f"""
IF coalesce(current_setting('{IDENTITY_SETTING}', true), '') = '' AND ({current}) THEN
    RAISE EXCEPTION 'identity of an enrolled student (% %) changes only through an identity '
        'change request (set {IDENTITY_SETTING})', TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'check_violation';
END IF;
RETURN NEW;
""",
    )


_OPEN_STATES_SQL = ", ".join(f"'{state}'" for state in OPEN_STATUS_STATES)
PERSON_CURRENT_SQL = (  # a trigger's condition, from constants: no input reaches it
    "EXISTS (SELECT 1 FROM records_studentstatus s WHERE s.student_id = OLD.id "  # noqa: S608
    f"AND s.state IN ({_OPEN_STATES_SQL}))"
)
STATUS_CURRENT_SQL = f"OLD.state IN ({_OPEN_STATES_SQL})"


class IdentityGuarded(models.Model):
    """Keeps the guarded values as loaded, and refuses a save that changes them while the
    row is current, outside ``identity_writes``."""

    guarded: ClassVar[tuple[str, ...]] = ()
    _loaded_guarded: dict[str, Any] | None = None

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if identity_writer() is None:
            changed = self._changed_guarded(kwargs.get("update_fields"))
            if changed and self.is_identity_current():
                names = [f.removesuffix("_id") for f in changed]
                labels = [str(getattr(self._meta.get_field(n), "verbose_name", n)) for n in names]
                raise IdentityLockedError(names, labels)
        super().save(*args, **kwargs)
        self._loaded_guarded = self.guarded_values()

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        loaded = instance.__dict__
        instance._loaded_guarded = {f: loaded[f] for f in cls.guarded if f in loaded}
        return instance

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        """The values read again are the loaded ones from now on."""
        super().refresh_from_db(*args, **kwargs)
        self._loaded_guarded = {**(self._loaded_guarded or {}), **self.guarded_values()}

    def guarded_values(self) -> dict[str, Any]:
        return {f: self.__dict__[f] for f in self.guarded if f in self.__dict__}

    def is_identity_current(self) -> bool:
        """Whether the row's guarded values may change only through an identity change."""
        raise NotImplementedError

    def _changed_guarded(self, update_fields: Any) -> list[str]:
        if self._state.adding or self.pk is None:
            return []
        loaded = self._loaded_guarded
        if loaded is None:  # built by hand with its key: read what the database holds
            stored = type(self)._base_manager.filter(pk=self.pk).values(*self.guarded).first()
            if stored is None:
                return []
            loaded = stored
        now = self.guarded_values()
        changed = [f for f in self.guarded if f in now and f in loaded and now[f] != loaded[f]]
        if update_fields is not None:
            names = {getattr(self._meta.get_field(n), "attname", n) for n in update_fields}
            changed = [f for f in changed if f in names]
        return changed
