"""Download pinned wheels of real model code and extract their ``.py`` files: the benchmark corpus.

    python benchmarks/corpus.py                 # into benchmarks/corpus/ (git-ignored)
    python benchmarks/corpus.py --dest /some/dir

The versions are pinned so that figures taken on different days describe the same text. transformers 4.46
still ships both the PyTorch ``modeling_*.py`` and the TensorFlow ``modeling_tf_*.py`` files.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

PINNED_WHEELS = {
    "transformers": "4.46.3",
    "timm": "1.0.31",
    "keras-hub": "0.32.0",
    # The newest torchvision the environment's pip constraints allow.
    "torchvision": "0.29.1",
}
# transformers ships a million lines of tokenizers, pipelines and tooling besides its models; the corpus keeps
# its PyTorch and TensorFlow model definitions (Flax is no framework tensorlint reads).
MODEL_CODE_ONLY = {
    "transformers": lambda member: (
        member.startswith("transformers/models/")
        and PurePosixPath(member).name.startswith("modeling_")
        and not PurePosixPath(member).name.startswith("modeling_flax_")
    ),
}
DEFAULT_DEST = Path(__file__).resolve().parent / "corpus"
MANIFEST_NAME = "MANIFEST.json"


def read_manifest(dest: Path) -> dict | None:
    try:
        return json.loads((dest / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None


def download_wheel(name: str, version: str, into: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--quiet", "--dest", str(into), f"{name}=={version}",
    ]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"pip download {name}=={version} failed:\n{completed.stderr.strip()}")
    normalized = name.replace("-", "_").lower()
    wheels = [p for p in into.glob("*.whl") if p.name.lower().startswith(f"{normalized}-{version}")]
    if not wheels:
        raise SystemExit(f"pip download {name}=={version} produced no wheel in {into}")
    return wheels[0]


def extract_python_files(wheel: Path, target: Path, keep=lambda member: True) -> tuple[int, int]:
    files = lines = 0
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if not member.filename.endswith(".py") or member.is_dir() or not keep(member.filename):
                continue
            destination = target / member.filename
            # A wheel's member names are relative; refuse anything that would escape the target folder.
            if not destination.resolve().is_relative_to(target.resolve()):
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            data = archive.read(member)
            destination.write_bytes(data)
            files += 1
            lines += data.count(b"\n")
    return files, lines


def build_corpus(dest: Path) -> dict:
    manifest = read_manifest(dest)
    if manifest and manifest.get("pinned") == PINNED_WHEELS:
        return manifest
    dest.mkdir(parents=True, exist_ok=True)
    packages = {}
    with tempfile.TemporaryDirectory(prefix="tensorlint-wheels-") as download_dir:
        for name, version in PINNED_WHEELS.items():
            wheel = download_wheel(name, version, Path(download_dir))
            # Start each package from an empty folder so that files of an earlier selection never linger.
            shutil.rmtree(dest / f"{name}-{version}", ignore_errors=True)
            keep = MODEL_CODE_ONLY.get(name, lambda member: True)
            files, lines = extract_python_files(wheel, dest / f"{name}-{version}", keep)
            packages[name] = {"version": version, "wheel": wheel.name, "files": files, "lines": lines}
            print(f"{name}=={version}: {files} files, {lines} lines", file=sys.stderr)
    manifest = {
        "pinned": PINNED_WHEELS,
        "packages": packages,
        "files": sum(p["files"] for p in packages.values()),
        "lines": sum(p["lines"] for p in packages.values()),
    }
    (dest / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"target folder (default: {DEFAULT_DEST})")
    args = parser.parse_args(argv)
    manifest = build_corpus(args.dest)
    print(f"{args.dest}: {manifest['files']} files, {manifest['lines']} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
