"""The editor configurations in editors/ stay in step with the CLI and the server: every file parses, every
command line they run is one the CLI accepts, every setting they pass is one the server reads."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tensorlint.server.cli import build_parser

EDITORS = Path(__file__).resolve().parents[1] / "editors"

# The settings every client may pass: the `tensorlint` section of workspace/configuration and initializationOptions.
SERVER_SETTINGS = {"select", "ignore", "extend-select", "per-file-ignores", "deployment", "debounce",
                   "max-file-size-kb"}


def _cli_accepts(argv: list[str]) -> None:
    """Fail unless `tensorlint ARGV` parses; skip where the subcommand is not part of this build yet."""
    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    if argv[0] not in subcommands:
        pytest.skip(f"`tensorlint {argv[0]}` is not part of this build")
    try:
        parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on a bad command line
        pytest.fail(f"the CLI rejects `tensorlint {shlex.join(argv)}` (exit {exc.code})")


def _strip_json_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def test_the_server_command_every_editor_runs_is_tensorlint_serve():
    template = json.loads((EDITORS / "pycharm" / "lsp4ij-template" / "template.json").read_text())
    helix = tomllib.loads((EDITORS / "helix" / "languages.toml").read_text())
    sublime = json.loads(_strip_json_comments((EDITORS / "sublime" / "LSP.sublime-settings").read_text()))
    commands = {
        "pycharm": shlex.split(template["programArgs"]["default"]),
        "pycharm (windows)": shlex.split(template["programArgs"]["windows"])[2:],  # after `cmd /c`
        "helix": [helix["language-server"]["tensorlint"]["command"], *helix["language-server"]["tensorlint"]["args"]],
        "sublime": sublime["clients"]["tensorlint"]["command"],
    }
    for lisp in ("tensorlint-eglot.el", "tensorlint-lsp-mode.el"):
        match = re.search(r"'\(\"tensorlint\" \"serve\"\)", (EDITORS / "emacs" / lisp).read_text())
        commands[lisp] = ["tensorlint", "serve"] if match else None
    for lua in ("lua/tensorlint.lua", "lsp/tensorlint.lua"):
        match = re.search(r'cmd = \{ "tensorlint", "serve" \}', (EDITORS / "neovim" / lua).read_text())
        commands[lua] = ["tensorlint", "serve"] if match else None
    assert {name: command for name, command in commands.items() if command != ["tensorlint", "serve"]} == {}
    _cli_accepts(["serve"])


def test_lsp4ij_template_uses_only_the_keys_lsp4ij_reads():
    folder = EDITORS / "pycharm" / "lsp4ij-template"
    template = json.loads((folder / "template.json").read_text())
    assert set(template) == {"id", "name", "url", "programArgs", "fileTypeMappings"}
    # LSP4IJ's dialog links to `url`; without it, to docs/user-defined-ls/<id>.md in LSP4IJ's repository, which
    # has no page for tensorlint. The help page is this template's README in the project's repository.
    repository = json.loads((EDITORS / "vscode" / "package.json").read_text())["repository"]["url"]
    assert template["url"] == f"{repository}/blob/main/editors/pycharm/README.md"
    assert (EDITORS / "pycharm" / "README.md").is_file()
    assert set(template["programArgs"]) <= {"default", "windows", "linux", "mac"}
    (mapping,) = template["fileTypeMappings"]
    assert set(mapping) == {"fileType", "languageId"} and mapping["languageId"] == "python"
    assert mapping["fileType"]["name"] == "Python" and "*.py" in mapping["fileType"]["patterns"]
    settings = json.loads((folder / "settings.json").read_text())
    assert set(settings) == {"tensorlint"} and set(settings["tensorlint"]) <= SERVER_SETTINGS
    assert set(json.loads((folder / "initializationOptions.json").read_text())) <= SERVER_SETTINGS
    assert (folder / "README.md").is_file()


def _macro_free(parameters: str) -> list[str]:
    """A JetBrains/Zed argument string with its macros replaced by sample values."""
    samples = {"$FilePath$": "model.py", "$SelectedText$": "Net", "$Prompt$": "2,3,32,32",
               "$ZED_FILE": "model.py", "$ZED_SELECTED_TEXT": "Net"}
    for macro, value in samples.items():
        parameters = parameters.replace(macro, value)
    assert "$" not in parameters, parameters
    return shlex.split(parameters)


def _pycharm_tools() -> list[tuple[str, str, str]]:
    root = ET.parse(EDITORS / "pycharm" / "cli-fallback" / "tensorlint-tools.xml").getroot()
    tools = []
    for tool in root.iter("tool"):
        options = {o.get("name"): o.get("value") for o in tool.find("exec").iter("option")}
        tools.append((tool.get("name"), options["COMMAND"], options["PARAMETERS"]))
    return tools


@pytest.mark.parametrize("name,command,parameters", _pycharm_tools(), ids=lambda v: str(v)[:40])
def test_pycharm_external_tools_run_command_lines_the_cli_accepts(name, command, parameters):
    assert command == "tensorlint"
    _cli_accepts(_macro_free(parameters))


def test_pycharm_file_watcher_runs_a_command_line_the_cli_accepts():
    root = ET.parse(EDITORS / "pycharm" / "cli-fallback" / "tensorlint-watchers.xml").getroot()
    (task,) = root.findall("TaskOptions")
    options = {o.get("name"): o.get("value") for o in task.findall("option")}
    assert options["program"] == "tensorlint" and options["fileExtension"] == "py"
    _cli_accepts(_macro_free(options["arguments"]))
    (regexp,) = [o.get("value") for o in task.iter("option") if o.get("name") == "regExp"]
    assert regexp.startswith("$FILE_PATH$:$LINE$:$COLUMN$:")


def _zed_tasks() -> list[dict]:
    return json.loads((EDITORS / "zed" / "tasks.json").read_text())


@pytest.mark.parametrize("task", _zed_tasks(), ids=lambda task: task["label"])
def test_zed_tasks_run_command_lines_the_cli_accepts(task):
    assert task["command"] == "tensorlint"
    _cli_accepts(_macro_free(shlex.join(task["args"])))


def test_helix_adds_tensorlint_to_python_next_to_a_main_server():
    config = tomllib.loads((EDITORS / "helix" / "languages.toml").read_text())
    (python,) = [language for language in config["language"] if language["name"] == "python"]
    assert python["language-servers"][-1] == "tensorlint" and len(python["language-servers"]) >= 2
    assert set(config["language-server"]["tensorlint"].get("config", {}).get("tensorlint", {})) <= SERVER_SETTINGS


def test_sublime_client_entry_is_scoped_to_python():
    settings = json.loads(_strip_json_comments((EDITORS / "sublime" / "LSP.sublime-settings").read_text()))
    client = settings["clients"]["tensorlint"]
    assert client["selector"] == "source.python" and client["enabled"] is True
    assert set(client["settings"]) == {"tensorlint"} and set(client["settings"]["tensorlint"]) <= SERVER_SETTINGS


@pytest.mark.parametrize("name", ["tensorlint-eglot.el", "tensorlint-lsp-mode.el"])
def test_emacs_lisp_is_balanced(name):
    """Parentheses balance outside strings and comments (Emacs itself is not needed to run this)."""
    text = (EDITORS / "emacs" / name).read_text()
    depth, in_string, escaped, in_comment = 0, False, False, False
    for char in text:
        if in_comment:
            in_comment = char != "\n"
        elif in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == ";":
            in_comment = True
        elif char == '"':
            in_string = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            assert depth >= 0, "a closing parenthesis without an opening one"
    assert depth == 0 and not in_string


def test_vscode_settings_cover_every_server_setting():
    manifest = json.loads((EDITORS / "vscode" / "package.json").read_text())
    properties = manifest["contributes"]["configuration"]["properties"]

    def camel(key: str) -> str:
        head, *rest = key.split("-")
        return head + "".join(part.capitalize() for part in rest)

    assert {f"tensorlint.{camel(key)}" for key in SERVER_SETTINGS} <= set(properties)
