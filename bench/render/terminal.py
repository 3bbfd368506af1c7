"""What a run prints on the terminal when it ends, besides where its report is: the verification's table."""

from __future__ import annotations

from bench.model import results_model
from bench.model.results_model import variant_of


def verify_lines(results: dict) -> list[str]:
    """The verification before load, as a table for the terminal: one line per worker type and scenario."""
    rows = [("worker type", "scenario", "request", "expected", "answered", "time", "")]
    for variant in results_model.variants(results):
        for r in results["verify"].get(variant, []):
            why = "ok" if r["ok"] else "WRONG: " + " ".join(str(r.get("error") or r.get("head") or "").split())[:80]
            rows.append((variant, r["name"], f"{r['method']} {r['path']}", str(r["expected"]),
                         "-" if r["status"] is None else str(r["status"]),
                         "-" if r["elapsed_s"] is None else f"{r['elapsed_s']:.3f} s", why))  # fmt: skip
        if variant not in results["verify"]:
            failure = next((f for f in results["failures"] if variant_of(f) == variant), None)
            why = f"not verified: {' '.join(failure['message'].split())[:100]}" if failure else "not verified"
            rows.append((variant, "-", "-", "-", "-", "-", why))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[6] for row in rows]
