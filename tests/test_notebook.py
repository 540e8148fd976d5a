"""Jupyter notebooks: real .ipynb files written with nbformat, checked and fixed through the CLI and the engine."""

import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from hypothesis import given, settings, strategies as st

from tensorlint.analyzers import Edit, Finding, Fix, Position, Range, Severity
from tensorlint.analyzers.notebook import (
    CellMapper, check_cells, check_notebook, fix_notebook, mask_ipython, notebook_findings, replace_sources,
)

MAGICS = "%matplotlib inline\nimport torch\nimport torch.nn as nn\n!pip install -q torchvision\n"
MODEL = ("model = nn.Sequential(nn.Linear(4, 2), nn.Softmax(dim=1))\n"
         "x = torch.randn(3, 4)\n"
         "x.to('cuda')  # café")
TRAIN = "%%time\nloss_fn = nn.CrossEntropyLoss()\nsd = torch.load('m.pt')\nloss = loss_fn(model(x), y)\ntorch.randn?"


def make_notebook(*cells, language: str = "python"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "k", "language": language, "display_name": language}
    nb.cells = [nbformat.v4.new_markdown_cell(source[1]) if isinstance(source, tuple) and source[0] == "md"
                else nbformat.v4.new_code_cell(source) for source in cells]
    return nb


def training_notebook():
    nb = make_notebook(("md", "# Train\n%% not a magic in markdown\n!nor this"), MAGICS, "", MODEL,
                       "%%bash\necho 'x.to(\"cuda\")'", TRAIN)
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", text="hello\n"),
                           nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=" * 50})]
    nb.cells[3].execution_count = 7
    return nb


@pytest.fixture
def notebook_dir(tmp_path):
    nbformat.write(training_notebook(), tmp_path / "train.ipynb")
    return tmp_path


# -- masking ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line", ["%matplotlib inline", "!pip install torch", "!!ls", "files = !ls -la",
                                  "a, b = %sx echo 1 2", "torch.nn?", "??torch.load", "%timeit f()",
                                  "%%time", "%", "!"])
def test_ipython_lines_are_masked_in_place(line):
    masked = mask_ipython(f"import torch\n{line}\nx = 1")
    rows = masked.text.split("\n")
    assert [len(r) for r in rows] == [12, len(line), 5]
    assert rows[0] == "import torch" and rows[2] == "x = 1" and rows[1] != line
    compile(masked.text, "<cell>", "exec")


def test_python_lookalikes_are_not_masked():
    source = ("s = '''\n%d items\n!important\n'''\nt = (1,\n     % 2)\nr = a % b\nflag = x != y  # why?\n"
              "help(torch)")
    assert mask_ipython(source).text == source


def test_indented_magic_keeps_its_block_valid_and_continuations_are_masked():
    masked = mask_ipython("for i in range(3):\n    %matplotlib inline\n!pip install a \\\n    b\ny = 1")
    assert masked.text.split("\n")[1].startswith("    ...")
    assert masked.text.split("\n")[3].strip() == ""
    compile(masked.text, "<cell>", "exec")


@pytest.mark.parametrize("line,statement", [
    ("%time loss = crit(out, y)", "loss = crit(out, y)"),
    ("%timeit -n 10 -r3 model(x)", "model(x)"),
    ("    %time f(i)", "f(i)"),
])
def test_timed_statements_stay_python(line, statement):
    masked = mask_ipython(f"for i in range(3):\n    pass\n{line}")
    row = masked.text.split("\n")[2]
    assert row.endswith(statement) and len(row) == len(line) and row.strip().startswith("if 1:")
    compile(masked.text, "<cell>", "exec")


def test_a_timed_compound_statement_is_masked():
    assert mask_ipython("%time for i in x: f(i)").text.startswith("...")


