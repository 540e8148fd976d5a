"""Shared helpers for the deployment truth tests: load an example file both as text (for the advisor) and as a real
module (for the real exports), and read the `# BLOCKS` markers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tensorlint.analyzers.deployment import BLOCKED, ModelAdvice, advise

EXAMPLES = Path(__file__).parent / "deploy_examples"


def load_examples(stem: str):
    """(module, {model name: ModelAdvice}, source lines) for tests/deploy_examples/<stem>.py."""
    path = EXAMPLES / f"{stem}.py"
    source = path.read_text(encoding="utf-8")
    name = f"deploy_examples_{stem}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # torch.jit.script reads the source through the module
        spec.loader.exec_module(module)
    advice = advise(source, str(path))
    assert advice.error is None
    return module, {m.name: m for m in advice.models}, source.splitlines()


def blocking_lines(model: ModelAdvice, target: str) -> set[int]:
    verdict = model.verdict(target)
    assert verdict.status == BLOCKED, f"{model.name} -> {target} is {verdict.status}, expected blocked"
    return {b.line for b in verdict.blockers}


def marked(lines: list[str]) -> set[int]:
    return {number for number, text in enumerate(lines, 1) if text.rstrip().endswith("# BLOCKS")}


def run_snippet(model: ModelAdvice, target: str, module, folder: Path, monkeypatch) -> dict:
    """Execute the advisor's export snippet for ``target`` in ``folder`` with the example module's names, as a
    user who pasted it below the model would."""
    from tensorlint.analyzers.deployment import export_snippet

    code = export_snippet(model, target)
    compile(code, f"<snippet {model.name} {target}>", "exec")
    monkeypatch.chdir(folder)
    namespace = dict(vars(module))
    exec(compile(code, f"<snippet {model.name} {target}>", "exec"), namespace)
    return namespace
