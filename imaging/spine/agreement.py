"""Inter-reader agreement on Bilsky ESCC grades: percent agreement, Cohen's kappa and the confusion table.

Cohen's kappa here is the *unweighted* kappa over the six grades (every disagreement counts the same).
The linearly weighted kappa is also given: grades are ordered 0 < 1a < 1b < 1c < 2 < 3 and a disagreement
of ``d`` steps gets weight ``1 - d / 5`` (Cicchetti-Allison weights).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from imaging.spine.bilsky import BILSKY_GRADES, bilsky_ordinal

__all__ = ["BilskyAgreement", "bilsky_agreement", "format_bilsky_agreement"]


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
