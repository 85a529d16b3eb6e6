"""Flip and rotate a view on screen (Qt-free): a 2x2 integer matrix applied after the plane's own screen
mapping, so the drawn image turns while every coordinate map -- and the orientation letters, computed from
the turned screen axes -- stays exact.

Screen coordinates: x to the right, y down. A turn ``T`` maps the millimetre offsets of the unturned picture
(along screen right, screen down) to those of the turned one. ``flip_horizontal`` mirrors left-right,
``flip_vertical`` top-bottom, ``rotate(t, +1)`` turns 90 degrees clockwise as seen on screen; each applies
on top of the turn already there (as OHIF and Weasis do).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["IDENTITY", "Turn", "as_turn", "describe", "flip_horizontal", "flip_vertical", "is_identity", "rotate",
           "rotate_left", "turn_matrix", "turned_axes"]

Turn = tuple[int, int, int, int]  # row-major 2x2: (a, b, c, d) = [[a, b], [c, d]]
IDENTITY: Turn = (1, 0, 0, 1)
_FLIP_H = np.array([[-1, 0], [0, 1]])
_FLIP_V = np.array([[1, 0], [0, -1]])
_CLOCKWISE = np.array([[0, -1], [1, 0]])  # screen right -> screen down


def turn_matrix(turn: Turn | Sequence[int]) -> np.ndarray:
    return np.asarray(turn, dtype=float).reshape(2, 2)


def as_turn(values: Sequence[int] | Sequence[float] | np.ndarray) -> Turn:
    """Four numbers (a 2x2 matrix, row-major) as a `Turn`; ValueError unless it is a flip/rotation."""
    a, b, c, d = (int(round(float(v))) for v in np.asarray(values, dtype=float).ravel())
    if {abs(a) + abs(b), abs(c) + abs(d), abs(a) + abs(c)} != {1} or a * d - b * c not in (1, -1):
        raise ValueError(f"not a flip or a quarter turn: {values!r}")
    return (a, b, c, d)


def _compose(m: np.ndarray, turn: Turn) -> Turn:
    return as_turn(m @ turn_matrix(turn))


def flip_horizontal(turn: Turn) -> Turn:
    return _compose(_FLIP_H, turn)


def flip_vertical(turn: Turn) -> Turn:
    return _compose(_FLIP_V, turn)


def rotate(turn: Turn, quarter_turns: int = 1) -> Turn:
    """``quarter_turns`` x 90 degrees clockwise on screen (negative: counter-clockwise)."""
    m = np.linalg.matrix_power(_CLOCKWISE, int(quarter_turns) % 4)
    return _compose(m, turn)


def rotate_left(turn: Turn) -> Turn:
    """90 degrees counter-clockwise on screen."""
    return rotate(turn, -1)


def is_identity(turn: Turn) -> bool:
    return tuple(turn) == IDENTITY


def turned_axes(right: np.ndarray, down: np.ndarray, turn: Turn) -> tuple[np.ndarray, np.ndarray]:
    """Unit LPS vectors of screen right and screen down after ``turn``, from those before it.

    A displacement ``a * right + b * down`` is drawn at ``T @ (a, b)``; so the new screen axes are the
    columns of ``[right down] @ T^-1`` (``T`` is orthogonal: ``T^-1 = T^T``)."""
    t = turn_matrix(turn)
    basis = np.stack([np.asarray(right, float), np.asarray(down, float)], axis=1) @ t.T
    return basis[:, 0], basis[:, 1]


def describe(turn: Turn) -> str:
    """In words: "", "flipped horizontally", "rotated 90\u00b0 clockwise", ..."""
    if is_identity(turn):
        return ""
    t = turn_matrix(turn)
    det = round(float(np.linalg.det(t)))
    if det < 0:  # a flip (possibly with a rotation): name it as a horizontal flip then a rotation
        t = _FLIP_H @ t
        angle = _angle(t)
        return (f"rotated {angle}\u00b0 clockwise, then flipped horizontally" if angle
                else "flipped horizontally")
    return f"rotated {_angle(t)}\u00b0 clockwise"


def _angle(t: np.ndarray) -> int:
    for k in range(4):
        if np.allclose(np.linalg.matrix_power(_CLOCKWISE, k), t):
            return 90 * k
    return 0
