"""Certificate proofs (学历证明书, DOMAIN.md §2.7): the requester's services and each
decision's record service, the proof's number and the lost mark (``services``), who hears of
each step (``notices``) and an application's history (``history``)."""
