"""`tensorlint check` and `tensorlint rules` through the real entry point."""

import json
import shutil
import textwrap

import pytest

PITFALLS = "import torch\nx = torch.randn(3)\nx.to('cuda')\nsd = torch.load('m.pt')\nF = torch.nn.functional\n"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "train.py").write_text(PITFALLS)
    (tmp_path / "pkg" / "clean.py").write_text("import torch\nx = torch.zeros(2)\n")
    return tmp_path


def test_examples_have_findings_of_at_least_eight_codes(cli, repo_root):
    result = cli("check", "examples/", "--format", "json", "--no-cache", cwd=repo_root)
    assert result.returncode == 1, result.stderr
    codes = {f["code"] for f in json.loads(result.stdout)}
    assert len(codes) >= 8, codes


def test_text_output_and_exit_codes(cli, project):
    result = cli("check", "pkg", "--no-cache", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "pkg/train.py:3:1: PT002 [*] `x.to()` returns a new tensor; the result is discarded and `x` is unchanged"
    assert "Found 2 findings." in lines
    clean = cli("check", "pkg/clean.py", "--no-cache", cwd=project)
    assert clean.returncode == 0 and b"All checks passed!" in clean.stdout
    assert cli("check", "pkg", "--exit-zero", "--no-cache", cwd=project).returncode == 0


def test_json_output_is_ruff_compatible(cli, project):
    result = cli("check", "pkg/train.py", "--format", "json", "--no-cache", cwd=project)
    findings = json.loads(result.stdout)
    assert [f["code"] for f in findings] == ["PT002", "PT006"]
    first = findings[0]
    assert set(first) >= {"code", "message", "severity", "filename", "location", "end_location", "fix"}
    assert first["location"] == {"row": 3, "column": 1} and first["end_location"] == {"row": 3, "column": 13}
    assert first["fix"]["applicability"] == "safe"
    assert first["fix"]["edits"][0]["content"] == "x = x.to('cuda')"


def test_sarif_output_is_valid_sarif_2_1_0(cli, project):
    result = cli("check", "pkg", "--format", "sarif", "--no-cache", cwd=project)
    document = json.loads(result.stdout)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for sarif_result in run["results"]:
        assert rule_ids[sarif_result["ruleIndex"]] == sarif_result["ruleId"]
        region = sarif_result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert sarif_result["level"] in ("error", "warning", "note")
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return
    # the structural checks above run everywhere; a schema check runs where jsonschema is installed


def test_github_annotations(cli, project):
    result = cli("check", "pkg/train.py", "--format", "github", "--no-cache", cwd=project)
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("::error title=tensorlint (PT002),file=pkg/train.py,line=3,col=1,")
    assert lines[1].startswith("::warning title=tensorlint (PT006)")


def test_select_and_ignore(cli, project):
    only = json.loads(cli("check", "pkg", "--select", "PT006", "--format", "json", "--no-cache", cwd=project).stdout)
    assert {f["code"] for f in only} == {"PT006"}
    rest = json.loads(cli("check", "pkg", "--ignore", "PT00", "--format", "json", "--no-cache", cwd=project).stdout)
    assert rest == []


def test_fix_applies_safe_fixes_and_reports_the_rest(cli, project):
    result = cli("check", "pkg", "--fix", cwd=project)
    assert result.returncode == 0, result.stdout
    fixed = (project / "pkg" / "train.py").read_text()
    assert "x = x.to('cuda')" in fixed and "torch.load('m.pt', weights_only=True)" in fixed
    assert "2 fixed" in result.stdout.decode()


def test_diff_changes_nothing(cli, project):
    before = (project / "pkg" / "train.py").read_text()
    result = cli("check", "pkg/train.py", "--diff", cwd=project)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "-x.to('cuda')" in out and "+x = x.to('cuda')" in out
    assert (project / "pkg" / "train.py").read_text() == before


def test_stdin(cli, project):
    result = cli("check", "--stdin-filename", "snippet.py", "--format", "json", stdin=PITFALLS, cwd=project)
    assert [f["filename"] for f in json.loads(result.stdout)] == ["snippet.py", "snippet.py"]
    fixed = cli("check", "--stdin-filename", "snippet.py", "--fix", stdin=PITFALLS, cwd=project)
    assert "x = x.to('cuda')" in fixed.stdout.decode()


def test_bad_files_are_findings_not_crashes(cli, tmp_path):
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n")
    (tmp_path / "latin1.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "good.py").write_text("import torch\nsd = torch.load('m')\n")
    result = cli("check", ".", "--format", "json", "--no-cache", cwd=tmp_path)
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    codes = {(f["filename"], f["code"]) for f in json.loads(result.stdout)}
    assert codes == {("broken.py", "TL001"), ("latin1.py", "TL002"), ("good.py", "PT006")}


def test_large_file_is_reported_not_analysed(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.tensorlint]\nmax-file-size-kb = 1\n")
    (tmp_path / "big.py").write_text("import torch\nsd = torch.load('m')\n" + "x = 1\n" * 400)
    result = cli("check", ".", "--format", "json", "--no-cache", cwd=tmp_path)
    assert [f["code"] for f in json.loads(result.stdout)] == ["TL004"]


def test_skips_virtualenvs_and_build_dirs(cli, tmp_path):
    for folder in (".venv/lib", "build", "env2", "node_modules"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "m.py").write_text("import torch\nsd = torch.load('m')\n")
    (tmp_path / "env2" / "pyvenv.cfg").write_text("home = /usr\n")
    result = cli("check", ".", "--no-cache", cwd=tmp_path)
    assert result.returncode == 0, result.stdout


def test_missing_path_is_a_usage_error(cli, tmp_path):
    result = cli("check", "nope/", cwd=tmp_path)
    assert result.returncode == 2 and b"no such file" in result.stderr


def test_cache_is_used_and_bypassed(cli, project):
    cli("check", "pkg", cwd=project)
    cache = project / ".tensorlint_cache"
    assert (cache / ".gitignore").is_file()
    entries = [p for p in cache.rglob("*") if p.is_file() and p.name != ".gitignore"]
    assert len(entries) == 2
    # a cached run reports the same findings
    again = cli("check", "pkg", "--format", "json", cwd=project)
    assert [f["code"] for f in json.loads(again.stdout)] == ["PT002", "PT006"]
    shutil.rmtree(cache)
    cli("check", "pkg", "--no-cache", cwd=project)
    assert not cache.exists()


def test_parallel_jobs_match_serial(cli, tmp_path):
    for i in range(20):
        (tmp_path / f"m{i}.py").write_text(PITFALLS)
    serial = cli("check", ".", "--jobs", "1", "--format", "json", "--no-cache", cwd=tmp_path)
    parallel = cli("check", ".", "--jobs", "2", "--format", "json", "--no-cache", cwd=tmp_path)
    assert json.loads(serial.stdout) == json.loads(parallel.stdout)


def test_rules_listing_and_docs(cli):
    listing = json.loads(cli("rules", "--format", "json").stdout)
    assert len(listing) >= 15
    assert set(listing[0]) == {"code", "name", "severity", "fixable", "summary"}
    doc = cli("rules", "PT003").stdout.decode()
    assert "## Why is this bad" in doc and "unregistered-submodules" in doc
    assert cli("rules", "XX999").returncode == 2


def test_readme_rule_table_is_the_rules_listing(cli, repo_root):
    listing = cli("rules").stdout.decode()
    table = [line[4:] for line in (repo_root / "README.md").read_text().splitlines()
             if line[4:6] in ("PT", "TF", "SH", "XF", "DP") and line[6:9].isdigit() and line.startswith("    ")]
    assert table == listing.splitlines(), "regenerate README's rule table from `tensorlint rules`"


def test_quiet_keeps_the_fix_markers_and_drops_only_the_summary(cli, project):
    quiet = cli("check", "pkg", "-q", "--no-cache", cwd=project).stdout.decode().splitlines()
    loud = cli("check", "pkg", "--no-cache", cwd=project).stdout.decode().splitlines()
    assert quiet == loud[:len(quiet)] and len(quiet) == 2
    assert all(" [*] " in line for line in quiet)
    assert not any(line.startswith(("Found", "[*]")) for line in quiet)


def test_the_summary_after_fix_counts_what_was_found(cli, tmp_path):
    (tmp_path / "one.py").write_text("import torch\nsd = torch.load('m.pt')\n")
    fixed = cli("check", "one.py", "--fix", "--no-cache", cwd=tmp_path)
    assert fixed.stdout.decode().splitlines() == ["Found 1 finding (1 fixed, 0 remaining)."]
    (tmp_path / "two.py").write_text(PITFALLS + "out = torch.softmax(x, 1)\n")
    partly = cli("check", "two.py", "--fix", "--no-cache", cwd=tmp_path).stdout.decode()
    assert "Found 2 findings (2 fixed, 0 remaining)." in partly


def test_an_unknown_option_is_reported_by_its_command_with_the_nearest_one(cli, project):
    result = cli("check", "--frmat", "json", "pkg", cwd=project)
    err = result.stderr.decode()
    assert result.returncode == 2
    assert err.startswith("usage: tensorlint check ")
    assert "unrecognized arguments: --frmat (did you mean --format?)" in err


def test_engine_codes_are_documented_and_ignoring_them_is_a_warning(cli, tmp_path):
    from tensorlint.analyzers.engine import ENGINE_CODES, RULE_CRASH, SYNTAX_ERROR, UNDECODABLE
    from tensorlint.analyzers.notebook import MALFORMED_NOTEBOOK
    from tensorlint.analyzers.workspace import TOO_LARGE

    assert set(ENGINE_CODES) == {SYNTAX_ERROR, UNDECODABLE, RULE_CRASH, TOO_LARGE, MALFORMED_NOTEBOOK}
    doc = cli("rules", "TL001")
    assert doc.returncode == 0 and "# syntax-error (TL001)" in doc.stdout.decode()
    assert json.loads(cli("rules", "tl004", "--format", "json").stdout)["name"] == "file-too-large"
    (tmp_path / "broken.py").write_text("def f(:\n")
    result = cli("check", "broken.py", "--ignore", "TL001", "--no-cache", cwd=tmp_path)
    assert result.returncode == 1 and b"TL001" in result.stdout  # still reported: the file was not checked
    assert "warning: TL001 is reported by tensorlint itself, not by a rule" in result.stderr.decode()


@pytest.mark.parametrize("line, expected", [
    ('max-file-size-kb = "3"', "pyproject.toml:6: `max-file-size-kb` must be an integer"),
    ("ignore = 3", "pyproject.toml:6: `ignore` must be a list"),
    ('selct = ["PT"]', "pyproject.toml:6: unknown key `selct` in [tool.tensorlint]; did you mean `select`?"),
    ('deployment = ["moon"]', "pyproject.toml:6: unknown deployment scenario 'moon'"),
    ("max-file-size-kb = true", "pyproject.toml:6: `max-file-size-kb` must be an integer"),
])
def test_a_mistake_in_pyproject_is_reported_with_its_line(cli, tmp_path, line, expected):
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.tensorlint]\nselect = ["PT"]\n{line}\n')
    (tmp_path / "a.py").write_text("x = 1\n")
    result = cli("check", "a.py", "--no-cache", cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr.decode()


def test_a_per_file_ignores_subtable_mistake_names_its_entry_line(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tensorlint]\nselect = ["PT"]\n\n[tool.tensorlint.per-file-ignores]\n"tests/*" = "PT006"\n')
    (tmp_path / "a.py").write_text("x = 1\n")
    err = cli("check", "a.py", "--no-cache", cwd=tmp_path).stderr.decode()
    assert "pyproject.toml:5: `per-file-ignores.tests/*` must be a list of strings" in err


def test_ci_installs_torch_the_way_the_readme_says(repo_root):
    readme = (repo_root / "README.md").read_text()
    command = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
    assert command in readme
    ci = (repo_root / ".ci" / "run").read_text()
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in ci
    assert "pip install tensorlint`" not in readme and "rev: v0.1.0" not in readme  # no such release or tag


def test_the_command_starts_with_its_imports_frozen_and_runs_with_the_collector_on():
    import subprocess
    import sys

    probe = ("import gc, sys\n"
             "import tensorlint.server.cli as cli\n"
             "cli.main = lambda: print(gc.isenabled(), gc.get_freeze_count() > 1000) or 0\n"
             "from tensorlint.server.launch import main\n"
             "sys.exit(main())\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
    entry = subprocess.run([sys.executable, "-m", "tensorlint.server", "--version"], capture_output=True, text=True,
                           timeout=60)
    assert entry.returncode == 0 and entry.stdout.strip(), entry.stderr
