"""benchmarks/run.py on a folder of the user's: it measures that folder's files and writes nothing into it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def test_corpus_folder_of_ones_own_files_is_benchmarked_as_it_is(tmp_path):
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "pkg" / "train.py").write_text("import torch\nstate = torch.load('w.pt')\n")
    (code / "model.py").write_text("import torch\n")
    before = sorted(p.relative_to(code) for p in code.rglob("*"))
    results = tmp_path / "RESULTS.md"
    run = subprocess.run([sys.executable, str(RUN), "--corpus", str(code), "--tools", "floor", "--jobs", "1",
                          "--output", str(results)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert sorted(p.relative_to(code) for p in code.rglob("*")) == before  # no pinned corpus written into it
    assert f"- Corpus: 2 files, 3 lines (the Python files under `{code}`)" in results.read_text()
