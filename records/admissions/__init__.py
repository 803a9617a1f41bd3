"""Admissions: reading and checking admission files (``reading``, ``checks``), importing
them (``imports``)."""