def test_a_pitfall_under_time_is_reported_and_fixed_in_its_cell(cli, tmp_path):
    path = tmp_path / "timed.ipynb"
    nbformat.write(make_notebook("import torch", "%time state = torch.load('m.pt')"), path)
    result = cli("check", "--no-cache", "--format", "json", str(path))
    [finding] = [f for f in json.loads(result.stdout) if f["code"] == "PT006"]
    assert (finding["cell"], finding["location"]) == (2, {"row": 1, "column": 15})
    cli("check", "--no-cache", "--fix", str(path))
    fixed = nbformat.read(path, as_version=4).cells[1].source
    assert fixed == "%time state = torch.load('m.pt', weights_only=True)"


def test_cell_magics():
    assert mask_ipython("%%bash\nrm -rf x\n").text == "      \n        \n"  # not Python: nothing left
    timed = mask_ipython("%%timeit -n 3\nx = torch.zeros(1)")
    assert timed.text.split("\n")[1] == "x = torch.zeros(1)"  # %%timeit's body is Python


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["%time f()", "!ls", "x = 1", "  %a", "'''", "(", ")", "y = !cmd", "obj?", "",
                                 "# c", "s = 'a\\'", "\\", "%%bash", "\t!x", "z = (1,"]), max_size=12))
def test_masking_never_moves_anything(rows):
    source = "\n".join(rows)
    masked = mask_ipython(source)
    assert [len(r) for r in masked.text.split("\n")] == [len(r) for r in source.split("\n")]
    for row, start, _ in masked.masks:
        assert masked.text.split("\n")[row][:start] == source.split("\n")[row][:start]


# -- the mapper ---------------------------------------------------------------------------------------------------
def test_mapper_positions_round_trip_between_cells_and_program():
    mapper = CellMapper([("a", "import torch\n"), ("b", ""), ("c", "x = 1\ny = 2")])
    assert mapper.source == "import torch\n\n\nx = 1\ny = 2\n"
    for key, position in (("a", Position(1, 3)), ("a", Position(2, 0)), ("b", Position(1, 0)),
                          ("c", Position(2, 4))):
        assert mapper.to_cell(mapper.to_program(key, position)) == (key, position)
    # a statement's range that ends at column 0 of the next cell's first line still belongs to its cell
    assert mapper.cell_range(Range.of(1, 0, 3, 0)) == ("a", Range.of(1, 0, 3, 0), False)
    assert mapper.cell_range(Range.of(1, 0, 4, 2))[2] is True  # crosses into cell "c": cut at the cell's end


def test_fix_touching_masked_text_or_crossing_cells_is_dropped_but_finding_kept():
    mapper = CellMapper([(0, "import torch\n%time x.cuda()"), (1, "y = 1")])
    masked_edit = Finding("PT002", "m", Severity.ERROR, Range.of(1, 0, 1, 5),
                          Fix("t", (Edit(Range.of(2, 0, 2, 3), "z"),)))
    assert mapper.cell_finding(masked_edit)[1].fix is None
    crossing = Finding("PT002", "m", Severity.ERROR, Range.of(1, 0, 1, 5),
                       Fix("t", (Edit(Range.of(1, 0, 4, 1), "z"),)))
    assert mapper.cell_finding(crossing)[1].fix is None
    on_placeholder = Finding("PT002", "m", Severity.ERROR, Range.of(2, 0, 2, 3))
    assert mapper.cell_finding(on_placeholder) is None


# -- checking -----------------------------------------------------------------------------------------------------
def test_pitfall_spanning_cells_resolves_imports_from_an_earlier_cell():
    model = "class Net(nn.Module):\n    def __init__(self):\n        self.layers = [nn.Linear(2, 2)]"
    cells = [(0, "import torch.nn as nn"), (2, model)]
    codes = [(key, f.code, f.range.start.line) for key, f in check_cells(cells).findings]
    assert (2, "PT009", 2) in codes and (2, "PT003", 3) in codes
    assert check_cells([(2, model)]).findings == ()  # without cell 1, `nn` means nothing


def test_a_broken_cell_is_reported_and_does_not_hide_the_others():
    cells = [(0, "import torch"), (1, "def f(:\n    pass"), (2, "x = (1,"), (3, "sd = torch.load('m')")]
    found = [(key, f.code) for key, f in check_cells(cells).findings]
    assert found == [(1, "TL001"), (2, "TL001"), (3, "PT006")]


