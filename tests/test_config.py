"""[tool.tensorlint] settings through the CLI and the config module."""

import json
import textwrap

import pytest

from tensorlint.analyzers.config import ConfigError, is_enabled, settings_from_table, settings_with

SOURCE = "import torch\nx = torch.randn(3)\nx.to('cuda')\nsd = torch.load('m.pt')\n"


def _write(tmp_path, config: str):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(config))
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "a.py").write_text(SOURCE)
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "tests" / "test_a.py").write_text(SOURCE)


def _codes(cli, tmp_path, *args):
    result = cli("check", ".", "--format", "json", "--no-cache", *args, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    return sorted((f["filename"], f["code"]) for f in json.loads(result.stdout))


def test_select_ignore_and_per_file_ignores(cli, tmp_path):
    _write(tmp_path, """
        [tool.tensorlint]
        ignore = ["PT002"]
        per-file-ignores = { "tests/*" = ["PT006"] }
    """)
    assert _codes(cli, tmp_path) == [("src/a.py", "PT006")]


def test_exclude(cli, tmp_path):
    _write(tmp_path, """
        [tool.tensorlint]
        extend-exclude = ["tests"]
        select = ["PT006"]
    """)
    assert _codes(cli, tmp_path) == [("src/a.py", "PT006")]


def test_cli_select_overrides_config(cli, tmp_path):
    _write(tmp_path, "[tool.tensorlint]\nselect = [\"PT006\"]\n")
    assert {c for _, c in _codes(cli, tmp_path, "--select", "PT002")} == {"PT002"}


def test_config_flag_uses_given_file(cli, tmp_path):
    _write(tmp_path, "[tool.tensorlint]\nselect = [\"PT006\"]\n")
    other = tmp_path / "other.toml"
    other.write_text("[tool.tensorlint]\nselect = [\"PT002\"]\n")
    assert {c for _, c in _codes(cli, tmp_path, "--config", str(other))} == {"PT002"}


def test_unknown_key_is_a_clear_error(cli, tmp_path):
    _write(tmp_path, "[tool.tensorlint]\nselekt = [\"PT\"]\n")
    result = cli("check", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert b"unknown key `selekt`" in result.stderr and b"did you mean `select`?" in result.stderr and b"Traceback" not in result.stderr


def test_bad_value_types_are_clear_errors():
    with pytest.raises(ConfigError, match="`select` must be a list"):
        settings_from_table({"select": "PT"})
    with pytest.raises(ConfigError, match="unknown deployment scenario 'cloud'"):
        settings_from_table({"deployment": ["cloud"]})


@pytest.mark.parametrize("code,select,ignore,enabled", [
    ("PT001", ["ALL"], [], True),
    ("PT001", ["ALL"], ["PT"], False),
    ("PT001", ["PT001"], ["PT"], True),  # more specific select wins
    ("PT001", ["PT"], ["PT001"], False),
    ("TF001", ["PT"], [], False),
])
def test_selector_specificity(code, select, ignore, enabled):
    assert is_enabled(code, select, ignore) is enabled


def test_editor_settings_left_unset_defer_to_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.tensorlint]\nselect = ["PT"]\nignore = ["PT006"]\n')
    settings = settings_with(tmp_path / "model.py", {"select": None, "ignore": None, "deployment": ["web"]})
    assert settings.select == ("PT",) and settings.ignore == ("PT006",)
    assert settings.deployment == ("web",)
