"""Status changes (学籍异动): the types as data (``types``), the maximum study period
(``periods``), the requester's services and each decision's record service (``services``),
who hears of each step (``notices``) and a request's history (``history``)."""
