"""The filters that took the playbooks' logic out of Jinja (plugins/filter/bench.py), on real inputs: what Ansible
registered of the load role's steps when a load host did not answer, the facts `setup` gathers here, the context a
lab run wrote, the lab's nspawn processes as pgrep lists them with the lab up, and lab plans made by lab_plan. The
last test runs the expressions as the playbooks and roles hold them, read from their files, through Ansible on this
machine (local connections only: no host is reached)."""

from __future__ import annotations

import json
import re
import sys

import pytest
import yaml
from support import FIXTURES, ROOT, load_module, playbook

from bench.control import host_context, lab_running, unreachable

filters = load_module("plugins/filter/bench.py")
lab_plan = load_module("roles/lab/library/lab_plan.py")

REGISTERED = json.loads((FIXTURES / "ansible/registered-load-lost.json").read_text())
SETUP = json.loads((FIXTURES / "ansible/setup-controller.json").read_text())["ansible_facts"]
# hostvars' ansible_facts, as Ansible keeps them: without the prefix
FACTS = {key.removeprefix("ansible_"): value for key, value in SETUP.items()}
CONTEXT = json.loads((FIXTURES / "ansible/context-demo-sync.json").read_text())  # raw/context.json of a lab run
NSPAWNS = (FIXTURES / "lab/pgrep-up.txt").read_text().splitlines()  # the lab up: bl-app1 on core 1, bl-load1 on 0
LOAD_HOSTS = ["load1", "load2"]
NOT_REGISTERED: dict = {}  # what `| default({})` gives a step that has not run


# --- the load host lost during a worker type's load (roles/load/vars/main.yml: load_lost_found) ----------------------


def lost(*registered) -> dict:
    return filters.bench_load_lost(list(registered), LOAD_HOSTS)


def test_nothing_lost_when_every_step_reached_its_hosts_or_none_ran():
    assert lost(NOT_REGISTERED, NOT_REGISTERED, NOT_REGISTERED, NOT_REGISTERED) == \
        {"lost": False, "host": "load1", "msg": "unreachable"}  # fmt: skip
    assert lost(NOT_REGISTERED, NOT_REGISTERED, REGISTERED["load_shared_done"], NOT_REGISTERED)["lost"] is False


def test_the_turn_on_the_one_load_host_names_no_host_the_first_load_host_is_lost():
    found = lost(REGISTERED["load_turn"], NOT_REGISTERED, NOT_REGISTERED, NOT_REGISTERED)
    assert "results" not in REGISTERED["load_turn"]  # one task, no loop: its own result is the one unreachable
    ssh = "ssh: connect to host 192.0.2.3 port 22: No route to host"
    assert found == {"lost": True, "host": "load1", "msg": f"Task failed: Failed to connect to the host via ssh: {ssh}"}


def test_a_step_over_the_load_hosts_names_the_one_lost():
    for step in ("load_shared_jobs", "load_fetched"):
        found = lost(NOT_REGISTERED, REGISTERED[step], NOT_REGISTERED, NOT_REGISTERED)
        assert (found["lost"], found["host"]) == (True, "load1"), step
        assert "192.0.2.3" in found["msg"]


def test_a_job_lost_while_waited_for_names_the_host_its_job_ran_on():
    # async_status loops over the jobs started: its item is the job's result, whose own item is the host (load2's
    # job is real; its waiting step losing the host is not, as this machine cannot lose a local host)
    job = next(r for r in REGISTERED["load_shared_jobs"]["results"] if "ansible_job_id" in r)
    gone = {"results": [{"item": job, "unreachable": True, "msg": "ssh: connect to host load2: Connection timed out"}]}
    assert lost(NOT_REGISTERED, NOT_REGISTERED, gone, NOT_REGISTERED) == \
        {"lost": True, "host": "load2", "msg": "ssh: connect to host load2: Connection timed out"}  # fmt: skip


def test_the_first_unreachable_result_in_step_order_is_the_one_named():
    found = lost(REGISTERED["load_turn"], NOT_REGISTERED, NOT_REGISTERED, REGISTERED["load_fetched"])
    assert found["msg"].startswith("Task failed: Failed to connect")  # the turn's step, not the fetch's
    assert unreachable.lost_load_host([], [])["host"] is None


