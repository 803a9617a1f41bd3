"""Signed reports (issue 11 item 9): ``GET /api/v1/verify/{code}/signed/`` under the platform's
Ed25519 key, ``GET /api/v1/verify/public-key/``, and ``manage.py verify_report``, which checks
a report offline (no database) with exit status 0 when valid, 1 otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from records.models import ReportAccess
from records.verification import signing
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.verification import NOW
from tests.verification import world

ROOT = Path(__file__).resolve().parents[2]
REPORTS = "/api/v1/verification-reports/"


@pytest.fixture
def signed(places, api, tmp_path):
    """A report's signed document and the platform's public key, both saved as files."""
    w = world(places)
    with time_machine.travel(NOW, tick=False):
        created = token_client(w.student).post(
            REPORTS, {"qualification": w.qualification.pk, "months": 3}, format="json"
        )
        response = api.get(f"/api/v1/verify/{created.json()['code']}/signed/")
        key = api.get("/api/v1/verify/public-key/")
    assert response.status_code == 200
    assert key.status_code == 200
    assert key["Content-Type"] == "application/x-pem-file"
    report = tmp_path / "report.json"
    report.write_bytes(response.content)
    pem = tmp_path / "platform.pem"
    pem.write_bytes(key.content)
    return w, report, pem


def _check(report: Path, pem: Path) -> signing.Checked:
    return signing.verify_signed(report.read_bytes(), signing.load_public_key(pem.read_bytes()))


@pytest.mark.django_db
def test_the_signed_report_is_canonical_json_valid_under_the_published_key(signed):
    w, report, pem = signed
    document = report.read_bytes()

    envelope = json.loads(document)
    assert document == json.dumps(
        envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert "王小明".encode() in document  # UTF-8, not \\u escapes
    assert envelope["algorithm"] == "Ed25519"
    assert envelope["report"]["qualification"]["certificate_number"] == (
        w.qualification.certificate_number
    )
    assert w.qualification.id_number.encode() not in document
    assert _check(report, pem).valid
    assert list(ReportAccess.objects.values_list("outcome", flat=True)) == ["signed"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("王小明".encode(), "王大明".encode()),  # a value
        (b'"revoked":false', b'"revoked":true '),  # whitespace and a value
        (b'"kind":"qualification"', b'"kind" :"qualification"'),  # whitespace only
    ],
)
def test_a_tampered_byte_is_detected(signed, old, new):
    _, report, pem = signed
    document = report.read_bytes()
    assert old in document
    report.write_bytes(document.replace(old, new, 1))

    checked = _check(report, pem)

    assert not checked.valid
    assert checked.message


@pytest.mark.django_db
def test_a_changed_signature_is_detected(signed):
    _, report, pem = signed
    envelope = json.loads(report.read_bytes())
    signature = bytearray(envelope["signature"].encode())
    signature[10] = ord("A") if signature[10] != ord("A") else ord("B")
    envelope["signature"] = signature.decode()
    report.write_bytes(signing.canonical(envelope))

    assert not _check(report, pem).valid


@pytest.mark.django_db
def test_another_key_does_not_verify(signed, tmp_path):
    _, report, _ = signed
    other = tmp_path / "other.pem"
    other.write_bytes(signing.public_pem(Ed25519PrivateKey.generate().public_key()))

    checked = _check(report, other)

    assert not checked.valid
    assert "another key" in checked.message


def test_a_report_signed_by_another_key_with_our_key_id_does_not_verify():
    ours = Ed25519PrivateKey.generate()
    forged = json.loads(signing.sign({"code": "X"}, Ed25519PrivateKey.generate()))
    forged["key_id"] = signing.key_id(ours.public_key())

    assert not signing.verify_signed(signing.canonical(forged), ours.public_key()).valid


@pytest.mark.django_db
def test_unknown_and_revoked_codes_answer_404_and_410(signed, api):
    w, report, _ = signed
    envelope = json.loads(report.read_bytes())
    report_id = token_client(w.student).get(REPORTS).json()["results"][0]["id"]
    token_client(w.student).post(f"{REPORTS}{report_id}/revoke/")

    assert_error(api.get("/api/v1/verify/ZZZZZZZZZZZZZZZZ/signed/"), 404, "not_found")
    gone = api.get(f"/api/v1/verify/{envelope['report']['code']}/signed/")
    assert_error(gone, 410, "report_revoked")


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py verify_report`` in a process of its own whose database does not exist."""
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/no_such_database",
        "CACHE_URL": "locmemcache://",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "verify_report", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_the_command_checks_offline_with_exit_status_0_or_1(signed, tmp_path):
    _, report, pem = signed
    other = tmp_path / "other.pem"
    other.write_bytes(signing.public_pem(Ed25519PrivateKey.generate().public_key()))
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(report.read_bytes().replace("王小明".encode(), "王大明".encode()))

    valid = _command(str(report), "--public-key", str(pem))
    changed = _command(str(tampered), "--public-key", str(pem))
    wrong_key = _command(str(report), "--public-key", str(other))
    missing = _command(str(tmp_path / "none.json"), "--public-key", str(pem))

    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith("VALID")
    assert changed.returncode == 1
    assert "INVALID" in changed.stderr
    assert wrong_key.returncode == 1
    assert "another key" in wrong_key.stderr
    assert missing.returncode == 1
    assert "cannot read the report" in missing.stderr
