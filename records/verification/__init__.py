"""Verification reports the student controls (学历/学籍在线验证报告, DOMAIN.md §5): the reports and
their access log (``reports``), what a verifier sees (``content``), the failed look-ups per
address (``throttle``) and the platform's Ed25519 signature over a report (``signing``)."""
