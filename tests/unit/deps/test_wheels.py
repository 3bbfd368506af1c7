"""Each virtualenv's lock and wheels, made on the controller (bench/deps/wheels.py, the bench_lock action): with pip's
real
resolver and downloader against a local folder of wheels made here (no index is reached)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from builders import instance, wheel

from bench.deps import resolve, wheels

TAG = resolve.Tag("3.11", "x86_64")


@pytest.fixture
def index(tmp_path) -> list[str]:
    """The wheels the notes example needs under gthread and gevent, as pip would find them on an index."""
    folder = tmp_path / "index"
    folder.mkdir()
    for name, version, requires in [
        ("gunicorn", "27.0.1", ("packaging",)), ("packaging", "26.4", ()), ("Flask", "3.1.3", ("Werkzeug>=3",)),
        ("Flask", "3.0.0", ("Werkzeug>=3",)), ("Werkzeug", "3.1.9", ()), ("marshmallow", "4.4.0", ()),
        ("gevent", "26.9.0", ("greenlet>=3", "zope.event", "zope.interface")), ("greenlet", "3.5.6", ()),
        ("zope.event", "6.2", ()), ("zope.interface", "8.7", ()),
        ("pip", importlib.metadata.version("pip"), ()),  # the hosts' installer, run from its wheel (wheels.pip_wheel)
    ]:  # fmt: skip
        wheel(folder, name, version, requires)
    return ["--no-index", "--find-links", str(folder)]


def test_a_lock_resolves_the_type_and_the_app_together_downloads_its_wheels_and_is_reused(index, tmp_path):
    inst, spec = instance("gevent")
    made = wheels.lock(inst, spec, TAG, cache=tmp_path / "cache", index_args=index)
    lock = Path(made["lock"])
    assert made["changed"] and lock.parent == tmp_path / "cache/locks/cp311-x86_64/notes"
    assert lock.name.startswith("gevent-")
    pins = resolve.requirement_lines(lock.read_text())
    assert pins == ["Flask==3.1.3", "gevent==26.9.0", "greenlet==3.5.6", "gunicorn==27.0.1", "marshmallow==4.4.0",
                    "packaging==26.4", "Werkzeug==3.1.9", "zope.event==6.2", "zope.interface==8.7"]  # fmt: skip
    wheelhouse = tmp_path / "cache/wheelhouse/cp311-x86_64"
    got = sorted(p.name.split("-")[0].lower().replace(".", "_") for p in wheelhouse.glob("*.whl"))
    assert got == sorted(p.split("==")[0].lower().replace(".", "_") for p in pins), "every pin's wheel, no more"
    again = wheels.lock(inst, spec, TAG, cache=tmp_path / "cache", index_args=["--no-index"])  # pip is not asked
    assert again == {**made, "changed": False}
    other = wheels.lock({**inst, "app_requirements": ["Flask==3.0.0", "marshmallow"]}, spec, TAG,
                        cache=tmp_path / "cache", index_args=index)  # fmt: skip
    assert other["changed"] and other["lock"] != made["lock"], "other inputs, another lock; the first one stays"
    assert "Flask==3.0.0" in Path(other["lock"]).read_text() and lock.is_file()


def test_an_app_requirement_that_cannot_be_met_is_refused_naming_the_package(index, tmp_path):
    inst, spec = instance("gthread", ("Flask==9.9", "marshmallow"))
    refused = r"^worker type gthread: Flask==9.9: no version that fits \(there are: "
    with pytest.raises(resolve.ResolveError, match=refused):
        wheels.lock(inst, spec, TAG, cache=tmp_path / "cache", index_args=index)
    assert not (tmp_path / "cache/locks").exists(), "no lock is written for a refusal"


def test_an_app_given_as_a_wheel_goes_into_the_wheelhouse_and_its_hash_into_the_answer(index, tmp_path):
    built = tmp_path / "dist"
    built.mkdir()
    wheel(built, "notes-service", "1.0.0", ("Flask>=3",))
    inst, spec = instance("gthread", ("Flask>=3",))
    spec = {**spec, "src": str(next(built.glob("*.whl"))), "src_kind": "archive"}
    made = wheels.locks([inst], spec, TAG, cache=tmp_path / "cache", index_args=index)[inst["name"]]
    assert made["app_wheel"] == "notes_service-1.0.0-py3-none-any.whl"
    assert (tmp_path / "cache/wheelhouse/cp311-x86_64" / made["app_wheel"]).is_file()
    assert len(made["app_wheel_sha256"]) == 64
    # and the pip that installs it on the hosts, from its wheel: a virtualenv needs no ensurepip (stock Debian)
    assert made["pip_wheel"] == f"pip-{importlib.metadata.version('pip')}-py3-none-any.whl"
    assert (tmp_path / "cache/wheelhouse/cp311-x86_64" / made["pip_wheel"]).is_file()


def test_pip_comes_from_the_wheelhouse_when_no_index_has_this_controllers_version(tmp_path):
    """A scheduled controller has no index and another pip than the controller that filled its wheelhouse: the newest
    pip wheel it was given installs the virtualenvs; with none, the refusal names pip."""
    empty = tmp_path / "empty"
    empty.mkdir()
    house = tmp_path / "wheelhouse"
    house.mkdir()
    with pytest.raises(resolve.ResolveError, match=r"^pip [0-9.]+ \(installs the hosts' virtualenvs\): "):
        wheels.pip_wheel(house, index_args=["--no-index", "--find-links", str(empty)])
    for version in ("1.0", "1.10"):
        wheel(house, "pip", version, ())
    assert wheels.pip_wheel(house, index_args=["--no-index", "--find-links", str(empty)]) == "pip-1.10-py3-none-any.whl"
