"""Smoke test of the benchmark runner: it runs, writes its section, keeps the rest of the file, agrees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "RESULTS.md"
    other = "# Benchmark results\n\n## Panel build from elsewhere\n\nkept as it is\n"
    out.write_text(other, encoding="utf-8")
    cmd = [sys.executable, str(RUNNER), "--mode", "tiny", "--only", "dr2x2", "--tools", "impactlab",
           "--out", str(out), "--workdir", str(tmp / "data"), "--no-panel-build", "--timeout", "60"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out, json.loads(out.with_suffix(".json").read_text())


def test_records_time_memory_and_estimates(run):
    _, raw = run
    (rec,) = raw["records"]
    assert rec["workload"] == "dr2x2_large" and rec["tool"] == "impactlab" and rec["status"] == "ok"
    assert rec["seconds"] > 0 and rec["peak_mb"] > 10
    est, se = rec["estimates"]["overall"]
    assert 0.5 < est < 1.5 and 0 < se < 1  # the simulated effect at g is 1
    assert raw["env"]["sizes"]["large"] == [400, 5]


def test_writes_its_section_and_keeps_the_others(run):
    out, _ = run
    text = out.read_text(encoding="utf-8")
    assert "## Panel build from elsewhere\n\nkept as it is" in text
    assert text.count("<!-- runner:begin -->") == 1
    assert "| DR 2x2 DiD (one cell), covariates | 400 × 5 |" in text


def test_agreement_is_norm_relative_and_matches_keys():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from report import agreement

    il = {"att_gt": [[2, 2, 1.0, 0.1], [2, 3, 2.0, 0.2]], "overall": [1.5, 0.1]}
    peer = {"att_gt": [[2, 3, 2.0 + 2e-9, 0.2], [2, 2, 1.0, 0.1], [3, 3, 9.0, 9.0]], "overall": [1.5, 0.1]}
    ag = agreement(il, peer)
    assert ag["est"] == pytest.approx(1e-9, rel=1e-3)  # 2e-9 over the largest estimate, 2
    assert ag["se"] == 0 and ag["unmatched"] == 1


def test_process_limits_report_timeouts_and_memory():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import run_process

    status, wall, _, _ = run_process([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.3,
                                     mem_mb=10_000)
    assert status == "timeout" and wall < 5
    grab = "b = bytearray(400 * 2**20); import time; time.sleep(30)"
    status, _, peak, _ = run_process([sys.executable, "-c", grab], timeout=20, mem_mb=200)
    assert status == "out_of_memory" and peak > 200


def test_a_worker_killed_by_the_system_counts_as_out_of_memory():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import run_process

    # what the kernel's out-of-memory killer does to a worker: SIGKILL from outside the runner
    suicide = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    status, _, _, tail = run_process([sys.executable, "-c", suicide], timeout=20, mem_mb=10_000)
    assert status == "out_of_memory" and "operating system" in tail
    status, _, _, tail = run_process([sys.executable, "-c", "raise SystemExit(3)"], timeout=20, mem_mb=10_000)
    assert status == "error"


def test_the_unbalanced_workload_drops_the_same_rows_for_every_tool():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy as np
    import pandas as pd
    from worker import drop_rows

    df = pd.DataFrame({"id": np.repeat(np.arange(500), 8), "t": np.tile(np.arange(1, 9), 500),
                       "y": np.arange(4000.0)})
    a, b = drop_rows(df), drop_rows(df.copy())
    pd.testing.assert_frame_equal(a, b)
    assert 0.08 < 1 - len(a) / len(df) < 0.12  # about a tenth left out
    assert (a.groupby("id").size() < 8).sum() > 250  # 1 - 0.9^8 = 57 % of units have gaps: unbalanced