# --- the report's context (playbooks/report.yml: bench_report_context, bench_failed_types) ---------------------------


def hostvars() -> dict:
    """app1 and load1 as a lab run leaves them (this machine's facts stand for both), app2 whose facts were never
    gathered, and both1 in both groups."""
    siege, kept = REGISTERED["load_siege"], CONTEXT["apps"]["app1"]
    turns = {"bench_versions": kept["versions"], "bench_processes": kept["processes"], "bench_verified": kept["verify"]}
    return {
        "app1": {"ansible_facts": FACTS, "ansible_host": "10.203.0.2", "lab_cpus": [1], **turns},
        "app2": {"ansible_facts": {}},
        "load1": {"ansible_facts": FACTS, "ansible_host": "10.203.0.3", "lab_cpus": [0], "load_siege": siege},
        "both1": {"ansible_facts": FACTS, "load_siege": siege},
    }


GROUPS = {"all": ["app1", "app2", "both1", "load1"], "app": ["app1", "app2", "both1"], "load": ["both1", "load1"]}


def test_each_host_gathered_is_described_app_hosts_first_and_once():
    hosts = filters.bench_report_context(GROUPS, hostvars())["hosts"]
    assert list(hosts) == ["app1", "both1", "load1"]  # app2's facts were never gathered
    assert hosts["app1"] == {"role": "app", "address": "10.203.0.2", "cpu_model": "AMD EPYC", "cores": 2,
                             "cpus_pinned": [1], "memory_mb": 24105, "kernel": "6.18.44-fc-v1098", "os": "Debian 12.11",
                             "architecture": "x86_64", "python": "3.11.7", "siege": None}  # fmt: skip
    assert hosts["load1"] | {"role": "app", "address": "10.203.0.2", "cpus_pinned": [1], "siege": None} == hosts["app1"]
    assert (hosts["load1"]["role"], hosts["load1"]["siege"]) == ("load", "4.0.7")  # siege --version writes to stderr
    assert (hosts["both1"]["role"], hosts["both1"]["address"], hosts["both1"]["cpus_pinned"], hosts["both1"]["siege"]) \
        == ("app", "both1", None, "4.0.7")  # fmt: skip


def test_the_context_has_the_keys_and_values_a_lab_run_wrote():
    context = filters.bench_report_context({"app": ["app1"], "load": ["load1"]}, hostvars())
    assert context["apps"] == CONTEXT["apps"]
    for host in ("app1", "load1"):
        assert list(context["hosts"][host]) == list(CONTEXT["hosts"][host])
        assert {k: context["hosts"][host][k] for k in ("role", "address", "cpus_pinned", "siege")} == \
            {k: CONTEXT["hosts"][host][k] for k in ("role", "address", "cpus_pinned", "siege")}  # fmt: skip


def test_an_app_host_that_ran_nothing_has_empty_tables_and_facts_without_a_model_or_python_say_so():
    assert filters.bench_report_context(GROUPS, hostvars())["apps"]["app2"] == \
        {"versions": {}, "processes": {}, "verify": {}}  # fmt: skip
    bare = {"ansible_facts": FACTS | {"processor": ["0", "AuthenticAMD"], "python": {}}, "load_siege": {"stdout": "x"}}
    record = host_context.host_record("load9", bare, app=False, load=True)
    assert (record["cpu_model"], record["python"], record["siege"], record["address"]) == \
        ("unknown", None, None, "load9")  # fmt: skip


def test_the_failed_types_are_named_by_app_host_when_there_are_several():
    many = hostvars()
    many["app1"]["bench_failed_types"] = ["sync", "gthread"]
    many["both1"]["bench_failed_types"] = ["gevent"]
    assert filters.bench_failed_types(GROUPS["app"], many) == "sync, gthread on app1; gevent on both1"
    assert filters.bench_failed_types(["app1"], many) == "sync, gthread"
    assert filters.bench_failed_types(GROUPS["app"], hostvars()) == ""


# --- the run's id (playbooks/begin.yml: bench_run_id) ----------------------------------------------------------------