# -- cells as IPython runs them: common indentation stripped, automagic one-liners -----------------------------------
INDENTED = "  for x in data.take(3):\n    print(x)\n  sd = torch.load('m.pt')"


def test_an_indented_cell_is_dedented_as_ipython_does_and_positions_map_back():
    mapper = CellMapper([("a", "import torch"), ("b", INDENTED)])
    assert mapper.source.split("\n")[1:4] == ["for x in data.take(3):", "  print(x)", "sd = torch.load('m.pt')"]
    for position in (Position(1, 2), Position(3, 7), Position(2, 4)):
        assert mapper.to_cell(mapper.to_program("b", position)) == ("b", position)
    [(key, finding)] = check_cells([("a", "import torch"), ("b", INDENTED)]).findings
    assert (key, finding.code, finding.range.start, finding.range.end) == ("b", "PT006", Position(3, 7), Position(3, 25))
    [edit] = finding.fix.edits
    assert edit.range.start == Position(3, 7)  # in the cell's own columns, indentation included


@pytest.mark.parametrize("cell", ["ls ./data/", "pip install -q tensorflow-datasets", "\n  cd ..\n", "pwd"])
def test_automagic_one_line_cells_are_not_syntax_errors(cell):
    assert check_cells([(0, "import torch"), (1, cell), (2, "sd = torch.load('m')")]).findings[0][0] == 2


def test_automagic_is_for_one_line_cells_only_as_in_ipython():
    # IPython applies automagic to a cell of one line; in a longer cell `ls ./data/` fails in Jupyter too
    [(key, finding)] = check_cells([(0, "x = 1\nls ./data/")]).findings
    assert (key, finding.code, finding.range.start.line) == (0, "TL001", 2)
    assert "write `%ls ./data/` or `!ls ./data/`" in finding.message
    assert mask_ipython("ls = 5").text == "ls = 5"  # an assignment is Python


def test_indented_cells_and_automagic_through_the_cli(cli, tmp_path):
    path = tmp_path / "guide.ipynb"
    nbformat.write(make_notebook("import torch", "ls ./data/", INDENTED), path)
    findings = json.loads(cli("check", "--no-cache", "--format", "json", str(path)).stdout)
    assert [(f["code"], f["cell"], f["location"]) for f in findings] == [("PT006", 3, {"row": 3, "column": 8})]
    cli("check", "--no-cache", "--fix", str(path))
    assert nbformat.read(path, as_version=4).cells[2].source == INDENTED.replace("'m.pt')", "'m.pt', weights_only=True)")


def test_non_python_notebooks_are_skipped():
    text = nbformat.writes(make_notebook("x <- c(1, 2)\ntorch.load('m')", language="R"))
    assert check_notebook(text).findings == ()


@pytest.mark.parametrize("text, message", [
    ("{not json", "invalid JSON"),
    ("[]", "top level is not a JSON object"),
    ('{"metadata": {}}', "no `cells` list"),
    ('{"cells": {}}', "`cells` is not a list"),
    ('{"cells": [1]}', "cell 1 is not a JSON object"),
    ('{"cells": [{"cell_type": "code", "source": 3}]}', "cell 1 `source` must be a string or a list of strings"),
    ('{"cells": [{"cell_type": "code", "source": ["a", 1]}]}', "must be a string or a list of strings"),
    ('{"worksheets": [], "nbformat": 3}', "nbformat 3 notebooks are not supported"),
])
def test_malformed_notebook_is_one_finding(text, message):
    (finding,) = notebook_findings(check_notebook(text))
    assert finding.code == "TL005" and message in finding.message and finding.cell is None
    assert fix_notebook(text) == (text, 0, (finding,))


def test_invalid_json_is_located():
    (finding,) = notebook_findings(check_notebook('{\n "cells": [\n  {"a": 1,}\n ]\n}'))
    assert finding.range.start == Position(3, 10)  # at the stray `}`


