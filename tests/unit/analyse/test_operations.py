"""What an operation under load lost (bench/analyse/operations.py): hand-made runs whose answer is known, then a real
run of the lab (tests/fixtures/operations: sync, gthread, gevent and asgi, each reloaded, restarted and with a worker
killed under 5 requests a second of /ioTask?ms=100)."""

from __future__ import annotations

import json

import pytest
from support import FIXTURES

from bench.analyse import operations
from bench.model import catalog
from bench.model import operations as operations_model
from bench.parse import events, rate
from bench.render import report

EPOCH = 1_800_000_000.0
RUN = {"status": 200, "warmup_s": 1, "target": None,
       "operation": {"kind": "restart", "at_s": 4.0, "window_s": 2.0, "new_release": True}}  # fmt: skip


def rows(rate=10, seconds=10, latency=0.1, *, lost=None, slow=None, release=lambda due: "1", status=200):
    """Evenly spaced requests from 0 to `seconds`, each answered in `latency` by release(due); those due at the
    instants of `lost` (a dict due -> error word or status) and `slow` (due -> latency) otherwise."""
    out, lost, slow = [], lost or {}, slow or {}
    for i in range(int(rate * seconds)):
        due = round(i / rate, 6)
        row = {"i": i, "due": due, "sent": due, "done": due + slow.get(due, latency), "status": status,
               "error": None, "pid": 10, "release": release(due)}  # fmt: skip
        if due in lost:
            why = lost[due]
            row.update(status=why if isinstance(why, int) else None, error=None if isinstance(why, int) else why)
        out.append(row)
    return out


def done(at=5.0, **kw):
    return {"at": EPOCH + at, "returned": EPOCH + at + 0.5, "whole": EPOCH + at + 0.8, "release_before": "1",
            "release_after": "2", "master_before": 7, "master_after": 8, "rc": 0, **kw}  # fmt: skip


def test_requests_refused_after_the_instant_are_lost_and_the_service_is_back_after_the_last():
    refused = rows(lost={5.1: "refused", 5.2: "refused", 5.3: "refused"}, release=lambda d: "1" if d < 5.1 else "2")
    got = operations.analyse({"epoch": EPOCH}, refused, done(), RUN)
    assert got["at_s"] == 5.0 and got["requests"] == 90, "the warm-up's 10 left out"
    assert (got["lost"], got["lost_by_kind"], got["delayed"]) == (3, {"refused": 3}, 0)
    assert (got["lost_first_after_s"], got["lost_last_after_s"], got["back_after_s"]) == (0.1, 0.3, 0.3)
    assert got["returned_after_s"] == 0.5 and got["whole_after_s"] == 0.8 and got["master_changed"]
    assert got["before"] == {"requests": 20, "p99_s": pytest.approx(0.1), "max_s": pytest.approx(0.1)}
    assert got["bound_s"] == pytest.approx(0.2) and got["bound_is"] == "before", "twice the p99 (beyond its + 50 ms)"
    assert got["verdict"] == "lost"
    assert got["reason"].startswith("lost 3 of 90 (3 connection refused: nothing listened on the port), due +0.10 s")
    assert [t for t, lat, why in got["timeline"] if why] == [0.1, 0.2, 0.3] and len(got["timeline"]) == 90


def test_an_answer_with_another_status_is_lost_and_a_late_one_delayed_against_the_target():
    run = {**RUN, "target": {"percentile": 99, "latency_s": 0.25, "error_budget": 0.01}}
    got = operations.analyse({"epoch": EPOCH}, rows(lost={5.0: 502}, slow={5.5: 0.4, 5.6: 0.3, 4.0: 0.9}), done(),
                             run)  # fmt: skip
    assert got["lost_by_kind"] == {"status 502": 1} and got["lost"] == 1
    assert got["delayed"] == 2, "those due after the instant, past the target; the one before it is not the operation's"
    assert (got["bound_s"], got["bound_is"], got["back_after_s"]) == (0.25, "target", 0.6)
    assert got["after"]["max_s"] == pytest.approx(0.4) and got["verdict"] == "lost"
    assert "2 answered later than its target (250 ms)" in got["reason"]


