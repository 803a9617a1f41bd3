"""The task list renders its rows by hand (a page has fifty): exactly as DRF's fields would."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework import serializers

from workflows.api.tasks import _datetime

EST = datetime.timezone(datetime.timedelta(hours=-5))
MOMENTS = [
    datetime.datetime(2026, 11, 29, 0, 12, 3, 123456, tzinfo=datetime.UTC),
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.UTC),
    datetime.datetime(2026, 6, 30, 23, 59, 59, tzinfo=EST),
]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_created_is_rendered_as_drf_renders_it(moment, zone):
    with timezone.override(zone):
        assert _datetime(moment) == serializers.DateTimeField().to_representation(moment)
