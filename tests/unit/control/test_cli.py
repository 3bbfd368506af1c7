"""The user-facing commands of `python -m bench` that no playbook runs: a report rendered again, the index redrawn."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from support import FIXTURES, ROOT

RESULTS = FIXTURES / "results/server-timed-all.json"


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def a_run(reports) -> tuple:
    data = json.loads(RESULTS.read_text())
    run_dir = reports / data["run_id"]
    run_dir.mkdir(parents=True)
    shutil.copy(RESULTS, run_dir / "results.json")
    (run_dir / "run.json").write_text(json.dumps({"run_id": data["run_id"], "started": data["started"]}))
    return run_dir, data


def test_report_renders_a_runs_report_again_from_its_run_folder(tmp_path):
    run_dir, data = a_run(tmp_path / "reports")
    done = bench("report", str(run_dir))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Report: {run_dir / 'report.md'}\n"
    assert (run_dir / "report.md").read_text().startswith(f"# gunicorn worker types: run {data['run_id']}\n")


def test_index_draws_the_index_of_a_reports_folder(tmp_path):
    reports = tmp_path / "reports"
    _, data = a_run(reports)
    done = bench("index", str(reports))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Index: {reports / 'index.md'}\n"
    assert f"[{data['run_id']}]({data['run_id']}/report.md)" in (reports / "index.md").read_text()


def test_the_commands_no_playbook_runs_are_gone():
    for gone in ("collect", "lock", "check-reports"):
        done = bench(gone, "x")
        assert done.returncode == 2 and "invalid choice" in done.stderr, gone
