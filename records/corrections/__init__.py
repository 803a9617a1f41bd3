"""Corrections of registered qualifications (DOMAIN.md §2.5), the records side:

- ``changes``: what a correction may change, parsed and checked against the qualification;
- ``services``: filing, the requester's actions, and the record service of each decision;
- ``evidence``: evidence files, checked by content;
- ``notices``: who hears of a correction, in which words;
- ``history``: a request's steps, read from its audit chain.

Who decides in which order, and the decisions' declarations, are in
``workflows.flows.correction``.
"""
