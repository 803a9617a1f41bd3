"""The outbox: one row per (event, object, recipient), rendered once, sent at most once.

A row is written by ``notifications.services.notify`` in the caller's transaction, with the
subject and bodies already rendered in the recipient's language, so the row shows exactly
what was (or will be) sent and delivery needs nothing but the row. Status moves
``pending -> sending -> sent | failed``; a temporary SMTP error puts it back to ``pending``
with ``next_attempt_at`` set (see ``notifications.delivery``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MAX_SUBJECT_LENGTH = 255
MAX_OBJECT_KEY_LENGTH = 255


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    event = models.SlugField(_("event"), max_length=64)
    object_key = models.CharField(
        _("object"),
        max_length=MAX_OBJECT_KEY_LENGTH,
        help_text=_('The object the event is about, e.g. "records.correctionrequest:12".'),
    )
    recipient_email = models.EmailField(_("recipient email"))
    # A plain integer, not a foreign key: this package must not depend on the user model's app.
    recipient_user_id = models.BigIntegerField(_("recipient user id"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=MAX_SUBJECT_LENGTH)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "object_key", "recipient_email"],
                name="notification_once_per_recipient",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created"], name="notification_status_created"),
            # The sweep only ever looks at the few unfinished rows.
            models.Index(
                fields=["updated"],
                name="notification_unfinished",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["recipient_user_id"], name="notification_recipient_user"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.object_key} → {self.recipient_email} ({self.status})"
