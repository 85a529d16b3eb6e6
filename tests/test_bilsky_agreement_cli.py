"""`spinecase bilsky-agreement`: case files with known (suggested, final) pairs; the expected percent and
kappas are worked out by hand below, not copied from the output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from imaging.case.model import BilskyAssessment, Case, Finding
from imaging.case.store import save_case


def write_case(path: Path, pairs: list[tuple[str | None, str | None]]) -> Path:
    case = Case(findings=[Finding(label=f"Lesion {i + 1}", bilsky=BilskyAssessment(suggested_grade=s, grade=f))
                          for i, (s, f) in enumerate(pairs)])
    save_case(case, path, backup=False, sync=False)
    return path


# Five pairs (suggested, final) over two files; one finding without a suggestion is left out.
FILE_A = [("3", "3"), ("2", "3"), (None, "2")]
FILE_B = [("1b", "1b"), ("0", "0"), ("1c", "2")]
# By hand (grades 0 < 1a < 1b < 1c < 2 < 3):
#   observed agreement 3/5 = 60 %.
#   suggested marginals: 0, 1b, 1c, 2, 3 each 1/5; final marginals: 0, 1b, 2 each 1/5, 3 2/5.
#   chance agreement = 1/25 (0) + 1/25 (1b) + 1/25 (2) + 2/25 (3) = 0.20 -> kappa = (0.6 - 0.2) / 0.8 = 0.5.
#   linear weights 1 - d/5: observed (1 + 0.8 + 1 + 1 + 0.8) / 5 = 0.92; expected
#   0.2 * (0.36 + 0.60 + 0.64 + 0.68 + 0.64) = 0.584 -> weighted kappa = 0.336 / 0.416 = 0.8077.
PERCENT = 60.0
KAPPA = 0.5
WEIGHTED = 0.336 / 0.416


@pytest.fixture
def cases(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "more"
    folder.mkdir()
    a = write_case(tmp_path / "a.spinecase.json", FILE_A)
    b = write_case(folder / "b.spinecase.json", FILE_B)
    bad = tmp_path / "broken.spinecase.json"
    bad.write_text('{"schema_version": 1, "findings": [', encoding="utf-8")
    return {"a": a, "b": b, "folder": folder, "bad": bad}


def test_agreement_over_files_and_a_folder(cases, capsys):
    status = main(["bilsky-agreement", str(cases["a"]), str(cases["folder"])])
    out, err = capsys.readouterr()
    assert status == 0 and err == ""
    assert "2 case file(s) read; 5 finding(s) with both a suggested and a final grade, 1 without both left out" \
        in out
    assert "(n = 5)" in out
    assert f"Percent agreement: {PERCENT:.1f}%" in out
    assert f"Cohen's kappa (unweighted): {KAPPA:.3f}" in out
    assert f": {WEIGHTED:.3f}" in out
    rows = {line.split()[0]: [int(v) for v in line.split()[1:]] for line in out.splitlines()
            if line.split() and line.split()[0] in ("0", "1a", "1b", "1c", "2", "3") and len(line.split()) == 7}
    #               final: 0  1a 1b 1c 2  3
    assert rows == {"0": [1, 0, 0, 0, 0, 0], "1a": [0, 0, 0, 0, 0, 0], "1b": [0, 0, 1, 0, 0, 0],
                    "1c": [0, 0, 0, 0, 1, 0], "2": [0, 0, 0, 0, 0, 1], "3": [0, 0, 0, 0, 0, 1]}
    assert "rows: suggested; columns: final" in out


def test_a_corrupt_file_is_reported_and_the_others_still_count(cases, capsys):
    status = main(["bilsky-agreement", str(cases["a"]), str(cases["bad"]), str(cases["b"]), "--json"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "broken.spinecase.json" in err and "not valid JSON" in err
    doc = json.loads(out)
    assert doc["n"] == 5
    assert doc["percent_agreement"] == pytest.approx(PERCENT)
    assert doc["kappa"] == pytest.approx(KAPPA)
    assert doc["weighted_kappa_linear"] == pytest.approx(WEIGHTED)
    assert [f.get("pairs") for f in doc["files"]] == [2, None, 3]
    assert "error" in doc["files"][1]


def test_no_pairs_at_all(tmp_path, capsys):
    only_final = write_case(tmp_path / "c.spinecase.json", [(None, "3"), ("2", None)])
    status = main(["bilsky-agreement", str(only_final), str(tmp_path / "missing.spinecase.json")])
    out, err = capsys.readouterr()
    assert status == 1
    assert "1 case file(s) read, 1 could not be read; 0 finding(s)" in out
    assert "missing.spinecase.json" in err and "no such case file" in err
    assert "no finding has both a suggested and a final Bilsky grade" in err
