"""`tensorlint check` against faults and bad input (issue 15): fixes that keep every byte they do not change,
a run that survives unreadable, unwritable, missing, odd and crashing files, and configuration mistakes that are
one line and exit 2. Everything runs through the real entry point."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

LOAD = "m = torch.load(p)"
FIXED = "m = torch.load(p, weights_only=True)"


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("breaks", [("\n", "\n", "\n"), ("\r\n", "\r\n", "\r\n"), ("\r", "\r", "\r"),
                                    ("\r", "\n", "\r\n")], ids=["lf", "crlf", "cr", "mixed"])
def test_fix_keeps_line_breaks_and_bom_byte_for_byte(cli, tmp_path, bom, breaks):
    first, second, third = breaks
    before = "import torch{0}\x0c{1}{load}{2}y = 1\t# tab{2}"
    (tmp_path / "m.py").write_bytes(bom + before.format(first, second, third, load=LOAD).encode())
    result = cli("check", "--fix", "--no-cache", "m.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "m.py").read_bytes() == bom + before.format(first, second, third, load=FIXED).encode()


def test_fix_of_a_cr_only_file_is_the_issue_repro(cli, tmp_path):
    (tmp_path / "cr.py").write_bytes(b"import torch\rm = torch.load(p)\r")
    cli("check", "--fix", "--no-cache", "cr.py", cwd=tmp_path)
    assert (tmp_path / "cr.py").read_bytes() == b"import torch\rm = torch.load(p, weights_only=True)\r"


def test_fix_rewrites_through_a_link_keeps_the_mode_and_leaves_no_temporary_file(cli, tmp_path):
    target = tmp_path / "real.py"
    target.write_text(f"import torch\n{LOAD}\n")
    target.chmod(0o751)
    (tmp_path / "link.py").symlink_to("real.py")
    result = cli("check", "--fix", "--no-cache", "link.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.py").is_symlink() and os.readlink(tmp_path / "link.py") == "real.py"
    assert target.read_text() == f"import torch\n{FIXED}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.py", "real.py"]


def test_an_unwritable_file_is_an_error_line_and_the_others_are_fixed(cli, tmp_path):
    for name in ("a.py", "locked.py", "z.py"):
        (tmp_path / name).write_text(f"import torch\n{LOAD}\n")
    (tmp_path / "locked.py").chmod(0o444)
    result = cli("check", "--fix", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr
    assert b"locked.py: error: cannot write" in result.stderr
    assert b"locked.py:2:5: PT006" in result.stdout  # still in the file, so still reported
    assert (tmp_path / "locked.py").read_text() == f"import torch\n{LOAD}\n"
    assert (tmp_path / "a.py").read_text() == (tmp_path / "z.py").read_text() == f"import torch\n{FIXED}\n"


def test_a_fifo_is_skipped_with_a_note(cli, tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "m.py").write_text(f"import torch\n{LOAD}\n")
    result = subprocess.run([sys.executable, "-m", "tensorlint.server", "check", "--no-cache", ".", "pipe.py"],
                            cwd=tmp_path, capture_output=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.decode().splitlines().count("pipe.py: note: not a regular file; skipped") == 2
    assert b"m.py:2:5: PT006" in result.stdout


def test_a_missing_path_is_reported_and_the_rest_is_checked(cli, tmp_path):
    (tmp_path / "m.py").write_text(f"import torch\n{LOAD}\n")
    result = cli("check", "--no-cache", "--format", "json", "gone.py", "m.py", cwd=tmp_path)
    assert result.returncode == 2
    assert [f["filename"] for f in json.loads(result.stdout)] == ["m.py"]
    assert result.stderr.decode().strip() == "gone.py: error: no such file or directory"


@pytest.mark.parametrize("args", [["--select", "PT9Z"], ["--ignore", "PT006,XYZ"], ["--extend-select", "Q"]])
def test_unknown_codes_on_the_command_line_exit_2_with_the_prefixes(cli, tmp_path, args):
    (tmp_path / "m.py").write_text(f"import torch\n{LOAD}\n")
    result = cli("check", "--no-cache", *args, "m.py", cwd=tmp_path)
    assert result.returncode == 2
    assert b"unknown rule code or prefix" in result.stderr and b"DP, PT, SH, TF, TL, XF" in result.stderr
    assert not result.stdout


@pytest.mark.parametrize("table, message", [
    ('select = ["PTX"]', "`select`: unknown rule code or prefix `PTX`"),
    ('[tool.tensorlint.per-file-ignores]\n"a.py" = ["NOPE1"]', "unknown rule code or prefix `NOPE1`"),
    ("max-file-size-kb = -1", "`max-file-size-kb` must be a number of kilobytes, 0 or more"),
    ("max-file-size-kb = true", "`max-file-size-kb` must be an integer"),
    ("select = [", "cannot read: "),
])
def test_configuration_mistakes_are_one_line_and_exit_2(cli, tmp_path, table, message):
    (tmp_path / "pyproject.toml").write_text(f"[tool.tensorlint]\n{table}\n")
    (tmp_path / "m.py").write_text(f"import torch\n{LOAD}\n")
    result = cli("check", "--no-cache", "m.py", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_a_pyproject_that_is_not_utf8_is_one_line_with_its_line_number(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.tensorlint]\n# caf\xe9\nselect = ['PT']\n")
    (tmp_path / "m.py").write_text(f"import torch\n{LOAD}\n")
    result = cli("check", "--no-cache", "m.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"tensorlint: error: {tmp_path / 'pyproject.toml'}: cannot read: not valid UTF-8 (byte 0xe9 at line 2)"]


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_invalid_worker_counts_are_rejected(cli, tmp_path, jobs):
    (tmp_path / "m.py").write_text("x = 1\n")
    result = cli("check", "--no-cache", f"--jobs={jobs}", "m.py", cwd=tmp_path)
    assert result.returncode == 2 and b"not a positive number of worker processes" in result.stderr


# The real CLI with one extra rule (registered as any plug-in rule is, by subclassing) that kills its process on
# one file, as a crash in native code would.
KILLING_RULE_CLI = textwrap.dedent('''\
    import os, runpy, sys
    from tensorlint.analyzers.rule import Rule
    from tensorlint.analyzers.findings import Severity

    class Killing(Rule):
        """Kills the process that checks a file naming KILL_THE_WORKER."""
        code = "ZZ902"
        name = "killing"
        severity = Severity.WARNING
        message = "never reported"

        def visit_Name(self, node):
            if node.value == "KILL_THE_WORKER":
                os.abort()

    sys.argv = ["tensorlint", *sys.argv[1:]]
    runpy.run_module("tensorlint.server", run_name="__main__")
''')


def test_a_file_that_kills_its_worker_is_an_error_line_and_every_other_file_is_checked(tmp_path):
    for index in range(12):
        (tmp_path / f"m{index:02}.py").write_text(f"import torch\n{LOAD}\n")
    (tmp_path / "m05.py").write_text(f"import torch\nKILL_THE_WORKER = 1\n{LOAD}\n")
    result = subprocess.run([sys.executable, "-c", KILLING_RULE_CLI, "check", "--no-cache", "-j", "2",
                             "--format", "json", "."], cwd=tmp_path, capture_output=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert b"Traceback" not in result.stderr and b"BrokenProcessPool" not in result.stderr
    assert result.stderr.decode().strip() == "m05.py: error: crashed the worker process checking it; not checked"
    reported = sorted(f["filename"] for f in json.loads(result.stdout))
    assert reported == [f"m{index:02}.py" for index in range(12) if index != 5]


def test_sources_that_would_crash_libcst_are_syntax_findings(cli, tmp_path):
    from test_hardening_lsp import PATHOLOGICAL

    for name, body in PATHOLOGICAL.items():
        (tmp_path / f"{name}.py").write_text(f"import torch\n{body}\n")
        # CPython rejects this one for another reason first; the long line must still not reach libcst
        (tmp_path / f"{name}_unclosed.py").write_text(f"import torch\nx = ({body}\n")
    (tmp_path / "fine.py").write_text(f"import torch\n{LOAD}\n")
    result = cli("check", "--no-cache", "--format", "json", "-j", "2", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    codes = {f["filename"]: f["code"] for f in json.loads(result.stdout)}
    assert codes == {**{f"{name}.py": "TL001" for name in PATHOLOGICAL},
                     **{f"{name}_unclosed.py": "TL001" for name in PATHOLOGICAL}, "fine.py": "PT006"}
