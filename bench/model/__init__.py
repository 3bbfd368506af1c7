"""What a run is, before and after it: the app and its scenarios, the catalog of worker types, the plan of
instances, the matrix of runs, the app/load host pairs, and the results (results.json's model and its upgrade),
seen per app host."""