def test_old_code_after_the_instant_is_counted_and_new_code_before_it_is_a_fault():
    graceful = operations.analyse({"epoch": EPOCH}, rows(release=lambda d: "1" if d < 5.35 else "2"), done(), RUN)
    assert (graceful["old_code_after"], graceful["old_code_last_after_s"]) == (4, 0.4)  # due 5.0-5.3, done +0.1 s
    assert graceful["new_code_before"] == 0 and graceful["verdict"] == "safe"
    assert graceful["reason"].startswith("nothing lost of 90, none later than 200 ms; 4 answered by the old release")
    early = operations.analyse({"epoch": EPOCH}, rows(release=lambda d: "1" if d < 4.5 else "2"), done(), RUN)
    assert early["new_code_before"] == 5 and "a fault of the harness" in early["reason"]
    same = operations.analyse({"epoch": EPOCH}, rows(), done(release_after="1"), RUN)
    assert same["old_code_after"] == 0, "a worker killed keeps the release: no old or new code to tell"


def test_the_journal_around_the_instant_is_the_evidence():
    got = operations.analyse({"epoch": EPOCH}, rows(lost={5.0: "closed"}), done(), RUN)
    lines = [(EPOCH + 3.0, "[INFO] Booting worker with pid: 5"),  # before the evidence's stretch
             (EPOCH + 5.0, "[ERROR] Worker (pid:11) was sent SIGKILL! Perhaps out of memory?"),
             (EPOCH + 5.1, "[INFO] Booting worker with pid: 12"),
             (EPOCH + 5.2, "Starting gunicorn benchmark instance demo-sync..."),  # systemd's line, not gunicorn's
             (EPOCH + 5.3, "[INFO] Starting gunicorn 25.3.0")]  # fmt: skip
    found = operations.with_journal(got, lines)
    assert found["journal"] == {"worker killed by SIGKILL": 1, "worker booted": 1, "master started": 1}
    assert found["reason"].endswith("the journal: worker killed by SIGKILL, worker booted, master started")
    assert "connection closed with no answer: the process holding it went away" in found["reason"]
    assert operations.with_journal(got, [])["reason"].endswith("nothing of gunicorn's in the journal around it")


def test_an_operation_that_failed_or_never_left_the_service_whole_says_so():
    got = operations.analyse({"epoch": EPOCH}, rows(), done(rc=1, output="Job failed", whole=None), RUN)
    assert got["whole_after_s"] is None
    assert "the operation itself failed (exit 1: Job failed)" in got["reason"]
    assert "not whole again" in got["reason"]


def test_a_fast_scenario_is_bound_at_least_50_ms_above_its_p99():
    got = operations.analyse({"epoch": EPOCH}, rows(latency=0.002, slow={5.2: 0.04}), done(), RUN)
    assert got["bound_s"] == pytest.approx(0.002 + operations.DELAY_FLOOR_S) and got["delayed"] == 0


# ---- a real run of the lab: tests/fixtures/operations
RUN_DIR = FIXTURES / "operations"
REAL = json.loads((RUN_DIR / "results.json").read_text())
TYPES = ("sync", "gthread", "gevent", "asgi")
KINDS = ("reload", "restart", "kill_worker")  # the run's (a timeout: tests/fixtures/operations-timeout)


def real(variant: str, kind: str, run_dir=RUN_DIR) -> tuple[dict, dict]:
    """The run's row and its operation read again from the raw records (what collect does), with its journal."""
    found = read_again(run_dir, f"{variant}-op-{kind}-ioTask-ms-100", variant)
    return found["row"], found["found"]


def read_again(run_dir, name: str, variant: str) -> dict:
    """A fixture run's row, its records (header, rows), the operation's record, and its figures read again."""
    results = json.loads((run_dir / "results.json").read_text())
    row = next(r for r in results["results"] if r["name"] == name)
    header, rows_, _ = rate.read((run_dir / "raw" / f"{name}.out").read_text())
    done_ = json.loads((run_dir / "raw" / f"{name}.operation.json").read_text())
    journal = events.lines((run_dir / "raw" / f"{variant}.journal.json").read_text())
    found = operations.with_journal(operations.analyse(header, rows_, done_, row), journal)
    return {"row": row, "header": header, "rows": rows_, "done": done_, "found": found}