# -- the CLI ------------------------------------------------------------------------------------------------------
EXPECTED_TEXT = [
    "train.ipynb:cell 4:1:40: PT001 Softmax output fed to CrossEntropyLoss, which applies log_softmax itself: "
    "return logits instead",
    "train.ipynb:cell 4:3:1: PT002 [*] `x.to()` returns a new tensor; the result is discarded and `x` is unchanged",
    "train.ipynb:cell 6:3:6: PT006 [*] `torch.load` without `weights_only=`: pass `weights_only=True` unless you "
    "trust the file",
]


def test_cli_text_output_names_cells(cli, notebook_dir):
    before = (notebook_dir / "train.ipynb").read_bytes()
    result = cli("check", ".", "--no-cache", cwd=notebook_dir)
    assert result.returncode == 1, result.stderr
    assert result.stdout.decode().splitlines()[:3] == EXPECTED_TEXT
    assert (notebook_dir / "train.ipynb").read_bytes() == before  # a check never writes


def test_cli_json_adds_the_cell(cli, notebook_dir):
    findings = json.loads(cli("check", "train.ipynb", "--format", "json", "--no-cache", cwd=notebook_dir).stdout)
    assert [(f["code"], f["cell"], f["location"], f["end_location"]) for f in findings] == [
        ("PT001", 4, {"row": 1, "column": 40}, {"row": 1, "column": 57}),
        ("PT002", 4, {"row": 3, "column": 1}, {"row": 3, "column": 13}),
        ("PT006", 6, {"row": 3, "column": 6}, {"row": 3, "column": 24}),
    ]
    assert findings[1]["fix"]["edits"][0] == {"content": "x = x.to('cuda')", "location": {"row": 3, "column": 1},
                                              "end_location": {"row": 3, "column": 13}}


def test_sarif_and_github_point_into_the_notebook_file(cli, notebook_dir):
    lines = (notebook_dir / "train.ipynb").read_text(encoding="utf-8").splitlines()
    sarif = json.loads(cli("check", "train.ipynb", "--format", "sarif", "--no-cache", cwd=notebook_dir).stdout)
    for found in sarif["runs"][0]["results"]:
        region = found["locations"][0]["physicalLocation"]["region"]
        assert found["properties"]["cell"] in (4, 6)
        file_line = lines[region["startLine"] - 1]
        assert file_line[region["startColumn"] - 1:].startswith(("nn.Softmax", "x.to(", "torch.load("))
    github = cli("check", "train.ipynb", "--format", "github", "--no-cache", cwd=notebook_dir).stdout.decode()
    assert "(cell 6, line 3)" in github


def _differing_lines(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    old, new = before.split(b"\n"), after.split(b"\n")
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new) if a != b]


def test_fix_changes_only_the_fixed_lines(cli, notebook_dir):
    path = notebook_dir / "train.ipynb"
    before = path.read_bytes()
    result = cli("check", "train.ipynb", "--fix", cwd=notebook_dir)
    assert result.returncode == 1  # PT001 has no fix and remains
    assert "2 fixed, 1 remaining" in result.stdout.decode()
    assert _differing_lines(before, path.read_bytes()) == [
        ('    "x.to(\'cuda\')  # café"'.encode(), '    "x = x.to(\'cuda\')  # café"'.encode()),
        (b'    "sd = torch.load(\'m.pt\')\\n",', b'    "sd = torch.load(\'m.pt\', weights_only=True)\\n",'),
    ]
    fixed = nbformat.read(path, as_version=4)
    nbformat.validate(fixed)
    assert fixed.cells[3].outputs == training_notebook().cells[3].outputs
    again = path.read_bytes()
    cli("check", "train.ipynb", "--fix", cwd=notebook_dir)
    assert path.read_bytes() == again  # nothing left to fix: not rewritten


def test_diff_shows_a_patch_of_the_file_and_writes_nothing(cli, notebook_dir):
    before = (notebook_dir / "train.ipynb").read_bytes()
    result = cli("check", "train.ipynb", "--diff", cwd=notebook_dir)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "-    \"x.to('cuda')  # café\"" in out and "+    \"x = x.to('cuda')  # café\"" in out
    assert (notebook_dir / "train.ipynb").read_bytes() == before


