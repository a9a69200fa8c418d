"""The command line: usage errors, parameters, simulate."""

from __future__ import annotations

import pytest

from impactlab.cli import _value, build_parser, main


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(cmd in out for cmd in ("demo", "run", "simulate"))


def test_missing_notebook_is_a_usage_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.ipynb"), "--out", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err


def test_parameter_values_are_literals_or_strings():
    assert _value("12") == 12 and _value("0.5") == 0.5 and _value("data/x") == "data/x"
    assert _value("True") is True


def test_simulate_writes_the_tables(tmp_path):
    assert main(["simulate", "--out", str(tmp_path), "--seed", "3", "--employees", "200"]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"completions.csv", "roster.csv", "kpis.csv", "costs.csv", "truth.json"} <= names


# ---------------------------------------------------------------------------------------------- additions
import json  # noqa: E402
import os  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize("command", ["demo", "run", "simulate", "validate"])
def test_every_command_has_help_with_the_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0 success; 1" in out and "2 wrong usage" in out


def test_validate_reports_kept_and_rejected_rows(tmp_path, capsys):
    rejected = tmp_path / "rejected.csv"
    assert main(["validate", str(DATA / "completions_bad.csv"), "--rejected", str(rejected)]) == 0
    out = capsys.readouterr().out
    assert "rows read: 9, kept: 5, rejected: 4" in out
    assert "status (Transcript Status): 1 row(s)" in out
    frame = __import__("pandas").read_csv(rejected)
    assert {"source_row", "reason", "check"} <= set(frame.columns) and frame["source_row"].nunique() == 4


def test_validate_strict_fails_on_rejections_and_passes_clean_files(capsys):
    assert main(["validate", str(DATA / "completions_bad.csv"), "--strict"]) == 1
    assert "4 of 9 rows would be rejected" in capsys.readouterr().err
    assert main(["validate", str(DATA / "roster.csv"), "--kind", "roster", "--strict"]) == 0
    sample_kpis = DATA.parent.parent / "data" / "sample" / "kpis.csv"
    capsys.readouterr()
    assert main(["validate", str(sample_kpis), "--kind", "kpis", "--strict"]) == 0
    assert "kpis table from" in capsys.readouterr().out


def test_validate_usage_errors(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "none.csv")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["validate", str(DATA / "completions_bad.csv"), "--preset", "no-such-lms"]) == 2
    assert "'preset' parameter must be one of" in capsys.readouterr().err


def _tiny_notebook(path: Path, body: str) -> Path:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1\nout_name = 'result.txt'\ndata = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_dated_run_writes_a_manifest_with_checksums(tmp_path, capsys):
    pytest.importorskip("papermill")
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "open(out_name, 'w').write(str(x * 2))")
    data = tmp_path / "input.csv"
    data.write_text("a,b\n1,2\n")
    out = tmp_path / "reports"
    assert main(["run", str(nb), "--out", str(out), "--dated", "-p", "x", "21", "-p", "data", str(data)]) == 0
    folder = out / date.today().isoformat()
    assert (folder / "result.txt").read_text() == "42"
    m = json.loads((folder / "run_manifest.json").read_text())
    assert m["status"] == "ok" and m["error"] is None
    assert m["parameters"]["x"] == 21
    import hashlib

    assert m["inputs_sha256"]["data"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert m["impactlab_version"] == __import__("impactlab").__version__
    assert m["timings"]["execute_notebook"] > 0 and m["seconds"] >= m["timings"]["execute_notebook"]
    assert {"tiny.ipynb", "tiny.html", "result.txt", "run_manifest.json"} <= set(m["outputs"])


def test_failed_run_exits_1_with_a_readable_message_and_keeps_notebook_and_manifest(tmp_path, capsys):
    pytest.importorskip("papermill")
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "raise ValueError(f'bad input {x}')")
    out = tmp_path / "run"
    assert main(["run", str(nb), "--out", str(out), "-p", "x", "7"]) == 1
    err = capsys.readouterr().err
    assert "raised ValueError: bad input 7" in err and "Traceback" not in err
    assert (out / "tiny.ipynb").exists()
    m = json.loads((out / "run_manifest.json").read_text())
    assert m["status"] == "failed" and "bad input 7" in m["error"]


# ------------------------------------------------------------------------- run: parameters, folder, lock
NOTEBOOKS = DATA.parent.parent / "notebooks"


def test_an_unknown_parameter_exits_2_before_anything_runs(tmp_path, capsys):
    pytest.importorskip("papermill")
    out = tmp_path / "never"
    code = main(["run", str(NOTEBOOKS / "04_roi_for_the_board.ipynb"), "--out", str(out),
                 "-p", "data_dri", "x", "-p", "horizon", "6"])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown parameter data_dri for 04_roi_for_the_board.ipynb" in err
    known = err.split("its parameters are: ")[1].split(".\n")[0].split(", ")
    assert {"data_dir", "horizon", "output_dir"} <= set(known) and "data_dri" not in known
    assert not out.exists()  # nothing ran, nothing was written


def test_a_notebook_without_a_parameters_cell_takes_no_parameter(tmp_path, capsys):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("papermill")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("y = 1")]
    nbformat.write(nb, str(tmp_path / "plain.ipynb"))
    assert main(["run", str(tmp_path / "plain.ipynb"), "--out", str(tmp_path / "o"), "-p", "y", "2"]) == 2
    assert "its parameters are: none: it has no cell tagged 'parameters'" in capsys.readouterr().err