@pytest.mark.parametrize("variant", TYPES)
def test_what_collect_kept_is_what_the_records_say(variant):
    for kind in KINDS:
        row, found = real(variant, kind)
        assert found == row["rate"]["operation"], f"{variant} {kind}"


@pytest.mark.parametrize("variant", TYPES)
def test_a_restart_refuses_what_is_due_until_the_new_master_listens(variant):
    _, found = real(variant, "restart")
    assert found["verdict"] == "lost" and set(found["lost_by_kind"]) == {"refused"}, found["reason"]
    assert 0 < found["lost_first_after_s"] <= found["lost_last_after_s"] < found["whole_after_s"]
    assert found["master_changed"] and found["release_after"] == str(int(found["release_before"]) + 1)
    assert {"master shut down", "master started", "worker booted"} <= set(found["journal"])
    assert found["new_code_before"] == 0
    answered = [t for t, lat, why in found["timeline"] if why is None]
    assert len(answered) + found["lost"] == found["requests"] == 60


def test_a_reload_loses_nothing_and_event_loops_serve_on_from_their_old_workers_meanwhile():
    for variant in ("gevent", "asgi"):
        _, found = real(variant, "reload")
        assert found["verdict"] == "safe" and found["old_code_after"] >= 1, found["reason"]
        assert found["old_code_last_after_s"] <= found["whole_after_s"] + 0.2, "old workers finish, then go"
    for variant in ("sync", "gthread"):  # one worker: its requests wait for the new one
        _, found = real(variant, "reload")
        assert found["lost"] == 0 and found["verdict"] == "delayed" and found["back_after_s"] <= found["whole_after_s"]
        assert "HUP handled" in found["journal"], found["journal"]


@pytest.mark.parametrize("variant", TYPES)
def test_a_worker_killed_loses_the_request_it_held_and_nothing_else(variant):
    got = read_again(RUN_DIR, f"{variant}-op-kill_worker-ioTask-ms-100", variant)
    found, done, header, rows = got["found"], got["done"], got["header"], got["rows"]
    assert (found["lost"], found["lost_by_kind"]) == (1, {"closed": 1}), found["reason"]
    # the one in flight: due within its 100 ms before the instant
    assert -0.12 < found["lost_first_after_s"] < 0 and "worker killed by SIGKILL" in found["journal"]
    assert done["killed"] in done["workers_before"] and done["killed"] not in done["workers_after"]
    at = done["at"] - header["epoch"]
    assert {r["pid"] for r in rows if r["due"] > at + found["whole_after_s"]} == set(done["workers_after"])
    assert abs(done["at"] - done["planned_at"]) < 0.01, "it acted at the instant asked"


def test_the_report_says_which_operations_are_safe_where_with_a_table_and_a_chart(tmp_path):
    text = report.render(json.loads((RUN_DIR / "results.json").read_text()), tmp_path)
    lead = [line for line in text.splitlines() if line.startswith("- **reload** under load")]
    assert lead == ["- **reload** under load (`/ioTask?ms=100` at 5/s): safe on gevent and asgi (nothing lost, none "
                    "delayed); delayed requests on sync (2 of 60 later than 214 ms, back 0.33 s after it) and gthread "
                    "(1 of 60 later than 209 ms, back 0.10 s after it)"]  # fmt: skip
    restart = "- **restart** under load (`/ioTask?ms=100` at 5/s): lost requests on sync (2 of 60: connection refused"
    assert restart in text
    assert "## Operating it under load: what each operation lost" in text
    assert text.count("| restart | `/ioTask?ms=100` | 5.0/s |") == 4
    for kind in KINDS:
        assert (tmp_path / f"operation-{kind.replace('_', '-')}-ioTask-ms-100.png").exists()
        assert f"](operation-{kind.replace('_', '-')}-ioTask-ms-100.png)" in text


