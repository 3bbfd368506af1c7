"""The controller's side of a run and of its playbooks: the run's folder and its end (finish), one run at a
time (the lock), the checks before it, the nightly unit's command line, and what the playbooks hand to Python
through their filters (hosts' context, the lab's processes, a lost load host)."""