def test_earlier_results_are_refused_unless_force(tmp_path, capsys):
    pytest.importorskip("papermill")
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "open(out_name, 'w').write(str(x * 2))")
    out = tmp_path / "reports"
    out.mkdir()
    (out / "impact.pptx").write_text("last month's deck")
    assert main(["run", str(nb), "--out", str(out), "-p", "x", "3"]) == 2
    err = capsys.readouterr().err
    assert f"{out} already holds earlier results (1 entries: impact.pptx)" in err and "--force" in err
    assert sorted(p.name for p in out.iterdir()) == ["impact.pptx"]  # untouched, no lock left behind
    assert main(["run", str(nb), "--out", str(out), "-p", "x", "3", "--force"]) == 0
    assert (out / "result.txt").read_text() == "6"
    assert (out / "impact.pptx").read_text() == "last month's deck"
    m = json.loads((out / "run_manifest.json").read_text())
    assert "impact.pptx" not in m["outputs"] and ".impactlab.lock" not in m["outputs"]
    assert "result.txt" in m["outputs"]
    assert not (out / ".impactlab.lock").exists()


def _lock(out: Path, pid: int) -> Path:
    import socket

    out.mkdir(parents=True, exist_ok=True)
    lock = out / ".impactlab.lock"
    lock.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "2026-01-01T00:00:00"}))
    return lock


def test_a_folder_locked_by_a_live_run_is_refused(tmp_path, capsys):
    pytest.importorskip("papermill")
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "open(out_name, 'w').write('second')")
    out = tmp_path / "reports"
    lock = _lock(out, os.getpid())  # this very process: alive
    assert main(["run", str(nb), "--out", str(out), "--force"]) == 1
    err = capsys.readouterr().err
    assert f"another impactlab run (process {os.getpid()} on " in err and "is writing into" in err
    assert f"If no run is going on, delete {lock}" in err
    assert sorted(p.name for p in out.iterdir()) == [".impactlab.lock"]  # nothing written, lock kept


def test_a_stale_lock_is_replaced_and_every_lock_released_also_on_error(tmp_path, capsys):
    import subprocess
    import sys

    pytest.importorskip("papermill")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "reports"
    _lock(out, dead.pid)
    nb = _tiny_notebook(tmp_path / "tiny.ipynb", "open(out_name, 'w').write('ok')")
    assert main(["run", str(nb), "--out", str(out), "--force"]) == 0
    assert f"removing a stale lock left by process {dead.pid}" in capsys.readouterr().err
    assert (out / "result.txt").read_text() == "ok" and not (out / ".impactlab.lock").exists()
    bad = _tiny_notebook(tmp_path / "bad.ipynb", "raise RuntimeError('boom')")
    assert main(["run", str(bad), "--out", str(tmp_path / "failed")]) == 1
    assert not (tmp_path / "failed" / ".impactlab.lock").exists()
    assert (tmp_path / "failed" / "run_manifest.json").exists()


def test_two_runs_into_one_folder_at_once_the_second_is_refused(tmp_path, capsys):
    import subprocess
    import sys
    import time

    pytest.importorskip("papermill")
    go = tmp_path / "go"
    nb = _tiny_notebook(tmp_path / "slow.ipynb",
                        "import time, pathlib\n"
                        f"while not pathlib.Path({str(go)!r}).exists():\n    time.sleep(0.1)\n"
                        "open(out_name, 'w').write('first')")
    out = tmp_path / "reports"
    first = subprocess.Popen([sys.executable, "-m", "impactlab.cli", "run", str(nb), "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / ".impactlab.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (out / ".impactlab.lock").exists()
        second = _tiny_notebook(tmp_path / "tiny.ipynb", "open(out_name, 'w').write('second')")
        assert main(["run", str(second), "--out", str(out), "--force"]) == 1
        assert f"another impactlab run (process {first.pid} on " in capsys.readouterr().err
    finally:
        go.write_text("")
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert (out / "result.txt").read_text() == "first" and not (out / ".impactlab.lock").exists()


def test_relative_parameter_paths_are_taken_from_the_starting_directory(tmp_path, monkeypatch, capsys):
    pytest.importorskip("papermill")
    pytest.importorskip("nbconvert")
    from impactlab.cli import _parameters
    from impactlab.datasets import simulate_org

    work = tmp_path / "work"
    simulate_org(n_employees=150, n_periods=16, seed=5).to_csv(work / "exports")
    monkeypatch.chdir(work)
    out = tmp_path / "elsewhere" / "reports"
    nb = NOTEBOOKS / "02_from_your_lms_export.ipynb"
    files = [x for t in ("completions", "roster", "kpis", "costs")
             for x in ("-p", f"{t}_file", f"exports/{t}.csv")]
    plain = ["-p", "preset", "None", "-p", "dayfirst", "None", "-p", "roster_columns", "None",
             "-p", "kpis_sheet", "None", "-p", "kpis_unit", "employee_id", "-p", "cost_categories", "None",
             "-p", "costs_single_program", "False", "-p", "cluster", "None"]
    code = main(["run", str(nb), "--out", str(out), *files, *plain])
    assert code == 0, capsys.readouterr().err
    m = json.loads((out / "run_manifest.json").read_text())
    assert m["parameters"]["completions_file"] == str(work / "exports" / "completions.csv")
    assert m["parameters"]["costs_file"] == str(work / "exports" / "costs.csv")
    assert m["inputs_sha256"]["completions_file"] and (out / "completions_rejected.csv").exists()
    # a path default the run leaves alone ("../data/examples/hr_roster.xlsx") is the notebook's, taken from
    # the notebook's folder, whatever the starting directory
    defaults = _parameters(nb, [], out)
    assert defaults["roster_file"] == str(NOTEBOOKS.parent / "data" / "examples" / "hr_roster.xlsx")
    assert defaults["output_dir"] == str(out)
