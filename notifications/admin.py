"""The outbox in the admin: read-only, so it shows exactly what was sent; failed rows retry."""

from __future__ import annotations

from django.contrib import admin
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import Notification
from notifications.services import notification_retry_failed

SHORT_ERROR_LENGTH = 80


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = [
        "id",
        "created",
        "event",
        "object_key",
        "recipient_email",
        "language",
        "status",
        "attempts",
        "sent_at",
        "next_attempt_at",
        "short_error",
    ]
    list_filter = ["status", "event", "language"]
    search_fields = ["recipient_email", "object_key"]
    date_hierarchy = "created"
    ordering = ["-created", "-id"]
    actions = ["retry_failed"]
    fieldsets = [
        (None, {"fields": ["event", "object_key", "recipient_email", "recipient_user_id"]}),
        (_("Delivery"), {"fields": ["status", "attempts", "last_error", "next_attempt_at"]}),
        (_("Message"), {"fields": ["language", "subject", "body_text", "body_html"]}),
        (_("Times"), {"fields": ["created", "updated", "sent_at"]}),
    ]

    @admin.display(description=_("last error"))
    def short_error(self, obj: Notification) -> str:
        return Truncator(obj.last_error).chars(SHORT_ERROR_LENGTH)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_notification")

    @admin.action(description=_("Retry failed notifications"), permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        count = notification_retry_failed(ids=ids)
        self.message_user(
            request,
            ngettext(
                "%(count)d failed notification queued again.",
                "%(count)d failed notifications queued again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