def test_the_run_id_is_its_start_time_and_its_plan_label():
    assert filters.bench_run_id("2026-12-03T02:18:16Z", "demo-sync", False) == "20261203T021816Z-demo-sync"
    assert filters.bench_run_id("2026-12-03T02:18:16Z", "demo-sync+gthread", True) == \
        "20261203T021816Z-demo-sync+gthread-verify"  # fmt: skip
    for path in sorted((FIXTURES / "results").glob("*.json")):  # real runs: their id from when they started
        run = json.loads(path.read_text())
        label = run["run_id"].split("-", 1)[1].removesuffix("-verify")
        assert filters.bench_run_id(run["started"], label, run.get("verify_only", False)) == run["run_id"], path.name


# --- the lab's nspawn processes against its plan (roles/lab/tasks/main.yml: lab_pgrep_pattern, lab_against_plan) -----


def plan(**changes) -> list[dict]:
    """The hosts of a lab plan as lab_plan makes them (paths as this machine's lab has them)."""
    args = {"name": "bl", "bridge": "blbr0", "subnet": "10.203.0.0/24", "app_hosts": 1, "load_hosts": 1,
            "cpus": [0, 1], "cpu_pinning": True} | changes  # fmt: skip
    return lab_plan.paths(lab_plan.plan_lab(**args), "/work/main/.lab/roots", "/work/main/.lab/hosts")["hosts"]


def test_pgreps_pattern_finds_the_labs_nspawns_but_not_its_own_command_line():
    pattern = filters.lab_pgrep_pattern("bl")
    assert pattern == "--machine=[b]l-"
    assert all(re.search(pattern, line) for line in NSPAWNS)
    assert not re.search(pattern, f"/bin/sh -c pgrep --list-full --full -- '{pattern}' || true")


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, {"here": 2, "elsewhere": 0, "as_planned": True}),  # the lab as it runs: the fast path
    ({"cpu_pinning": False}, {"here": 0, "elsewhere": 2, "as_planned": False}),  # both on cores 0,1 now
    ({"suite": "trixie"}, {"here": 0, "elsewhere": 2, "as_planned": False}),  # another release's base root
    ({"load_hosts": 2}, {"here": 2, "elsewhere": 0, "as_planned": False}),  # load2 is not up yet
    ({"name": "zz", "bridge": "zzbr0"}, {"here": 0, "elsewhere": 0, "as_planned": False}),  # another lab's hosts
])  # fmt: skip
def test_the_running_nspawns_are_counted_against_the_plan(changes, expected):
    assert filters.lab_against_plan(NSPAWNS, plan(**changes)) == expected


def test_a_core_list_is_matched_whole_and_no_nspawn_at_all_is_not_the_plan():
    hosts = plan()
    hosts[1]["cpus"] = [0, 1]  # load1 planned on 0,1: "--cpu-affinity=0 " is not "--cpu-affinity=0,1 "
    assert lab_running.running(NSPAWNS, hosts) == {"here": 1, "elsewhere": 1, "as_planned": False}
    assert lab_running.running([], plan()) == {"here": 0, "elsewhere": 0, "as_planned": False}


# --- the expressions as the playbooks hold them, run by Ansible -------------------------------------------------------


def read_yaml(relpath: str):
    return yaml.safe_load((ROOT / relpath).read_text())


def task_named(tasks: list[dict], name: str) -> dict:
    return next(t for t in tasks if t.get("name") == name)


