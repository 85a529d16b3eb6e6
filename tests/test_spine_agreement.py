"""Bilsky inter-reader agreement: kappa against hand-computed examples, the table and the report."""

from __future__ import annotations

import pytest

from imaging.spine import bilsky_agreement, format_bilsky_agreement


def test_textbook_two_category_example() -> None:
    # Cohen's kappa textbook example (50 items): both "yes" 20, first yes/second no 5, first no/second
    # yes 10, both "no" 15. p_o = 35/50 = 0.7; p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = 0.2 / 0.5 = 0.4.
    # "yes" is grade 2, "no" grade 0 here; unused grades add nothing to the unweighted kappa.
    pairs = [("2", "2")] * 20 + [("2", "0")] * 5 + [("0", "2")] * 10 + [("0", "0")] * 15
    result = bilsky_agreement(pairs)
    assert result.n == 50
    assert result.percent_agreement == pytest.approx(70.0)
    assert result.kappa == pytest.approx(0.4)
    assert result.confusion[4][4] == 20 and result.confusion[4][0] == 5
    assert result.confusion[0][4] == 10 and result.confusion[0][0] == 15
    assert sum(map(sum, result.confusion)) == 50


def test_hand_computed_six_grade_example_with_linear_weights() -> None:
    # n = 6: (0,0) x2, (1a,1a), (1a,1b), (2,3), (3,3).
    # Rows (first reader) 0:2 1a:2 2:1 3:1; columns 0:2 1a:1 1b:1 3:2.
    # Unweighted: p_o = 4/6, p_e = (2*2 + 2*1 + 1*2)/36 = 8/36, kappa = (24-8)/(36-8) = 16/28 = 4/7.
    # Linear weights w = 1 - |i-j|/5: observed (4 + 0.8 + 0.8)/6 = 33.6/36;
    # expected = sum w_ij r_i c_j / 36 = (6.8 + 7.6 + 3.0 + 2.6)/36 = 20/36; kappa_w = 13.6/16 = 0.85.
    pairs = [("0", "0"), ("0", "0"), ("1a", "1a"), ("1a", "1b"), ("2", "3"), ("3", "3")]
    result = bilsky_agreement(pairs)
    assert result.percent_agreement == pytest.approx(400 / 6)
    assert result.kappa == pytest.approx(4 / 7)
    assert result.weighted_kappa_linear == pytest.approx(0.85)


def test_perfect_and_undefined_agreement() -> None:
    perfect = bilsky_agreement([("0", "0"), ("1c", "1c"), ("3", "3")])
    assert perfect.kappa == pytest.approx(1.0) and perfect.weighted_kappa_linear == pytest.approx(1.0)
    same = bilsky_agreement([("2", "2")] * 4)
    assert same.percent_agreement == 100.0 and same.kappa is None
    assert "undefined" in format_bilsky_agreement(same)


def test_invalid_pairs() -> None:
    with pytest.raises(ValueError, match="at least one"):
        bilsky_agreement([])
    with pytest.raises(ValueError, match="pair 2"):
        bilsky_agreement([("0", "0"), ("1a", 2)])
    with pytest.raises(ValueError, match="pair 1"):
        bilsky_agreement([("1d", "1a")])


def test_report_text() -> None:
    pairs = [("0", "0"), ("0", "0"), ("1a", "1a"), ("1a", "1b"), ("2", "3"), ("3", "3")]
    text = format_bilsky_agreement(bilsky_agreement(pairs), "Dr A", "Dr B")
    assert "n = 6" in text
    assert "Percent agreement: 66.7%" in text
    assert "Cohen's kappa (unweighted): 0.571" in text
    assert "Linearly weighted kappa" in text and "0.850" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == ["0", "1a", "1b", "1c", "2", "3"])
    rows = {line.split()[0]: [int(v) for v in line.split()[1:]] for line in lines[header + 1:header + 7]}
    assert rows["1a"] == [0, 1, 1, 0, 0, 0]
    assert rows["2"] == [0, 0, 0, 0, 0, 1]