def _layouts():
    nb = training_notebook()
    data = json.loads(nbformat.writes(nb))
    reordered = {"metadata": data["metadata"], "nbformat": 4, "nbformat_minor": 5, "cells": data["cells"]}
    as_strings = json.loads(json.dumps(data))
    for cell in as_strings["cells"]:
        cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return {
        "colab": json.dumps(reordered, indent=2),  # two spaces, metadata first, no trailing newline
        "ascii-escaped": json.dumps(data, indent=1, ensure_ascii=True) + "\n",
        "crlf": (json.dumps(data, indent=1, ensure_ascii=False) + "\n").replace("\n", "\r\n"),
        "string-sources": json.dumps(as_strings, indent=4, ensure_ascii=False),
        "minified": json.dumps(data, separators=(",", ":"), ensure_ascii=False),
    }


@pytest.mark.parametrize("layout", sorted(_layouts()))
def test_fix_keeps_any_layout(layout):
    text = _layouts()[layout]
    new_text, applied, remaining = fix_notebook(text, "nb.ipynb")
    assert applied == 2 and [f.code for f in remaining] == ["PT001"]
    fixed_cells = json.loads(new_text)["cells"]
    original = json.loads(text)
    for index, cell in enumerate(original["cells"]):
        if index not in (3, 5):
            assert fixed_cells[index] == cell
    assert "x = x.to('cuda')" in "".join(fixed_cells[3]["source"])
    if layout != "string-sources" and layout != "minified":  # one source line per file line: compare lines
        changed = _differing_lines(text.encode(), new_text.encode())
        assert len(changed) == 2 and all(b"x.to(" in a or b"torch.load(" in a for a, _ in changed)
    else:  # everything outside the two rewritten values is byte-for-byte the same
        assert len(new_text) - len(text) == len("x = ") + len(", weights_only=True")


def test_replace_sources_handles_empty_and_growing_cells():
    nb = make_notebook("", "a = 1")
    text = nbformat.writes(nb)
    new_text = replace_sources(text, {0: "import torch\nx = 1", 1: ""})
    assert '"source": []' in text  # nbformat writes an empty cell's source as an empty list
    assert [c["source"] for c in json.loads(new_text)["cells"]] == [["import torch\n", "x = 1"], []]
    nbformat.validate(nbformat.reads(new_text, as_version=4))
    assert '   "source": [\n    "import torch\\n",\n    "x = 1"\n   ]' in new_text


def test_bom_and_stdin(cli, notebook_dir):
    text = (notebook_dir / "train.ipynb").read_text(encoding="utf-8")
    (notebook_dir / "bom.ipynb").write_bytes(b"\xef\xbb\xbf" + text.encode())
    cli("check", "bom.ipynb", "--fix", cwd=notebook_dir)
    assert (notebook_dir / "bom.ipynb").read_bytes().startswith(b"\xef\xbb\xbf{")
    result = cli("check", "--stdin-filename", "nb.ipynb", "--format", "json", stdin=text, cwd=notebook_dir)
    assert [(f["filename"], f["cell"]) for f in json.loads(result.stdout)] == [("nb.ipynb", 4)] * 2 + [("nb.ipynb", 6)]
    fixed = cli("check", "--stdin-filename", "nb.ipynb", "--fix", stdin=text, cwd=notebook_dir)
    assert "weights_only=True" in json.loads(fixed.stdout)["cells"][5]["source"][2]


def test_malformed_notebooks_through_the_cli(cli, tmp_path):
    (tmp_path / "bad.ipynb").write_text('{"cells": [')
    (tmp_path / "v3.ipynb").write_text('{"worksheets": [], "nbformat": 3}')
    (tmp_path / "ok.ipynb").write_text(nbformat.writes(make_notebook("import torch", "torch.load('m')")))
    result = cli("check", ".", "--no-cache", cwd=tmp_path)
    assert b"Traceback" not in result.stderr and result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("bad.ipynb:1:12: TL005 Malformed notebook: invalid JSON")
    assert lines[1].startswith("ok.ipynb:cell 2:1:1: PT006")
    assert lines[2].startswith("v3.ipynb:1:1: TL005 Malformed notebook: nbformat 3")


