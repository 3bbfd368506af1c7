"""pytest's fixtures and hooks for every test: the lab fixture, the order of the lab's tests, and how make test's two
workers share them. What tests share otherwise is in support.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from support import FIXTURES, LAB_TESTS, ROOT, lab_up
from xdist.scheduler import LoadScopeScheduling


@pytest.fixture
def two_hosts(tmp_path) -> Path:
    """A copy of a real run folder of one app host loaded by two load hosts (tests/fixtures/two-load-hosts)."""
    shutil.copytree(FIXTURES / "two-load-hosts", tmp_path / "run")
    return tmp_path / "run"


# Per module, not per session: test_lab.py and test_lab_release.py tear the lab down, and a session fixture would leave
# every later module a lab that is gone. When the lab is up this costs one no-op lab.yml (seconds) per module.
@pytest.fixture(scope="module")
def lab() -> subprocess.CompletedProcess:
    """The lab up, for every lab test that needs no special state."""
    return lab_up()


# make test runs pytest with two workers (pytest-xdist, -n 2): the tests of every file that uses the lab, and of
# test_refusals (lab.yml's rows check this machine's lab state is the same before and after), go to one worker as one
# unit, in order; every other test runs beside them on the other worker, and so do test_refusals' rows that only ever
# reach this machine (BESIDE_THE_LAB: about a minute of playbooks refused on the controller). The lab's first files
# change hosts but measure nothing, so the other worker is done before a benchmark runs. (xdist's own --dist loadgroup
# cannot group them: pytest 9 no longer reads the node id it rewrites.)
# The lab's tests are the files of tests/lab/ (each carries the `lab` marker: pytest_collection_modifyitems checks it);
# test_lab_network is not the lab's, but its interfaces come and go: never beside lab.yml's checks.
LAB_UNIT = {str(LAB_TESTS.relative_to(ROOT)) + "/", "tests/unit/roles/test_lab_network.py"}
LAB_FIRST = ("test_lab", "test_deploy", "test_refusals")
BESIDE_THE_LAB = {"test_refusals.py::test_bad_input_is_refused_on_this_machine_before_any_host_is_reached"}


def pytest_collection_modifyitems(config, items):
    """The lab's first files first; and the `lab` marker read as a marker: a test is in tests/lab/ if and only if it
    carries it (make test-unit and make test-lab select by it, the two workers by the folder), but for the refusals
    that run beside the lab's tests (BESIDE_THE_LAB: they reach no host)."""
    marked = {item.nodeid: item.get_closest_marker("lab") is not None for item in items}
    misplaced = [
        item.nodeid for item in items
        if marked[item.nodeid] != Path(item.path).is_relative_to(LAB_TESTS) and not beside_the_lab(item.nodeid)
    ]  # fmt: skip
    if misplaced:
        raise pytest.UsageError(f"lab tests belong in tests/lab/ and only there, with the lab marker: {misplaced[:5]}")
    first = {name: i for i, name in enumerate(LAB_FIRST)}
    items.sort(key=lambda item: first.get(item.module.__name__, len(first)))  # stable: the rest keep their order


def beside_the_lab(nodeid: str) -> bool:
    path, _, name = nodeid.partition("::")
    return f"{Path(path).name}::{name.split('[', 1)[0]}" in BESIDE_THE_LAB


class LabScheduling(LoadScopeScheduling):
    """One work unit for all the lab's tests; one for each other test."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.partition("::")[0]
        in_lab = any(path == unit or (unit.endswith("/") and path.startswith(unit)) for unit in LAB_UNIT)
        if not in_lab or beside_the_lab(nodeid):
            return nodeid
        return "lab"


def pytest_xdist_make_scheduler(config, log):
    return LabScheduling(config, log)