# ---- a request past gunicorn's timeout: tests/fixtures/operations-timeout (sync, tornado; timeout 2 s)
TIMEOUT_DIR = FIXTURES / "operations-timeout"


@pytest.mark.parametrize(("variant", "ended"), [("sync", {"status": 500}), ("tornado", {"status": None})])
def test_a_request_past_the_timeout_has_a_worker_that_waits_in_it_aborted_and_the_others_wait(variant, ended):
    got = read_again(TIMEOUT_DIR, f"{variant}-op-timeout-ioTask-ms-100", variant)
    found, done_ = got["found"], got["done"]
    assert found == got["row"]["rate"]["operation"]
    slow = found["slow"]
    # aborted at gunicorn's timeout (2 s; the master looks once a second), before its 3 s were up
    assert slow["gunicorn_timeout_s"] == 2 and 2 <= slow["took_s"] < 3 and slow["status"] == ended["status"]
    assert found["journal"]["WORKER TIMEOUT"] == 1 and found["workers_gone"] == done_["workers_before"]
    assert "the master aborted its worker (WORKER TIMEOUT)" in found["reason"]
    # one worker: what the load sent meanwhile waited for the new one, seconds
    assert found["delayed"] > 20 and found["after"]["max_s"] > 2 and found["back_after_s"] > 4
    if variant == "sync":  # the figures README.md quotes
        assert (found["delayed"], round(found["back_after_s"], 1)) == (28, 5.5)


def test_a_request_the_load_generator_gave_up_on_says_how_long_it_waited():
    got = operations.analyse({"epoch": EPOCH, "timeout_s": 3.0}, rows(lost={5.2: "timeout"}), done(), RUN)
    assert "1 no answer within 3 s (the load generator's wait)" in got["reason"] and got["answer_timeout_s"] == 3.0


def test_a_reload_whose_new_workers_answer_with_the_old_release_says_preload_app_kept_it():
    kept = operations.analyse({"epoch": EPOCH}, rows(), done(preload_app=True), {**RUN, "operation": {
        **RUN["operation"], "kind": "reload"}})  # fmt: skip
    assert kept["new_code_after"] == 0 and kept["preload_app"] is True and kept["verdict"] == "safe"
    assert (
        "no answer came from the new release after it, all 50 from the old: preload_app, the new workers forked"
        in (kept["reason"])
    )
    fresh = operations.analyse({"epoch": EPOCH}, rows(release=lambda d: "1" if d < 5.5 else "2"), done(), RUN)
    assert fresh["new_code_after"] == 45 and "no answer came from the new release" not in fresh["reason"]


@pytest.mark.parametrize("variant", ["sync", "gevent"])
def test_with_preload_app_a_reload_keeps_the_code_the_master_loaded_and_delays_nothing(variant):
    """tests/fixtures/operations-preload: the new workers fork from a master that has the app loaded, so they serve
    at once (sync's reload delayed nothing, where without preload_app its one worker booting delayed two) and serve
    the release the master loaded: none of the new one."""
    got = read_again(FIXTURES / "operations-preload", f"{variant}-op-reload-ioTask-ms-100", variant)
    found, rows_ = got["found"], got["rows"]
    assert found == got["row"]["rate"]["operation"] and found["preload_app"] is True
    assert (found["verdict"], found["new_code_after"], found["lost"], found["delayed"]) == ("safe", 0, 0, 0)
    assert found["old_code_after"] == sum(1 for r in rows_ if r["due"] >= found["at_s"] and r["status"] == 200)
    assert set(found["workers_after"]).isdisjoint(found["workers_before"]), "new workers, old code"
    assert "no answer came from the new release after it" in found["reason"] and "HUP handled" in found["journal"]


