"""The shortcuts that make the engine fast must not change what it finds: targeted positions equal
PositionProvider's, the field walk visits in libcst's order, the framework pre-filter only skips rules that
could not fire, the cache never answers for other text, settings or code, and parallel runs equal serial ones."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from tensorlint.analyzers import Settings, all_rules, check_source, engine, workspace
from tensorlint.analyzers.context import Context
from tensorlint.analyzers.engine import _check_parsed, _Dispatch, _Walker
from tensorlint.analyzers.positions import node_ranges
from tensorlint.analyzers.traversal import TRIVIA_TYPES, nodes_of_type
from tensorlint.server.cli import main as cli_main

REPO = Path(__file__).resolve().parent.parent


def _real_files() -> list[Path]:
    files = [REPO / "analyzers" / "engine.py", REPO / "analyzers" / "rules" / "keras_models.py",
             REPO / "server" / "cli.py"]
    spec = importlib.util.find_spec("torch")  # locating the package does not import it
    if spec and spec.submodule_search_locations:
        modules = Path(next(iter(spec.submodule_search_locations))) / "nn" / "modules"
        files += [modules / "conv.py", modules / "rnn.py"]
    return [f for f in files if f.is_file()]


TRICKY_SOURCES = {
    "crlf": "import torch\r\nclass M(torch.nn.Module):\r\n    def f(self, x):  # c\r\n        return x\r\n",
    "no-trailing-newline": "import torch\nx = torch.zeros(3)\nif x:\n    y = (x +\n         1)",
    "tabs-unicode-continuations": ("import torch as t\nif True:\n\tnamé = 'ünïcode'; z = t.ones(2) \\\n\t\t+ 1\n"
                                   "@decorator(\n    arg)\nasync def g():\n    async with a as b:\n"
                                   "        return [i async for i in b]\n"),
    "header-and-footer-comments": "#!/usr/bin/env python\n# header\n\nimport keras\n\n# footer\n",
    "empty": "",
}


class _Everything(cst.CSTVisitor):
    """libcst's own traversal, recorded: the reference order of visits and leaves."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, cst.CSTNode]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", node))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(("leave", original_node))


def _sources():
    for path in _real_files():
        yield pytest.param(path.read_text(encoding="utf-8"), id=path.name)
    for name, source in TRICKY_SOURCES.items():
        yield pytest.param(source, id=name)


