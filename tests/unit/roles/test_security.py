"""What the repository itself must never hold or do: secrets, host key checking turned off, files written onto
someone's hosts without an explicit owner and mode."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from support import ROOT

# Modules that write a file or folder; on a managed host each must say who owns it and with what mode.
WRITERS = {"copy", "template", "file", "unarchive", "get_url", "lineinfile", "blockinfile", "assemble"}
# Roles whose tasks run on the app, load or controller hosts (the lab role runs on this machine, as root).
HOST_ROLES = ("bench_app", "gunicorn", "load", "schedule")

SECRETS = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b(ansible_(ssh_|become_)?pass(word)?)\s*[:=]\s*\S"), "a password in an inventory variable"),
    (re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16}|xox[baprs]-[A-Za-z0-9-]{10,})"), "an API token"),
    (re.compile(r"StrictHostKeyChecking\s*=\s*(no|off|accept-new)", re.I), "host key checking turned off"),
    (re.compile(r"host_key_checking\s*=\s*(false|no|0)", re.I), "host key checking turned off"),
    (re.compile(r"UserKnownHostsFile\s*=\s*/dev/null", re.I), "host keys thrown away"),
]


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / p for p in out.decode().split("\0") if p]


def test_no_key_password_or_token_is_committed_and_host_keys_are_always_checked():
    found = []
    for path in tracked_files():
        if not path.is_file() or path == Path(__file__):
            continue
        text = path.read_text(errors="replace")
        found += [f"{path.relative_to(ROOT)}: {what}" for pattern, what in SECRETS if pattern.search(text)]
    assert found == []


def test_the_lab_keys_and_run_outputs_are_ignored_by_git():
    ignored = subprocess.run(
        ["git", "check-ignore", ".lab/ssh/id_ed25519", ".lab/ssh/known_hosts", "inventory/lab/hosts.yml",
         "reports/20260101T000000Z-all/results.json", ".cache/wheelhouse/x.whl"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    assert len(ignored) == 5, ignored


def test_the_lab_pins_host_keys_and_the_cloud_example_keeps_checking_them():
    lab = (ROOT / "roles/lab/templates/hosts.yml.j2").read_text()
    assert "StrictHostKeyChecking=yes" in lab and "UserKnownHostsFile={{ lab_known_hosts }}" in lab
    cloud = yaml.safe_load((ROOT / "inventory/cloud.example.yml").read_text())
    assert "ansible_ssh_common_args" not in cloud["all"]["vars"]  # Ansible's default: host keys are checked
    assert "host_key_checking" not in (ROOT / "ansible.cfg").read_text()


def tasks_in(node) -> list[dict]:
    """Every task of a task list, blocks and their rescue/always included."""
    out = []
    for task in node or []:
        if not isinstance(task, dict):
            continue
        if "block" in task:
            out += tasks_in(task["block"]) + tasks_in(task.get("rescue")) + tasks_in(task.get("always"))
        else:
            out.append(task)
    return out


def writer(task: dict) -> tuple[str, dict] | None:
    """The module and its arguments when the task writes a file or folder (not when it removes, links or checks)."""
    for key, value in task.items():
        short = key.rsplit(".", 1)[-1]
        if short in WRITERS and (key.startswith("ansible.builtin.") or key == short):
            args = value if isinstance(value, dict) else {}
            if short == "file" and args.get("state", "file") in ("absent", "link", "file"):
                return None
            return short, args
    return None


def file_tasks() -> list[tuple[str, tuple[str, dict], bool]]:
    """(where, (module, its arguments), on a managed host) for each task that writes a file or folder."""
    found = []
    for path in sorted([*ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("roles/*/handlers/*.yml"),
                        *ROOT.glob("playbooks/tasks/*.yml")]):  # fmt: skip
        role = path.parts[-3] if "roles" in path.parts else None
        for task in tasks_in(yaml.safe_load(path.read_text())):
            found_writer = writer(task)
            if found_writer:
                on_host = role in HOST_ROLES and task.get("delegate_to") != "localhost"
                found.append((f"{path.relative_to(ROOT)}: {task.get('name')}", found_writer, on_host))
    for path in sorted(ROOT.glob("playbooks/*.yml")):
        for play in yaml.safe_load(path.read_text()) or []:
            local = play.get("hosts") == "localhost"
            for task in (
                tasks_in(play.get("tasks")) + tasks_in(play.get("pre_tasks")) + tasks_in(play.get("post_tasks"))
            ):
                found_writer = writer(task)
                if found_writer:
                    on_host = not local and task.get("delegate_to") != "localhost"
                    found.append((f"{path.relative_to(ROOT)}: {task.get('name')}", found_writer, on_host))
    return found


def test_the_harness_writes_files_in_many_places():
    assert len(file_tasks()) >= 25  # the check below looks at real tasks, not at an empty list


@pytest.mark.parametrize(("where", "module", "on_host"), file_tasks(), ids=[f[0] for f in file_tasks()])
def test_every_file_written_has_an_explicit_mode_and_on_hosts_an_owner(where, module, on_host):
    name, args = module
    if name != "unarchive":  # an archive keeps each member's mode (git's 644 and 755); one mode would flatten them
        assert "mode" in args, f"{where}: no mode"
    if on_host:
        assert "owner" in args and "group" in args, f"{where}: no owner/group on a managed host"