def test_workers_recycled_by_max_requests_set_the_requests_after_each_against_the_others():
    """Two restarts the journal saw (at 5.0 s and 8.0 s of the schedule): the requests due in the second after each
    are `after`; of them, those past twice the others' p99 (and 50 ms more) delayed; nothing at an instant."""
    run = {**RUN, "time_s": 9, "operation": {**RUN["operation"], "kind": "recycle"}}
    got = operations.analyse({"epoch": EPOCH}, rows(slow={5.1: 0.5, 8.0: 0.35}), done(max_requests=[20, 5]), run)
    lines = [(EPOCH + 0.5, "[INFO] Autorestarting worker after current request."),  # the warm-up: not the run's
             (EPOCH + 5.0, "[INFO] Autorestarting worker after current request."),
             (EPOCH + 5.2, "[INFO] Booting worker with pid: 12"),
             (EPOCH + 8.0, "[INFO] Autorestarting worker after current request.")]  # fmt: skip
    found = operations.with_journal(got, lines)
    assert found["recycles_at_s"] == [0.0, 3.0], "from the operation's instant (5 s)"
    assert found["after"]["requests"] == 20 and found["before"]["requests"] == 70
    assert (found["delayed"], found["bound_s"], found["bound_is"]) == (2, pytest.approx(0.2), "rest")
    assert found["after"]["max_s"] == pytest.approx(0.5) and found["verdict"] == "delayed"
    assert found["journal"] == {"worker recycled": 2, "worker booted": 1}
    assert found["reason"].startswith("2 workers recycled in the run (max_requests 20 + up to 5); the 20 requests due "
                                      "within 1 s after each: p99 500 ms against 100 ms for the others")  # fmt: skip
    assert "2 answered later than twice the others' p99 (200 ms)" in found["reason"]


def test_a_loss_on_a_kept_alive_connection_is_named_so():
    kept = rows(lost={5.0: "closed", 5.1: "refused"})
    for r in kept:
        r["reused"] = 1 if r["due"] == 5.0 else 0
    got = operations.analyse({"epoch": EPOCH}, kept, done(), {**RUN, "keep_alive": True})
    assert (got["keep_alive"], got["lost"], got["lost_on_kept"]) == (True, 2, 1)
    assert "1 of them sent on a connection kept alive from an earlier answer, which the server closed" in got["reason"]
    row = {"scenario": "operation", "rate": {"operation": got}}
    assert operations.operation_rows([row])[0]["what"] == "restart (keep-alive)"


# ---- the same over kept-alive connections: tests/fixtures/operations-keepalive
KEPT_DIR = FIXTURES / "operations-keepalive"


def test_over_kept_alive_connections_a_reload_loses_nothing_and_sync_keeps_none_alive():
    """gunicorn's threads and event loops keep connections alive (nearly every request went on a reused one) and a
    reload loses none of them: a worker on its way out answers `Connection: close`; sync answers every request with
    it, so nothing is reused there. A worker killed loses the request in flight, on its kept connection."""
    for variant in TYPES:
        got = read_again(KEPT_DIR, f"{variant}-op-reload-ioTask-ms-100-keepalive", variant)
        found, rows_ = got["found"], got["rows"]
        assert found == got["row"]["rate"]["operation"] and found["keep_alive"] and got["header"]["keep_alive"]
        reused = sum(1 for r in rows_ if r["reused"] == 1)
        assert reused == 0 if variant == "sync" else reused >= 0.9 * len(rows_), (variant, reused)
        assert found["lost"] == 0, found["reason"]
        kill = read_again(KEPT_DIR, f"{variant}-op-kill_worker-ioTask-ms-100-keepalive", variant)["found"]
        assert kill["lost"] == 1 and kill["lost_on_kept"] == (0 if variant == "sync" else 1), kill["reason"]


def test_an_io_wait_past_the_timeout_aborts_sync_alone_of_four_types():
    """The evidence behind refusing a timeout by an IO wait on gthread, gevent and asgi (the operation records of a
    lab run, tests/fixtures/operations-timeout/io-wait-on-four-types.json): only sync's master timed its worker out."""
    kept = json.loads((TIMEOUT_DIR / "io-wait-on-four-types.json").read_text())["operations"]
    found = {o["worker_type"]: o["operation"] for o in kept}
    assert found["sync"]["journal"].get("WORKER TIMEOUT") == 1 and found["sync"]["slow"]["status"] == 500
    for worker_type in ("gthread", "gevent", "asgi"):
        o = found[worker_type]
        assert "WORKER TIMEOUT" not in o["journal"] and o["slow"]["status"] == 200, worker_type
        assert o["slow"]["took_s"] >= 3.0 and o["slow"]["gunicorn_timeout_s"] == 2
        assert not operations_model.blocks_heartbeat(worker_type, "io", catalog.load())
    assert operations_model.blocks_heartbeat("sync", "io", catalog.load())