@pytest.mark.parametrize("source", list(_sources()))
def test_targeted_positions_equal_position_provider_for_every_node(source):
    module = cst.parse_module(source)
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    recorder = _Everything()
    module.visit(recorder)
    nodes = [node for kind, node in recorder.events if kind == "visit"]
    ranges = node_ranges(module, nodes)
    mismatches = [(type(n).__name__, ranges.get(n), reference[n]) for n in nodes if ranges.get(n) != reference[n]]
    assert mismatches == []
    # a few nodes at a time (how the engine asks) give the same ranges as all at once
    for node in nodes[:: max(1, len(nodes) // 7)]:
        assert node_ranges(module, [node]) == {node: reference[node]}


def _walk_events(module: cst.Module, prune: frozenset) -> list[tuple[str, cst.CSTNode]]:
    events: list[tuple[str, cst.CSTNode]] = []
    seen_types = set()
    recorder = _Everything()
    module.visit(recorder)
    seen_types.update(type(node) for _, node in recorder.events)
    class Recorder:
        code = "REC"

        def on_visit(self, node):
            events.append(("visit", node))

        def on_leave(self, node):
            events.append(("leave", node))

    dispatch = _Dispatch(())
    dispatch.visit = {t: ((0, "on_visit"),) for t in seen_types}
    dispatch.leave = {t: ((0, "on_leave"),) for t in seen_types}
    dispatch.prune = prune
    _Walker(Context(module, module.code), [Recorder()], dispatch).walk_module(module)
    return events


@pytest.mark.parametrize("source", list(_sources()))
def test_field_walk_visits_in_libcsts_order(source):
    module = cst.parse_module(source)
    reference = _Everything()
    module.visit(reference)
    assert _walk_events(module, frozenset()) == reference.events
    # pruning whitespace, comments and punctuation drops exactly those nodes (their subtrees are trivia too)
    assert _walk_events(module, TRIVIA_TYPES) == [(k, n) for k, n in reference.events if type(n) not in TRIVIA_TYPES]
    # nodes_of_type reads the same fields: the calls and names of a module in libcst's own visiting order
    wanted = (cst.Call, cst.Name)
    assert nodes_of_type(module, wanted) == [n for k, n in reference.events if k == "visit" and isinstance(n, wanted)]


def _mangled(text: str, words) -> str:
    for word in words:
        text = text.replace(word, word[::-1] + "_")
    return text


@pytest.mark.parametrize("code", list(all_rules()))
def test_rules_cannot_fire_without_the_words_they_declare(code):
    """A rule that still flags its invalid examples once the frameworks (or words) it says it needs are spelled
    differently would lose findings to the pre-filter: it must declare ``needs_frameworks = frozenset()``."""
    rule = all_rules()[code]
    words = set(rule.required_frameworks()) | set(rule.needs_any_of)
    if not words:
        return
    for example in rule.invalid:
        text = _mangled(example.code, sorted(words, key=len, reverse=True))
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue
        # the rule runs unconditionally here (no pre-filter), so only its own logic decides
        result = _check_parsed(module, text, "example.py", Settings(select=(code,)), [rule])
        assert [f for f in result.findings if f.code == code] == [], (
            f"{code} fires on {text!r} although it declares it needs one of {sorted(words)}")


def test_module_without_any_framework_is_not_parsed(monkeypatch):
    def no_parse(source):
        raise AssertionError("parsed a module no enabled rule can report on")

    monkeypatch.setattr(engine, "parse", no_parse)
    settings = Settings(ignore=("PT004",))  # the one core rule that runs on any module with `step`
    assert check_source("import os\nprint(os.sep)\n", "plain.py", settings).findings == ()
    assert [f.code for f in check_source("def broken(:\n    pass\n", "broken.py", settings).findings] == ["TL001"]


def test_syntax_error_finding_is_the_same_with_and_without_the_pre_filter():
    broken = "import os\ndef broken(:\n    pass\n"
    skipped = check_source(broken, "a.py", Settings(select=("PT001",)))
    with pytest.raises(cst.ParserSyntaxError) as raised:
        cst.parse_module(broken)
    assert skipped.findings == (engine.syntax_error_finding(raised.value, broken),)


# -- the CLI's cache and process pool -------------------------------------------------------------------------------
def _write_examples(folder: Path, count: int = 12) -> list[Path]:
    """Files made of the rules' own invalid examples: real findings in every file."""
    examples = [example.code for rule in all_rules().values() for example in rule.invalid
                if check_source(example.code, "example.py").findings]
    files = []
    for index in range(count):
        path = folder / f"model_{index:02}.py"
        path.write_text(examples[index % len(examples)] + "\n" + examples[(index * 7 + 3) % len(examples)],
                        encoding="utf-8")
        files.append(path)
    return files


def _check_json(capsys, *args: str) -> list[dict]:
    code = cli_main(["check", "--format", "json", "--exit-zero", *args])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def _cache_entries(root: Path) -> set[str]:
    folder = root / workspace.CACHE_DIR
    return {p.name for p in folder.rglob("*") if p.is_file() and p.name != ".gitignore"} if folder.exists() else set()


def test_cache_is_written_reused_and_ignored_by_git(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write_examples(tmp_path)
    cold = _check_json(capsys, "-j", "1", ".")
    assert cold, "the examples must produce findings"
    assert (tmp_path / ".tensorlint_cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    entries = _cache_entries(tmp_path)
    assert len(entries) == 12

    def no_analysis(*args, **kwargs):
        raise AssertionError("a warm run analysed a file again")

    monkeypatch.setattr(workspace, "check_bytes", no_analysis)
    assert _check_json(capsys, "-j", "1", ".") == cold
    assert _check_json(capsys, "-j", "2", ".") == cold  # hits are answered before any worker starts
    assert _cache_entries(tmp_path) == entries


def test_cache_follows_content_config_and_tool_changes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "train.py"
    target.write_text("import torch\nstate = torch.load('w.pt')\n", encoding="utf-8")
    first = _check_json(capsys, "-j", "1", ".")
    assert [f["code"] for f in first] == ["PT006"]
    entries = _cache_entries(tmp_path)

    # content: a second finding appears at once
    target.write_text("import torch\nstate = torch.load('w.pt')\nother = torch.load('v.pt')\n", encoding="utf-8")
    assert [f["code"] for f in _check_json(capsys, "-j", "1", ".")] == ["PT006", "PT006"]
    assert len(_cache_entries(tmp_path)) == len(entries) + 1

    # configuration: the nearest pyproject's [tool.tensorlint] changes the findings
    (tmp_path / "pyproject.toml").write_text('[tool.tensorlint]\nignore = ["PT006"]\n', encoding="utf-8")
    assert _check_json(capsys, "-j", "1", ".") == []
    (tmp_path / "pyproject.toml").write_text('[tool.tensorlint]\nmax-file-size-kb = 0\n', encoding="utf-8")
    assert [f["code"] for f in _check_json(capsys, "-j", "1", ".")] == [workspace.TOO_LARGE]
    (tmp_path / "pyproject.toml").unlink()

    # tool: another version (or an edited rule module) never reads what this one wrote
    before = _cache_entries(tmp_path)
    monkeypatch.setattr(workspace, "_TOOL_FINGERPRINT", None)
    monkeypatch.setattr(workspace, "_version", lambda: "999.0")
    assert [f["code"] for f in _check_json(capsys, "-j", "1", ".")] == ["PT006", "PT006"]
    assert len(_cache_entries(tmp_path)) == len(before) + 1


def test_no_cache_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write_examples(tmp_path)
    assert _check_json(capsys, "--no-cache", "-j", "1", ".")
    assert _check_json(capsys, "--no-cache", "-j", "2", ".")
    assert not (tmp_path / workspace.CACHE_DIR).exists()


def test_parallel_results_equal_serial_results(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    files = _write_examples(tmp_path, count=24)
    (tmp_path / "big.py").write_text("\n".join(f.read_text(encoding="utf-8") for f in files), encoding="utf-8")
    serial = _check_json(capsys, "--no-cache", "-j", "1", ".")
    parallel = _check_json(capsys, "--no-cache", "-j", "2", ".")
    assert serial and parallel == serial
    assert {os.path.basename(f["filename"]) for f in serial} >= {"big.py", "model_00.py", "model_23.py"}


def test_a_crashing_rule_is_reported_and_the_others_still_run():
    from tensorlint.analyzers.findings import Severity
    from tensorlint.analyzers.rule import Rule

    class Crashing(Rule):  # no `code` in the class body: kept out of the registry
        def visit_Call(self, node):
            raise ZeroDivisionError("boom")

    Crashing.code, Crashing.severity, Crashing.message = "ZZ999", Severity.ERROR, "never"
    source = "import torch\nstate = torch.load('w.pt')\nmore = torch.load('v.pt')\n"
    loader_rule = all_rules()["PT006"]
    result = _check_parsed(cst.parse_module(source), source, "a.py", Settings(), [Crashing, loader_rule])
    assert result.errors == ("ZZ999: ZeroDivisionError: boom",)  # reported once, then the rule is switched off
    assert [f.code for f in result.findings] == ["PT006", "PT006"]
