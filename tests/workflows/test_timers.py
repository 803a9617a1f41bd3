"""Deadlines: the due period per step and its override, the reminder before a task is due, the
overdue mark at its due time and the escalation to the province, each once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def _settings_with(due_days: str) -> subprocess.CompletedProcess[str]:
    """Load the real settings in a fresh interpreter with ``WORKFLOW_DUE_DAYS=due_days``."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["WORKFLOW_DUE_DAYS"] = due_days
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(sorted(settings.WORKFLOW_DUE_DAYS.items()))",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_due_days_are_read_from_the_environment():
    loaded = _settings_with("correction.school_review=3, correction.province_signoff=8")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == (
        "[('correction.province_signoff', 8), ('correction.school_review', 3)]"
    )
    assert _settings_with("").stdout.strip() == "[]"


@pytest.mark.parametrize(
    "value",
    [
        "correction.school_review",
        "correction.school_review=three",
        "correction.school_review=0",
        "correction.school_review=-2",
        "correction.school_review=2.5",
        "school_review=3",
        "correction.school_review=３",  # a full-width digit
    ],
)
def test_bad_due_days_stop_the_start_up_naming_the_variable_and_the_format(value):
    loaded = _settings_with(value)
    assert loaded.returncode != 0
    assert "ImproperlyConfigured: WORKFLOW_DUE_DAYS: cannot read" in loaded.stderr
    assert repr(value) in loaded.stderr
    assert "<flow>.<step>=<working days>" in loaded.stderr
    assert "e.g. WORKFLOW_DUE_DAYS=correction.school_review=3" in loaded.stderr


def test_a_step_given_twice_is_refused():
    loaded = _settings_with("correction.school_review=3,correction.school_review=4")
    assert loaded.returncode != 0
    assert "'correction.school_review' is given twice" in loaded.stderr


def test_a_step_no_flow_declares_fails_the_system_check(settings):
    settings.WORKFLOW_DUE_DAYS = {"correction.school_reveiw": 3}
    with pytest.raises(SystemCheckError, match=r"names steps that no flow declares: correction"):
        call_command("check")
    settings.WORKFLOW_DUE_DAYS = {"correction.school_review": 3, "leave.review": 1}
    call_command("check")
