"""The benchmark (``wfp bench``): its machinery runs end to end with tiny counts and prints its table.

Whether the figures meet their targets is the benchmark's own verdict (README, Performance), not a
test's: timings on a shared machine are not asserted here.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

from support import REPO

SECTIONS = ("cold start", "warm request", "cost per run", "throughput", "local start", "layer size")


def test_wfp_bench_quick_runs_every_section_and_prints_the_table(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WFP_", "AWS_"))}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-m", "local_dev.cli", "bench", "--quick", "--workdir",
                           str(tmp_path / "bench")], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: a target missed, which --quick cannot judge
    out = done.stdout
    header = [cell.strip() for cell in out.splitlines()[0].strip("|").split("|")]
    assert header == ["section", "figure", "value", "baseline", "baseline value", "ratio", "target", "result"]
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| section")]
    assert {row.split("|")[1].strip() for row in rows} == set(SECTIONS)
    for needle in ("GET /api/workflows", "hello + DynamoDB read", "GET /docs", "no-op run",
                   "DynamoDB writes", "requests that are a Scan", "history page", "req/s", "first 200"):
        assert needle in out, needle
    assert "(--quick: too few rounds to judge)" in out
    assert "Traceback" not in done.stderr


def test_cold_starts_against_another_revision_side_by_side(tmp_path):
    """``--against REV``: that revision's api handler answers the same requests in the same rounds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WFP_", "AWS_"))}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-m", "local_dev.cli", "bench", "--only", "cold", "--quick", "--against",
                           "HEAD", "--workdir", str(tmp_path / "bench")], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    rows = {row.split("|")[2].strip(): [c.strip() for c in row.split("|")[3:]] for row in done.stdout.splitlines()
            if row.startswith("| cold start")}
    assert rows["GET /api/workflows, this tree"][1] == "HEAD" and rows["GET /docs, this tree"][1] == "HEAD"
    assert rows["GET /api/workflows at HEAD"][1] == "hello + DynamoDB read"
    assert float(rows["GET /docs at HEAD"][0].split()[0]) > 0
    assert (tmp_path / "bench" / "tree-HEAD" / "functions" / "handlers" / "api.py").is_file()
    wrong = subprocess.run([sys.executable, "-m", "local_dev.cli", "bench", "--only", "cold", "--quick", "--against",
                            "no-such-revision", "--workdir", str(tmp_path / "wrong")], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=600)
    assert wrong.returncode != 0 and "--against no-such-revision: git cannot archive it" in wrong.stderr


def test_targets_and_the_table():
    from local_dev.bench.report import (
        Figure,
        print_table,
        ratio_at_least,
        ratio_at_most,
        summary,
        value,
    )

    figures = [Figure("s", "fast", 110.0, "ms", "base", 100.0, ratio_at_most(1.2)),
               Figure("s", "slow", 130.0, "ms", "base", 100.0, ratio_at_most(1.2)),
               Figure("s", "rate", 70.0, "req/s", "bare", 100.0, ratio_at_least(0.7)),
               Figure("s", "size", 38.3, "MB", target=value("<", 40)),
               Figure("s", "info", 5.0, "ms")]
    assert [f.verdict for f in figures] == ["PASS", "FAIL", "PASS", "PASS", "info"]
    out = io.StringIO()
    print_table(figures, out)
    lines = out.getvalue().splitlines()
    assert "| 1.10x | <= 1.2x | PASS" in lines[2] and "| 1.30x | <= 1.2x | FAIL" in lines[3]
    assert "< 40 MB" in lines[5]
    assert summary(figures) == "1 of 4 targets missed: s / slow"
