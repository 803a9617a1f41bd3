"""A second process that lives only in the tests: a student's leave request, decided by the
school in one step. It proves the process layer: it plugs in by its own declaration and
appears in the work list, counts and task API, and is decided one by one and in bulk, with no
change to any shared module."""
