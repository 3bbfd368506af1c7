"""Resolving a worker type's lock with an app's requirements (bench/deps/resolve.py), with pip's real resolver against a
local folder of wheels made here (no index is reached): pins, a direct conflict, one deep in the dependencies, a
package with no wheel for the hosts, a version that does not exist."""

from __future__ import annotations

import pytest
from builders import wheel
from support import BIN, ROOT, run

from bench.deps import resolve

TAG = resolve.Tag("3.11", "x86_64")


@pytest.fixture
def index(tmp_path) -> list[str]:
    folder = tmp_path / "wheels"
    folder.mkdir()
    wheel(folder, "gunicorn", "27.0.1", ("packaging",))
    wheel(folder, "packaging", "26.4")
    wheel(folder, "Flask", "3.1.3", ("itsdangerous>=2.2",))
    wheel(folder, "Flask", "2.3.3", ("itsdangerous>=2.1",))
    wheel(folder, "itsdangerous", "2.2.0")
    wheel(folder, "notes-store", "1.4.0", ("itsdangerous>=2", "sqlite-utils>=3"))
    wheel(folder, "sqlite-utils", "3.38")
    wheel(folder, "old-plugin", "0.9", ("Flask<3",))
    wheel(folder, "fastparse", "2.0", tag="cp312-cp312-manylinux_2_17_x86_64")  # a compiled wheel for another Python
    return ["--no-index", "--find-links", str(folder)]


LOCK = ["gunicorn==27.0.1", "packaging==26.4", "Flask==3.1.3", "itsdangerous==2.2.0"]


def test_the_lock_and_the_apps_requirements_resolve_together(index):
    pins = resolve.resolve(LOCK, ["notes-store>=1.2"], TAG, who="gthread", index_args=index)
    assert [p.line() for p in pins] == ["Flask==3.1.3", "gunicorn==27.0.1", "itsdangerous==2.2.0",
                                        "notes-store==1.4.0", "packaging==26.4", "sqlite-utils==3.38"]  # fmt: skip
    assert [p.name for p in pins if not p.requested] == ["sqlite-utils"], "a dependency of a requirement"


def test_a_requirement_the_lock_contradicts_is_refused_without_pip(index):
    with pytest.raises(resolve.ResolveError, match=r"^flask<3 \(bench_app.requirements\) conflicts with Flask==3.1.3 "
                       r"\(gthread\)$"):  # fmt: skip
        resolve.resolve(LOCK, ["flask<3"], TAG, who="gthread", index_args=["--no-index"])


def test_a_conflict_deep_in_the_dependencies_names_the_packages(index):
    with pytest.raises(resolve.ResolveError, match=r"^gthread: conflicting requirements: .*Flask==3.1.3.*old-plugin"):
        resolve.resolve(LOCK, ["old-plugin"], TAG, who="gthread", index_args=index)


def test_a_package_without_a_wheel_for_the_hosts_is_refused(index):
    with pytest.raises(resolve.ResolveError, match=r"^gevent: fastparse: no wheel of it for Python 3.11 on x86_64: "
                       "the hosts install wheels only and have no compiler to build one"):  # fmt: skip
        resolve.resolve(LOCK, ["fastparse"], TAG, who="gevent", index_args=index)
    # the same wheel is what a 3.12 host gets
    pins = resolve.resolve([], ["fastparse"], resolve.Tag("3.12", "x86_64"), who="gevent", index_args=index)
    assert [p.line() for p in pins] == ["fastparse==2.0"]


def test_a_version_that_does_not_exist_is_refused_with_those_that_do(index):
    with pytest.raises(resolve.ResolveError, match=r"sqlite-utils>=4: no version that fits \(there are: 3.38\)"):
        resolve.resolve(LOCK, ["sqlite-utils>=4"], TAG, who="sync", index_args=index)


def test_the_tag_asks_pip_for_the_hosts_wheels():
    args = TAG.pip_args()
    assert args[:7] == ["--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"]
    assert "--platform=manylinux_2_36_x86_64" in args and args[-1] == "--platform=linux_x86_64"
    assert TAG.name == "cp311-x86_64"


def test_the_roles_take_pips_platforms_from_this_one_list():
    """bench_app (the app hosts' wheels) and schedule (the controller host's) ask the filter, which reads MANYLINUX."""
    assert not [p for p in (ROOT / "roles").rglob("*.yml") if "manylinux" in p.read_text()]
    shown = run([str(BIN / "ansible"), "localhost", "-m", "ansible.builtin.debug", "-a",
                 "msg={{ 'aarch64' | bench_pip_platforms }}"])  # fmt: skip
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert shown.stdout.count("_aarch64") == len(resolve.MANYLINUX) and '"manylinux_2_36_aarch64"' in shown.stdout


def test_an_index_pip_cannot_reach_is_named_as_such_not_as_a_package_without_wheels():
    """A nightly host without internet (and no lock made for it yet): pip finds no version of anything."""
    stderr = ("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after "
              "connection broken by 'NewConnectionError(\"<pip._vendor.urllib3.connection.HTTPSConnection "
              "object>: Failed to establish a new connection: [Errno -3] Temporary failure in name "
              "resolution\")': /simple/gevent/\n"
              "ERROR: Could not find a version that satisfies the requirement gevent==26.9.0 (from versions: none)\n"
              "ERROR: No matching distribution found for gevent==26.9.0\n")  # fmt: skip
    said = resolve.explain(stderr, TAG)
    assert said.startswith("pip could not reach the package index for gevent==26.9.0 from this machine")
    assert "no compiler" not in said
