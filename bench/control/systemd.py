"""Command lines for systemd units: each argument quoted the way systemd.service(5) "Command lines" reads it back."""

from __future__ import annotations

import re

# Arguments made of these characters only are one word as they stand ('%' and '$' are not among them: systemd
# expands specifiers and variables even there).
_PLAIN = re.compile(r"[A-Za-z0-9_@+=:,./-]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "%": "%%", "$": "$$"}


def quote(arg: str) -> str:
    """One argument as a single word of ExecStart=: plain words as they are, anything else in double quotes with
    backslash, quote, newline and tab escaped C-style, '%' as '%%' (specifiers) and '$' as '$$' (variables)."""
    arg = str(arg)
    if _PLAIN.fullmatch(arg):
        return arg
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in arg) + '"'


def command_line(argv: list[str]) -> str:
    """argv as the value of ExecStart=, every argument arriving unchanged in the started process."""
    if not argv:
        raise ValueError("an empty command line")
    return " ".join(quote(a) for a in argv)
