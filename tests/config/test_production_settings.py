"""The production settings as README.md documents them: ``check --deploy`` has nothing to
say, and a weak SECRET_KEY stops the start-up naming the rule."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.utils import get_random_secret_key


def _production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """README.md's production environment ("Production"), with SQLite for the database."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": get_random_secret_key(),
        "ALLOWED_HOSTS": "xueji.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://xueji.example.org",
        "SITE_URL": "https://xueji.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    return {**env, **overrides}


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_the_documented_production_environment(tmp_path):
    checked = _manage(_production(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert checked.returncode == 0, checked.stderr
    assert "System check identified no issues (0 silenced)." in checked.stdout
    assert not checked.stderr


def test_the_production_headers_are_on(tmp_path):
    shown = _manage(
        _production(tmp_path),
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.X_FRAME_OPTIONS)",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["True", "31536000", "True", "True", "True", "True", "DENY"]
    preload_off = _manage(
        _production(tmp_path, SECURE_HSTS_PRELOAD="false", SECURE_HSTS_SECONDS="600"),
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD)",
    )
    assert preload_off.stdout.split() == ["600", "False"]


@pytest.mark.parametrize(
    "key",
    [
        "short-but-secret",  # fewer than 50 characters
        "ab" * 30,  # 60 characters, 2 different ones
        # startproject's development key (fixed: test ids must agree across xdist workers)
        "django-insecure-k#2v9z!q7w@m4x$r8t^p1n&c6b*j3h(f5g)d0s-a+e=y_u",
    ],
    ids=["short", "few-different", "insecure-prefix"],
)
def test_a_weak_secret_key_stops_the_start_up_naming_the_rule(tmp_path, key):
    started = _manage(_production(tmp_path, SECRET_KEY=key), "check")
    assert started.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is too weak for DEBUG off" in started.stderr
    assert "at least 50 characters, at least 5 different ones" in started.stderr
    assert "not starting with 'django-insecure-'" in started.stderr
    assert key not in started.stderr  # the key itself is never printed


def test_a_missing_secret_key_names_the_rule_too(tmp_path):
    env = _production(tmp_path)
    del env["SECRET_KEY"]
    started = _manage(env, "check")
    assert started.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off" in started.stderr
    assert "at least 50 characters" in started.stderr


def test_a_generated_key_starting_with_a_dollar_sign_is_taken_as_it_is(tmp_path):
    """Found by CI: django-environ reads "$abc" as the value of the variable "abc", and
    Django's generator starts one key in 50 with "$"."""
    key = "$" + get_random_secret_key()[1:]
    shown = _manage(
        _production(tmp_path, SECRET_KEY=key),
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings as s; print(s.SECRET_KEY)",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == key
