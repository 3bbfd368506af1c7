"""Raw output into records: siege's and wrk's output, the app's own clock from the journal, the service's events,
the CPU and memory samples, and collect, which turns a run's raw/ into results.json."""
