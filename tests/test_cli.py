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
