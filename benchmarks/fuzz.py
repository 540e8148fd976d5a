"""The fuzz campaigns of tests/fuzzing.py for longer than CI runs them: more seeds, larger sizes.

    python benchmarks/fuzz.py                      # every campaign, seeds 1..20
    python benchmarks/fuzz.py --campaign edit --seeds 100 --size 2000

Each seed runs in a fresh temporary folder; the first broken promise stops the run with the seed to replay
(`--first-seed N --seeds 1`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import fuzzing  # noqa: E402  (tests/fuzzing.py: the campaigns themselves)

CAMPAIGNS = {  # name -> (function, default size)
    "edit": (fuzzing.edit_campaign, 1000),
    "protocol": (fuzzing.protocol_campaign, 1000),
    "pathological": (fuzzing.pathological_campaign, 60),
    "fix": (fuzzing.fix_campaign, 300),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaign", choices=[*CAMPAIGNS, "all"], default="all")
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds per campaign")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--size", type=int, help="edits, messages or files per seed (default: per campaign)")
    args = parser.parse_args(argv)
    names = list(CAMPAIGNS) if args.campaign == "all" else [args.campaign]
    for name in names:
        campaign, default_size = CAMPAIGNS[name]
        size = args.size or default_size
        started = time.monotonic()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            with tempfile.TemporaryDirectory(prefix=f"tensorlint-fuzz-{name}-") as folder:
                try:
                    campaign(Path(folder), seed, size)
                except AssertionError as exc:
                    print(f"{name}: seed {seed} (size {size}) FAILED: {exc}", file=sys.stderr)
                    return 1
        print(f"{name}: {args.seeds} seeds x {size} passed in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