def test_a_recycled_gevent_worker_holds_the_requests_after_it_longer_than_a_sync_one():
    """tests/fixtures/operations-recycle (max_requests 20 + up to 5, one worker): each restart the journal saw, and
    the requests due in the second after it: sync's new worker answers them within its bound, gevent's (its loop
    made and patched anew) holds them for up to a second."""
    got = {
        v: read_again(FIXTURES / "operations-recycle", f"{v}-op-recycle-ioTask-ms-100", v) for v in ("sync", "gevent")
    }
    for variant, one in got.items():
        found = one["found"]
        assert found == one["row"]["rate"]["operation"] and found["max_requests"] == [20, 5]
        assert found["journal"]["worker recycled"] >= 2 and found["lost"] == 0, found["reason"]
        # the answers say it too: each worker after the first answered only after a restart the journal saw
        first_due: dict = {}
        for r in one["rows"]:
            if r["pid"] and r["due"] >= one["row"]["warmup_s"]:
                first_due.setdefault(r["pid"], r["due"] - found["at_s"])
        for due in sorted(first_due.values())[1:]:
            assert any(at <= due for at in found["recycles_at_s"]), (variant, due, found["recycles_at_s"])
        pids = {r["pid"] for r in one["rows"] if r["pid"]}
        assert len(pids) >= len(found["recycles_at_s"]), (variant, pids)  # a new worker after each
    assert got["sync"]["found"]["verdict"] == "safe" and got["gevent"]["found"]["verdict"] == "delayed"
    assert got["gevent"]["found"]["after"]["max_s"] > 2 * got["sync"]["found"]["after"]["max_s"]


def test_a_recycles_report_says_its_restarts_and_draws_them(tmp_path):
    text = report.render(json.loads((FIXTURES / "operations-recycle" / "results.json").read_text()), tmp_path)
    assert ("- **recycle** under load (`/ioTask?ms=100` at 5/s): safe on sync (nothing lost, none delayed); delayed "
            "requests on gevent (3 of 60 later than 585 ms, after 2 restarts)") in text  # fmt: skip
    row = "| gevent | recycle | `/ioTask?ms=100` | 5.0/s | 0 of 60 | 3 | 292 ms → 1,089 ms | 1,089 ms | – | – |"
    assert row in text
    assert (tmp_path / "operation-recycle-ioTask-ms-100.png").stat().st_size > 10_000


# ---- a deploy under load: deploy.yml's own roles with a new version of the app (tests/fixtures/operations-deploy*)
def deploys(fixture: str) -> dict:
    return {v: read_again(FIXTURES / fixture, f"{v}-op-deploy-ioTask-ms-100", v) for v in TYPES}


def test_a_deploy_that_restarts_the_instance_loses_what_a_restart_loses():
    """tests/fixtures/operations-deploy: the tasks copy and swap the code in for 12-17 s without touching the running
    instance, then restart it: every type refuses the requests due while no master listens, as `restart` does."""
    for variant, one in deploys("operations-deploy").items():
        found, done_ = one["found"], one["done"]
        assert found == one["row"]["rate"]["operation"], variant
        deploy = found["deploy"]
        assert (deploy["action"], deploy["ok"], deploy["code_changed"], deploy["venvs_changed"]) == (
            "restart", True, True, False
        ), variant  # fmt: skip
        # the instant is the restart's, when the readiness check began; the tasks ran from well before it
        assert done_["at"] == done_["deploy"]["turn"]["started"] and deploy["began_after_s"] < -10, variant
        assert 0 < deploy["ended_after_s"] < 3 and found["whole_after_s"] is not None, variant
        assert found["lost"] == found["lost_by_kind"]["refused"] >= 2 and found["master_changed"], found["reason"]
        assert 0 < found["lost_first_after_s"] < 1.5, "lost around the restart, not while the code was swapped in"
        assert found["new_code_before"] == 0 and found["new_code_after"] > 0
        assert found["reason"].startswith(f"deploy.yml's tasks ran from {deploy['began_after_s']:+.2f} s to ")
        assert "(the code changed) and restarted the instance at 0 s" in found["reason"]
        assert {"master shut down", "master started"} <= set(found["journal"]), found["journal"]
    # what README quotes of this run
    lost = {v: one["found"]["lost"] for v, one in deploys("operations-deploy").items()}
    assert lost == {"sync": 2, "gthread": 3, "gevent": 4, "asgi": 4}