def test_the_playbooks_expressions_give_the_same_through_ansible(tmp_path):
    """report.yml's context and failed types over Ansible's own hostvars (facts gathered here, on local
    connections), the load role's load_lost_found over the registered fixture, the lab's lab_running over the pgrep
    fixture: each expression read from its file."""
    report = read_yaml("playbooks/report.yml")[0]["tasks"]
    stdin = task_named(report, "Parse the raw output into results.json, render report.md and its charts, point "
                               "reports/latest at it")["ansible.builtin.command"]["stdin"]  # fmt: skip
    failed = task_named(report, "Fail the run when a worker type failed (bench_on_worker_failure says whether the "
                                "others were loaded)")["vars"]["bench_failed"]  # fmt: skip
    load_lost = read_yaml("roles/load/vars/main.yml")["load_lost_found"]
    lab_task = task_named(read_yaml("roles/lab/tasks/main.yml"), "Note whether the lab must be built or booted")
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"vars": local, "children": {
        "app": {"hosts": {"app1": {"ansible_host": "10.203.0.2", "lab_cpus": [1]}, "app2": {}}},
        "load": {"hosts": {"load1": {"ansible_host": "10.203.0.3", "lab_cpus": [0]}}}}}}))  # fmt: skip
    given = {"registered": REGISTERED, "context": CONTEXT, "nspawns": NSPAWNS, "plan": plan()}
    (tmp_path / "given.json").write_text(json.dumps({"given": given}))
    out = tmp_path / "out.json"
    (tmp_path / "check.yml").write_text(yaml.safe_dump([
        {"name": "Hosts", "hosts": "app1:load1", "gather_facts": False, "tasks": [
            {"ansible.builtin.setup": {"gather_subset": ["!all", "!min", "hardware", "distribution", "platform",
                                                         "python"]}},
            {"ansible.builtin.set_fact": {"load_siege": "{{ given.registered.load_siege }}"},
             "when": "inventory_hostname in groups['load']"},
            {"ansible.builtin.set_fact": {"bench_versions": "{{ given.context.apps.app1.versions }}",
                                          "bench_processes": "{{ given.context.apps.app1.processes }}",
                                          "bench_verified": "{{ given.context.apps.app1.verify }}",
                                          "bench_failed_types": ["sync"]},
             "when": "inventory_hostname == 'app1'"}]},
        {"name": "Expressions", "hosts": "localhost", "gather_facts": False, "tasks": [
            {"ansible.builtin.copy": {"dest": str(out), "mode": "0644", "content": "{{ found | to_json }}"},
             "vars": {"bench_failed": failed,
                      "load_hosts": ["load1"], "load_turn": "{{ given.registered.load_turn }}",
                      "load_fetched": "{{ given.registered.load_fetched }}", "load_lost_found": load_lost,
                      "lab_nspawns": "{{ given.nspawns }}", "lab_plan_result": {"plan": {"hosts": "{{ given.plan }}"}},
                      "lab_running": lab_task["vars"]["lab_running"],
                      "found": {"stdin": stdin, "failed": "{{ bench_failed }}", "lost": "{{ load_lost_found }}",
                                "lab": "{{ lab_running }}",
                                "facts": "{{ hostvars['app1'].ansible_facts }}"}}}]},
    ]))  # fmt: skip
    done = playbook("-i", str(tmp_path / "hosts.yml"), str(tmp_path / "check.yml"), "-e", f"@{tmp_path / 'given.json'}",
                    timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    found = json.loads(out.read_text())
    stdin = json.loads(found["stdin"])
    read = ("processor", "processor_nproc", "memtotal_mb", "kernel", "distribution", "distribution_version",
            "architecture", "python")  # fmt: skip
    facts = {key: found["facts"][key] for key in read}
    hosts = {"app1": {"ansible_facts": facts, "ansible_host": "10.203.0.2", "lab_cpus": [1]},
             "load1": {"ansible_facts": facts, "ansible_host": "10.203.0.3", "lab_cpus": [0],
                       "load_siege": REGISTERED["load_siege"]}}  # fmt: skip
    expected = host_context.report_context(["app1", "app2"], ["load1"], {**hosts, "app2": {}})
    assert list(stdin) == ["context"], "the phases come from the task_timer callback, not the playbook"
    assert stdin["context"]["hosts"] == expected["hosts"] and list(stdin["context"]["hosts"]) == ["app1", "load1"]
    assert stdin["context"]["apps"] == {"app1": CONTEXT["apps"]["app1"], "app2": {"versions": {}, "processes": {},
                                                                                  "verify": {}}}  # fmt: skip
    assert stdin["context"]["hosts"]["load1"]["siege"] == "4.0.7"
    assert found["failed"] == "sync on app1"
    assert found["lost"]["lost"] is True and found["lost"]["host"] == "load1"
    assert found["lab"] == {"here": 2, "elsewhere": 0, "as_planned": True}
