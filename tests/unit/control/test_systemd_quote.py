"""Arguments of a unit's ExecStart= quoted as systemd.service(5) reads them (the nightly unit's extra arguments can be
JSON: spaces, quotes, '$'). The lab test of the nightly unit (test_schedule.py) checks systemd's own reading."""

from __future__ import annotations

import shlex

import pytest

from bench.control import systemd


def test_plain_words_stay_as_they_are():
    argv = ["/opt/gunicorn-bench/.venv/bin/ansible-playbook", "bench.yml", "-e", "worker=all", "-e", "@my/app.yml"]
    assert systemd.command_line(argv) == " ".join(argv)


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ('{"a": 1}', '"{\\"a\\": 1}"'),
        ("two words", '"two words"'),
        ("back\\slash", '"back\\\\slash"'),
        ("50%", '"50%%"'),
        ("$HOME", '"$$HOME"'),
        ("line\nbreak", '"line\\nbreak"'),
        ("", '""'),
    ],
)
def test_anything_else_is_one_double_quoted_word_with_c_escapes_specifiers_and_variables_doubled(arg, quoted):
    assert systemd.quote(arg) == quoted


def test_quoted_words_split_back_into_the_same_arguments():
    """Without '%', '$' or control characters systemd's quoting reads like a POSIX shell's double quotes."""
    argv = ["ansible-playbook", "-e", '{"load_sweep": {"time_s": 2, "endpoints": [{"path": "/x?a=1&b=2"}]}}',
            "-e", "it's", 'say "hi"', "a\\b", ""]  # fmt: skip
    assert shlex.split(systemd.command_line(argv)) == argv


def test_an_empty_command_line_is_refused():
    with pytest.raises(ValueError, match="empty command line"):
        systemd.command_line([])