def test_a_reload_after_the_code_folder_was_deleted_kills_the_master_and_loses_more_than_a_restart():
    """tests/fixtures/operations-deploy-deleted-cwd: the deploy replaced the app's folder (rm -rf src; mv src.new src)
    and reloaded: the master, standing in the deleted folder, read its config again on the HUP and exited on
    gunicorn's "Error: [Errno 2] No such file or directory"; systemd started it again a second later. Every type lost
    more than the same deploy with a restart. The evidence names it, from the journal; bench_app now keeps the old
    folder (src.old) until the next change."""
    restarted = deploys("operations-deploy")
    for variant, one in deploys("operations-deploy-deleted-cwd").items():
        found = one["found"]
        assert found == one["row"]["rate"]["operation"] and found["deploy"]["action"] == "reload", variant
        assert found["master_changed"], "a reload keeps its master, unless it died"
        assert found["journal_error"] == "Error: [Errno 2] No such file or directory", found["reason"]
        assert {"HUP handled", "master failed", "restarted by systemd"} <= set(found["journal"]), found["journal"]
        assert ('the master exited on "Error: [Errno 2] No such file or directory" and systemd started it again'
                in found["reason"])  # fmt: skip
        assert found["lost"] > restarted[variant]["found"]["lost"], (variant, found["lost"])
        assert found["lost_by_kind"]["refused"] >= 5, found["reason"]
        assert found["lost"] == {"sync": 7, "gthread": 6, "gevent": 7, "asgi": 6}[variant], "as README quotes"


def test_a_deploy_that_reloads_keeps_the_master_and_its_socket_and_loses_nothing():
    """tests/fixtures/operations-deploy-reload (gunicorn_code_change=reload, the replaced code kept as src.old): the
    same master throughout, new workers on the new release, nothing refused on any type, where the same deploy with a
    restart refused 2-4 a type."""
    restarted = deploys("operations-deploy")
    for variant, one in deploys("operations-deploy-reload").items():
        found = one["found"]
        assert found == one["row"]["rate"]["operation"] and found["deploy"]["action"] == "reload", variant
        assert not found["master_changed"] and found["journal_error"] is None, found["reason"]
        assert found["lost"] == 0 < restarted[variant]["found"]["lost"], found["reason"]
        assert found["verdict"] in ("safe", "delayed") and found["delayed"] <= 1, found["reason"]
        assert found["new_code_after"] > 0 and found["new_code_before"] == 0
        assert set(found["workers_gone"]) == set(found["workers_before"]), "every worker replaced by the HUP"
        assert "HUP handled" in found["journal"] and "master started" not in found["journal"], found["journal"]
        assert "(the code changed) and reloaded the instance at 0 s" in found["reason"]


def test_a_deploys_report_names_what_it_did_to_the_instance_and_shades_its_tasks(tmp_path):
    text = report.render(json.loads((FIXTURES / "operations-deploy-reload" / "results.json").read_text()), tmp_path)
    assert (
        "- **deploy (reload)** under load (`/ioTask?ms=100` at 5/s): safe on sync, gevent and asgi (nothing lost, "
        "none delayed); delayed requests on gthread (1 of 185 later than 221 ms, back 0.17 s after it)"
    ) in text
    assert "| asgi | deploy (reload) | `/ioTask?ms=100` | 5.0/s | 0 of 185 | 0 |" in text
    assert (tmp_path / "operation-deploy-reload-ioTask-ms-100.png").stat().st_size > 10_000
