"""Revocation of a registered qualification: filing, the adverse-decision steps, the
province's confirmation (``services``), who hears of each step (``notices``) and the written
decision (``written``)."""
