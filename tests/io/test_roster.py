import pandas as pd

from impactlab.io import read_roster
from impactlab.schemas import ROSTER


def test_roster_from_simulator_layout(data_dir, invariant):
    t = read_roster(data_dir / "roster.csv")
    invariant(t)
    assert list(t.frame.columns) == list(ROSTER.names[:-1]) + ["region", "source_row"]
    f = t.frame.set_index("employee_id")
    assert f.loc["E001", "team"] == "North-1"
    assert f.loc["E001", "manager_id"] == "M01"
    assert f.loc["E003", "role"] == "Senior Rep"
    assert f.loc["E002", "region"] == "North"
    assert pd.isna(f.loc["E001", "termination_date"])  # empty = still employed
    assert f.loc["E002", "termination_date"] == pd.Timestamp("2023-11-30", tz="UTC")
    assert f.loc["E003", "hire_date"] == pd.Timestamp("2018-01-10", tz="UTC")
    assert f["location"].isna().all()  # canonical column present even when the input lacks it


def test_termination_before_hire_is_rejected():
    raw = pd.DataFrame(
        {
            "Employee ID": ["a", "b"],
            "Hire Date": ["2020-01-01", "2020-01-01"],
            "Termination Date": ["2019-12-31", "N/A"],
        }
    )
    t = read_roster(raw)
    assert t.frame["employee_id"].tolist() == ["b"]
    assert t.rejected.loc[0, "column"] == "Termination Date"
    assert "cannot leave before joining" in t.rejected.loc[0, "reason"]
