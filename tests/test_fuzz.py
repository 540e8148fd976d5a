"""The fuzz campaigns of tests/fuzzing.py, seeded and small enough for every CI run (a few seconds each);
`python benchmarks/fuzz.py` runs them with more seeds and larger sizes."""

from __future__ import annotations

import pytest

import fuzzing


@pytest.mark.parametrize("seed", [1, 2])
def test_random_edits_with_unicode_and_line_separators(tmp_path, seed):
    fuzzing.edit_campaign(tmp_path, seed, edits=100)


@pytest.mark.parametrize("seed", [1, 2])
def test_protocol_abuse_gets_answers_and_leaves_the_server_serving(tmp_path, seed):
    fuzzing.protocol_campaign(tmp_path, seed, messages=150)


def test_pathological_sources_never_kill_check(tmp_path):
    fuzzing.pathological_campaign(tmp_path, seed=1, files=12)


def test_fix_round_trips_over_every_line_break_and_bom(tmp_path):
    fuzzing.fix_campaign(tmp_path, seed=1, files=40)
