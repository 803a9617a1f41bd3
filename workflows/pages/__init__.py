"""The web pages, per subject: the shell (home, school, login, language), the shared work list
and task page of every flow, and each process's own pages."""
