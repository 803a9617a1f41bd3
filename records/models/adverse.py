"""What every adverse decision carries after the school decides it (DOMAIN.md §2.3, §4 item
14; 教育部令第41号 arts 53–64): the written decision, its delivery (送达), and the appeal
period before it takes effect, with the student's appeals to the school's appeal committee
and then to the province. A status change of an adverse type (取消学籍, 退学 by the school,
开除学籍) and an admission's cancellation (取消入学资格) both are one.

``appeal`` is an FSM field of its own: the record's ``state`` stays the one its lists and
flows read (``in_appeal`` while the period runs), the appeal's stage moves by these
transitions. The services are ``records.adverse``."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField
from django_fsm import transition

from records.choices import AppealStage
from records.choices import DeliveryMethod


class AdverseDecision(models.Model):
    decision_text = models.TextField(_("written decision"), blank=True)
    issued_at = models.DateTimeField(_("decision issued at"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    delivery_method = models.CharField(
        _("delivery method"), max_length=20, choices=DeliveryMethod.choices, blank=True
    )
    delivery_evidence = models.FileField(
        _("delivery evidence"), upload_to="adverse/delivery/%Y/%m/", blank=True
    )
    delivery_evidence_type = models.CharField(max_length=100, blank=True)
    appeal = FSMField(
        _("appeal"), choices=AppealStage.choices, default=AppealStage.NONE, protected=True
    )
    # The last day to file the appeal the stage is open for (none before delivery).
    appeal_deadline = models.DateField(_("appeal deadline"), null=True, blank=True)
    appeal_reason = models.TextField(_("appeal to the school"), blank=True)
    appealed_at = models.DateTimeField(_("appealed to the school at"), null=True, blank=True)
    province_appeal_reason = models.TextField(_("appeal to the province"), blank=True)
    province_appealed_at = models.DateTimeField(
        _("appealed to the province at"), null=True, blank=True
    )

    class Meta:
        abstract = True

    @transition(field=appeal, source=AppealStage.NONE, target=AppealStage.WINDOW)
    def open_appeal_window(self, *, at: datetime.datetime, text: str) -> None:
        """The decision is issued: the window to appeal to the school opens (its deadline
        counted from the delivery)."""
        self.issued_at = at
        self.decision_text = text

    def record_delivery(self, *, on: datetime.date, method: str, deadline: datetime.date) -> None:
        """送达: the window to appeal to the school now ends on ``deadline``."""
        self.delivered_on = on
        self.delivery_method = method
        self.appeal_deadline = deadline

    @transition(field=appeal, source=AppealStage.WINDOW, target=AppealStage.SCHOOL)
    def appeal_to_school(self, *, reason: str, at: datetime.datetime) -> None:
        self.appeal_reason = reason
        self.appealed_at = at

    @transition(field=appeal, source=AppealStage.SCHOOL, target=AppealStage.PROVINCE_WINDOW)
    def uphold_at_school(self, *, deadline: datetime.date) -> None:
        """The school's appeal committee upholds the decision: the student may appeal to the
        province until ``deadline``."""
        self.appeal_deadline = deadline

    @transition(field=appeal, source=AppealStage.PROVINCE_WINDOW, target=AppealStage.PROVINCE)
    def appeal_to_province(self, *, reason: str, at: datetime.datetime) -> None:
        self.province_appeal_reason = reason
        self.province_appealed_at = at

    @transition(
        field=appeal,
        source=[
            AppealStage.WINDOW,
            AppealStage.SCHOOL,
            AppealStage.PROVINCE_WINDOW,
            AppealStage.PROVINCE,
        ],
        target=AppealStage.CLOSED,
    )
    def close_appeals(self) -> None:
        """No (further) appeal, or an appeal decided for good: the period is over."""
