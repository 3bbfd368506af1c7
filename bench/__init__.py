"""Controller-side Python of the harness: parse siege output, compute statistics, write results and the report."""
