from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.core.management.base import CommandParser

from permissions import roles
from permissions.services import grant_role
from permissions.services import revoke_role
from records.models import Province
from records.models import School
from records.models import User

SCOPE_MODELS: dict[str, type[School] | type[Province]] = {
    roles.SCHOOL_OFFICER: School,
    roles.PROVINCIAL_ADMIN: Province,
    roles.MINISTRY_VIEWER: Province,
}


class Command(BaseCommand):
    help = (
        "Grant (or with --revoke, withdraw) a role: "
        "`grant_role officer1 school_officer 10001`, `grant_role admin11 provincial_admin 11`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", choices=roles.ALL)
        parser.add_argument("scope", nargs="?", help="school code or province code")
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        role, code = options["role"], options["scope"]
        model = SCOPE_MODELS.get(role)
        scope_object = None
        if model is not None:
            if not code:
                raise CommandError(f"Role {role} needs the code of the {model._meta.model_name}.")
            scope_object = model._default_manager.filter(pk=code).first()
            if scope_object is None:
                raise CommandError(f"No {model._meta.model_name} has the code {code!r}.")
        try:
            if options["revoke"]:
                revoke_role(user, role, scope_object)
            else:
                grant_role(user, role, scope_object)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        verb = "revoked from" if options["revoke"] else "granted to"
        where = f" for {scope_object}" if scope_object else ""
        self.stdout.write(f"{role}{where} {verb} {user.username}")
