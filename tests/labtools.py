"""Helpers for tests that talk to the lab's hosts through Ansible."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from conftest import BIN, ROOT, run


def ansible(pattern: str, *args: str) -> dict[str, dict]:
    """Run an ad-hoc module over the lab inventory; each host's result as ansible's tree callback wrote it."""
    with tempfile.TemporaryDirectory() as tree:
        run([str(BIN / "ansible"), pattern, *args, "--tree", tree], timeout=120)
        return {p.name: json.loads(p.read_text()) for p in Path(tree).iterdir()}


def recap(output: str, host: str) -> dict[str, int]:
    match = re.search(rf"^{host}\s+:\s+(.*)$", output, re.M)
    assert match, output[-2000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def app_address(host: str = "app1") -> str:
    inventory = (ROOT / "inventory/lab/hosts.yml").read_text()
    return re.search(rf"{host}:\s+ansible_host: (\S+)", inventory).group(1)
