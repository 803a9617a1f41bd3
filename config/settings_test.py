"""Settings for the test suite: the environment's database, in-process Celery, in-memory mail.

Tests that need a real broker, SMTP server or browser switch those on themselves (see
``tests/conftest.py``) and skip with a reason when the service is absent.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config.settings import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
LANGUAGE_CODE = "zh-hans"

# A second process that lives only in the tests (tests/leave), proving the process layer.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.leave.apps.LeaveConfig"]

# The tests' own signing key for verification reports, new in every run (never a file).
VERIFY_SIGNING_KEY = (
    Ed25519PrivateKey.generate()
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode("ascii")
)
