"""Resolve what one virtualenv on the app hosts needs (a worker type's locked packages, the pins its knobs add, and the
app's own requirements) for the hosts' Python and architecture, on the controller, with pip's own resolver and
wheels only (the hosts have no index and no compiler). A conflict or a package without a wheel is refused, named,
before any host is touched."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# Every manylinux level a Debian 12 (glibc 2.36) host can run, newest first.
MANYLINUX = ("manylinux_2_36", "manylinux_2_34", "manylinux_2_31", "manylinux_2_28", "manylinux_2_17", "manylinux2014",
             "manylinux_2_12", "manylinux2010", "manylinux_2_5", "manylinux1", "linux")  # fmt: skip


class ResolveError(ValueError):
    """The requirements cannot be installed on the hosts; the message names the package and why."""


@dataclass(frozen=True)
class Tag:
    """The app hosts' interpreter and machine: one wheelhouse and one resolution per tag."""

    python: str  # major.minor, e.g. "3.11"
    arch: str  # e.g. "x86_64"

    @property
    def abi(self) -> str:
        return "cp" + self.python.replace(".", "")

    @property
    def name(self) -> str:
        return f"{self.abi}-{self.arch}"

    def pip_args(self) -> list[str]:
        """pip's options that make it choose wheels for this tag, not for the controller."""
        return ["--only-binary=:all:", "--python-version", self.python, "--implementation", "cp", "--abi", self.abi,
                *(f"--platform={p}_{self.arch}" for p in MANYLINUX)]  # fmt: skip


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    requested: bool  # named in the requirements (not only a dependency of one)

    def line(self) -> str:
        return f"{self.name}=={self.version}"


def requirement_lines(text: str) -> list[str]:
    """The requirements of a lock file: comments and blank lines dropped."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def direct_conflicts(locked: list[str], wanted: list[str], who: str) -> list[str]:
    """Requirements of the app that no version pinned by the worker type's lock satisfies: the clearest case, found
    without pip (it would say only that 'the user requested' both)."""
    pins = {}
    for line in locked:
        req = Requirement(line)
        pins[canonicalize_name(req.name)] = (req, next(iter(req.specifier), None))
    found = []
    for line in wanted:
        req = Requirement(line)
        pinned = pins.get(canonicalize_name(req.name))
        exact = pinned[1] if pinned and pinned[1] is not None and pinned[1].operator == "==" else None
        if exact and not req.specifier.contains(exact.version, prereleases=True):
            found.append(f"{line} (bench_app.requirements) conflicts with {pinned[0]} ({who})")
    return found


# What pip says when it cannot reach an index (it then finds no version of anything, which is not the package's fault).
UNREACHABLE = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
               "Max retries exceeded", "Could not fetch URL", "Network is unreachable", "No route to host")  # fmt: skip


def explain(stderr: str, tag: Tag) -> str:
    """pip's refusal, in one sentence that names the package."""
    if any(sign in stderr for sign in UNREACHABLE):
        pkg = re.search(r"No matching distribution found for (\S+)", stderr)
        return (f"pip could not reach the package index{' for ' + pkg.group(1) if pkg else ''} from this machine: "
                "give it one it can reach (bench_app_pip_download_args: [--index-url, https://...] or "
                "[--find-links, /path/to/wheels])")  # fmt: skip
    missing = re.search(r"No matching distribution found for (\S+)", stderr)
    if missing:
        name = re.escape(missing.group(1))
        versions = re.search(rf"satisfies the requirement {name} \(from versions: ([^)]*)\)", stderr)
        known = versions.group(1).strip() if versions else ""
        if known in ("", "none"):
            why = f"no wheel of it for Python {tag.python} on {tag.arch}: the hosts install wheels only and have no "
            why += "compiler to build one"
        else:
            why = f"no version that fits (there are: {known})"
        return f"{missing.group(1)}: {why}"
    conflict = re.search(r"Cannot install (.+?) because these package versions have conflicting dependencies", stderr)
    if conflict:
        causes = re.search(r"The conflict is caused by:\n(.*?)\n\n", stderr, re.S)
        detail = "; ".join(line.strip() for line in causes.group(1).splitlines()) if causes else ""
        return f"conflicting requirements: {conflict.group(1)}" + (f" ({detail})" if detail else "")
    last = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
    return last[-1].removeprefix("ERROR: ") if last else stderr.strip()[-500:]


def resolve(locked: list[str], wanted: list[str], tag: Tag, *, who: str, index_args: list[str] | None = None,
            python: str = sys.executable) -> list[Pin]:  # fmt: skip
    """Every package (name==version) one virtualenv needs: the lock's pins and the app's requirements, resolved
    together for the tag. who: the worker type, for messages. index_args: where pip looks (default: its own config)."""
    for line in wanted:
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            raise ResolveError(f"{line!r}: not a requirement ({exc})") from None
    conflicts = direct_conflicts(locked, wanted, who)
    if conflicts:
        raise ResolveError("; ".join(conflicts))
    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as tmp:
        report = Path(tmp, "report.json")
        # requirements as arguments, not a file: pip's messages then name them, not "-r file (line 5)"
        cmd = [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--disable-pip-version-check", "--report", str(report), "--target", str(Path(tmp, "target")),
               *tag.pip_args(), *(index_args or []), "--", *locked, *wanted]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
        if proc.returncode != 0:
            raise ResolveError(f"{who}: {explain(proc.stderr, tag)}")
        installs = json.loads(report.read_text())["install"]
    pins = [Pin(i["metadata"]["name"], i["metadata"]["version"], bool(i.get("requested"))) for i in installs]
    return sorted(pins, key=lambda p: canonicalize_name(p.name))
