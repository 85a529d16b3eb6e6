"""Inter-reader agreement on Bilsky ESCC grades: percent agreement, Cohen's kappa and the confusion table;
Fleiss' kappa for more than two readers.

Cohen's kappa here is the *unweighted* kappa over the six grades (every disagreement counts the same).
The linearly weighted kappa is also given: grades are ordered 0 < 1a < 1b < 1c < 2 < 3 and a disagreement
of ``d`` steps gets weight ``1 - d / 5`` (Cicchetti-Allison weights).

Several readers (:func:`reader_agreement`): each subject (a study) carries one grade per reader. Two
readers: Cohen's kappa over the subjects both graded. Three or more: Fleiss' kappa (Fleiss, Psychol Bull
1971; 76(5):378-382, doi:10.1037/h0031619) over the subjects every reader graded, the percent of those on
which all agree, and Cohen's kappa with its confusion table for every pair of readers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from imaging.spine.bilsky import BILSKY_GRADES, bilsky_ordinal, normalize_bilsky_grade

__all__ = ["BilskyAgreement", "ReaderAgreement", "bilsky_agreement", "fleiss_kappa", "format_bilsky_agreement",
           "format_reader_agreement", "reader_agreement"]


@dataclass(frozen=True)
class BilskyAgreement:
    """Agreement between two readers over ``n`` paired gradings.

    ``confusion[i][j]`` counts the pairs graded ``grades[i]`` by the first reader and ``grades[j]`` by the
    second. ``percent_agreement`` is 0-100. ``kappa`` (Cohen, unweighted) and ``weighted_kappa_linear`` are
    None when undefined: when chance agreement is already 1 (both readers gave one and the same grade to
    every case).
    """

    n: int
    confusion: tuple[tuple[int, ...], ...]
    percent_agreement: float
    kappa: float | None
    weighted_kappa_linear: float | None
    grades: tuple[str, ...] = BILSKY_GRADES


def _kappa(p: np.ndarray, weights: np.ndarray) -> float | None:
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    observed = float((weights * p).sum())
    expected = float((weights * np.outer(rows, cols)).sum())
    if np.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1.0 - expected)


def bilsky_agreement(pairs: Iterable[tuple[str, str]]) -> BilskyAgreement:
    """Agreement statistics for pairs ``(first reader's grade, second reader's grade)``.

    Grades are the strings "0", "1a", "1b", "1c", "2", "3". Raises ValueError when there are no pairs or a
    pair holds something that is not a grade (the message gives the pair's position).
    """
    k = len(BILSKY_GRADES)
    table = np.zeros((k, k), dtype=np.int64)
    for index, pair in enumerate(pairs):
        try:
            first, second = pair
            i, j = bilsky_ordinal(first), bilsky_ordinal(second)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"pair {index + 1} ({pair!r}) is not two Bilsky grades: {exc}") from None
        table[i, j] += 1
    n = int(table.sum())
    if n == 0:
        raise ValueError("Bilsky agreement needs at least one pair of grades")
    p = table / n
    steps = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
    return BilskyAgreement(
        n=n,
        confusion=tuple(tuple(int(v) for v in row) for row in table),
        percent_agreement=100.0 * float(np.trace(table)) / n,
        kappa=_kappa(p, np.eye(k)),
        weighted_kappa_linear=_kappa(p, 1.0 - steps / (k - 1)),
    )


def format_bilsky_agreement(result: BilskyAgreement, first: str = "reader 1", second: str = "reader 2") -> str:
    """A plain-text report: n, percent agreement, both kappas and the confusion table (rows: ``first``)."""

    def kappa_text(value: float | None) -> str:
        return "undefined (all cases given one same grade)" if value is None else f"{value:.3f}"

    lines = [
        f"Bilsky grade agreement, {first} vs {second} (n = {result.n})",
        f"Percent agreement: {result.percent_agreement:.1f}%",
        f"Cohen's kappa (unweighted): {kappa_text(result.kappa)}",
        f"Linearly weighted kappa (grades ordered {' < '.join(result.grades)}): "
        f"{kappa_text(result.weighted_kappa_linear)}",
        "",
        f"Confusion table (rows: {first}; columns: {second})",
    ]
    width = max(4, len(str(result.n)) + 1)
    lines.append(" " * 4 + "".join(f"{g:>{width}}" for g in result.grades))
    for g, row in zip(result.grades, result.confusion, strict=True):
        lines.append(f"{g:>4}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


def fleiss_kappa(ratings: Iterable[Iterable[str]]) -> float | None:
    """Fleiss' kappa of subjects each graded by the same number (at least two) of readers.

    ``ratings`` holds, per subject, the grades its readers gave (their order does not matter). None when
    undefined: every grade given was one and the same grade (chance agreement is 1). ValueError when the
    subjects do not all have the same number of ratings, there are fewer than two, or a grade is unknown.
    """
    k = len(BILSKY_GRADES)
    rows: list[np.ndarray] = []
    for index, subject in enumerate(ratings):
        counts = np.zeros(k, dtype=np.float64)
        for g in subject:
            try:
                counts[bilsky_ordinal(g)] += 1
            except (TypeError, ValueError) as exc:
                raise ValueError(f"subject {index + 1}: {exc}") from None
        rows.append(counts)
    if not rows:
        raise ValueError("Fleiss' kappa needs at least one subject")
    table = np.vstack(rows)
    raters = table.sum(axis=1)
    if np.any(raters != raters[0]) or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (at least two) of grades for every subject")
    n, m = float(raters[0]), table.shape[0]
    per_subject = ((table * table).sum(axis=1) - n) / (n * (n - 1))
    observed = float(per_subject.mean())
    shares = table.sum(axis=0) / (m * n)
    expected = float((shares * shares).sum())
    if np.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class ReaderAgreement:
    """Agreement of several readers over subjects (see the module docstring).

    ``subjects_all``: subjects every reader graded; ``percent_all_agree``: 0-100 over those (None when
    there is none); ``fleiss``: Fleiss' kappa over those (three or more readers; None when undefined or
    not computed); ``pairs``: Cohen's statistics for each pair of readers over the subjects both graded
    (rows: the first reader of the pair); ``missing``: per reader, the subjects it did not grade.
    """

    readers: tuple[str, ...]
    subjects: int
    subjects_all: int
    percent_all_agree: float | None
    fleiss: float | None
    pairs: dict[tuple[str, str], BilskyAgreement]
    missing: dict[str, int]


def reader_agreement(grades: dict[str, dict[str, str]]) -> ReaderAgreement:
    """Agreement over ``grades[subject][reader] = grade``. Needs at least two readers; raises ValueError
    when no two readers graded a common subject."""
    readers = tuple(sorted({r for per in grades.values() for r in per}))
    if len(readers) < 2:
        raise ValueError(f"agreement needs at least two readers; found {len(readers)}"
                         + (f" ({readers[0]})" if readers else ""))
    complete = [per for per in grades.values() if all(r in per for r in readers)]
    pairs: dict[tuple[str, str], BilskyAgreement] = {}
    for i, a in enumerate(readers):
        for b in readers[i + 1:]:
            both = [(per[a], per[b]) for per in grades.values() if a in per and b in per]
            if both:
                pairs[(a, b)] = bilsky_agreement(both)
    if not pairs:
        raise ValueError("no two readers graded a common study")
    fleiss = None
    if len(readers) >= 3 and complete:
        fleiss = fleiss_kappa([[per[r] for r in readers] for per in complete])
    agree = sum(1 for per in complete if len({normalize_bilsky_grade(per[r]) for r in readers}) == 1)
    return ReaderAgreement(
        readers=readers, subjects=len(grades), subjects_all=len(complete),
        percent_all_agree=100.0 * agree / len(complete) if complete else None, fleiss=fleiss, pairs=pairs,
        missing={r: sum(1 for per in grades.values() if r not in per) for r in readers})


def format_reader_agreement(result: ReaderAgreement) -> str:
    """A plain-text report of :func:`reader_agreement`: readers, percent agreement, Fleiss' kappa (three
    or more readers) and each pair's Cohen's kappa and confusion table."""

    def kappa_text(value: float | None) -> str:
        return "undefined (all subjects given one same grade)" if value is None else f"{value:.3f}"

    lines = [f"Bilsky grade agreement between {len(result.readers)} readers: {', '.join(result.readers)}",
             f"Studies: {result.subjects}; graded by every reader: {result.subjects_all}"]
    for r, n in result.missing.items():
        if n:
            lines.append(f"  {r} did not grade {n} stud{'y' if n == 1 else 'ies'}")
    if result.percent_all_agree is not None:
        lines.append(f"All readers agree: {result.percent_all_agree:.1f}%")
    if len(result.readers) >= 3:
        lines.append(f"Fleiss' kappa: {kappa_text(result.fleiss)}" if result.subjects_all
                     else "Fleiss' kappa: no study graded by every reader")
    for (a, b), pair in result.pairs.items():
        lines += ["", format_bilsky_agreement(pair, a, b)]
    return "\n".join(lines)
