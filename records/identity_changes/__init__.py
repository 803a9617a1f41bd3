"""Identity changes while enrolled (DOMAIN.md §2.6): the fields they change
(``fields``), the requester's side and each decision's record service (``services``), who
hears of them (``notices``) and their history (``history``)."""
