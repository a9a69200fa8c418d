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
    params = nbformat.v4.new_code_cell("x = 1\nout_name = 'result.txt'")
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
