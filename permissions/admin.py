"""Admin classes that edit grants. Records' admin imports these, never guardian itself."""

from __future__ import annotations

from guardian.admin import ReinforcedGuardedModelAdmin


class ScopeObjectAdmin(ReinforcedGuardedModelAdmin):
    """A School or Province admin with an "Object permissions" page to grant officers and
    administrators; editing grants also needs guardian's own view permissions."""