def test_cache_keys_notebooks_by_content(cli, tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(nbformat.writes(make_notebook("import torch", "torch.load('m')")))
    first = cli("check", ".", "--format", "json", cwd=tmp_path)
    assert (tmp_path / ".tensorlint_cache").is_dir()
    assert cli("check", ".", "--format", "json", cwd=tmp_path).stdout == first.stdout  # from the cache
    assert [f["cell"] for f in json.loads(first.stdout)] == [2]
    path.write_text(nbformat.writes(make_notebook("import torch", "", "torch.load('m')")))
    assert [f["cell"] for f in json.loads(cli("check", ".", "--format", "json", cwd=tmp_path).stdout)] == [3]
    # a .py file holding the very same bytes is not answered from the notebook's cache entry
    (tmp_path / "same.py").write_bytes(path.read_bytes())
    codes = {(f["filename"], f["code"]) for f in json.loads(cli("check", ".", "--format", "json",
                                                                 cwd=tmp_path).stdout)}
    assert ("same.py", "PT006") not in codes


def test_checkpoints_are_excluded(cli, tmp_path):
    folder = tmp_path / ".ipynb_checkpoints"
    folder.mkdir()
    (folder / "nb-checkpoint.ipynb").write_text(nbformat.writes(make_notebook("import torch\ntorch.load('m')")))
    assert cli("check", ".", "--no-cache", cwd=tmp_path).returncode == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed for pre-commit")
def test_pre_commit_fix_hook_runs_on_notebooks(tmp_path, repo_root):
    work = tmp_path / "work"
    work.mkdir()
    for args in (["init", "-q"], ["config", "user.email", "t@example.com"], ["config", "user.name", "t"]):
        subprocess.run(["git", *args], cwd=work, check=True, capture_output=True)
    nbformat.write(make_notebook("import torch", "sd = torch.load('m.pt')"), work / "nb.ipynb")
    subprocess.run(["git", "add", "nb.ipynb"], cwd=work, check=True, capture_output=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    fix = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(repo_root), "tensorlint-fix",
                          "--all-files"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert fix.returncode == 1, fix.stdout + fix.stderr  # the hook ran on the notebook and modified it
    assert "weights_only=True" in (work / "nb.ipynb").read_text()


def test_settings_apply_to_notebooks(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.tensorlint]\nmax-file-size-kb = 1\n'
                                             'per-file-ignores = { "ignored.ipynb" = ["PT006"] }\n')
    nb = make_notebook("import torch", "a = torch.load('a')  # noqa: PT006\nb = torch.load('b')")
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": "A" * 4096})]
    nbformat.write(nb, tmp_path / "outputs.ipynb")  # 4 KB of outputs, a few bytes of code
    nbformat.write(nb, tmp_path / "ignored.ipynb")
    nbformat.write(make_notebook("import torch", "x = 1\n" * 300), tmp_path / "big.ipynb")
    found = [(f["filename"], f["code"], f["cell"], f["location"]["row"])
             for f in json.loads(cli("check", ".", "--format", "json", "--no-cache", cwd=tmp_path).stdout)]
    assert found == [("big.ipynb", "TL004", None, 1), ("outputs.ipynb", "PT006", 2, 2)]


def test_other_commands_walking_folders_are_not_handed_notebooks(cli, tmp_path):
    # `check` reads notebooks; `deploy` walks the same folders for Python sources only
    nbformat.write(make_notebook("import torch", "torch.load('m')"), tmp_path / "nb.ipynb")
    result = cli("deploy", ".", cwd=tmp_path)
    assert result.returncode != 2 and b"nb.ipynb" not in result.stderr + result.stdout, result.stderr
