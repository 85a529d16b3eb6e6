"""Vertebral levels: labels, cranio-caudal order, neighbours, regions, ranges and SINS location points.

Labels are ``C1``..``C7``, ``T1``..``T12``, ``L1``..``L5``, ``S1``..``S5`` and ``Co`` (the coccyx, one
label for the whole coccyx), plus the two numerical variants ``T13`` (a 13th rib-bearing vertebra) and
``L6`` (a 6th lumbar vertebra). Above C1, ``C0`` names the occiput and clivus (shown "Occiput (C0)"): not a
vertebra, but a site a lesion can involve -- SINS's junctional region "occiput-C2" starts there. It takes
part in order, ranges ("C0-C2") and parsing ("occiput", "clivus" and "Occiput (C0)" read as C0), never in
a walk from one vertebra to the next (``level_above("C1")`` is None).

Ordering and variants
---------------------
Every label has one place in the cranio-caudal order: ``T13`` sits between ``T12`` and ``L1`` and ``L6``
between ``L5`` and ``S1`` (where they are found in the patients who have them). Sorting, comparing and
range membership use that full order. Most patients have neither variant, so a *walk* from one level to
its neighbour skips the variants unless the caller says which variants the patient has
(``variants={"T13"}``): ``level_below("T12") == "L1"`` but ``level_below("T12", variants={"T13"}) ==
"T13"``. Walking from a variant itself always works (``level_below("T13") == "L1"``).

A :class:`LevelRange` lists the levels from its start to its end with the same rule: a variant is listed
when it is an end of the range or when the range was built with ``variants`` naming it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum

__all__ = [
    "ALL_LEVELS",
    "OCCIPUT",
    "OCCIPUT_NAME",
    "STANDARD_LEVELS",
    "VARIANT_LEVELS",
    "LevelRange",
    "SpineRegion",
    "is_level",
    "is_variant_level",
    "level_above",
    "level_below",
    "level_display_name",
    "level_index",
    "level_region",
    "levels_between",
    "normalize_level",
    "parse_level_range",
    "sins_location_points",
]

VARIANT_LEVELS: tuple[str, ...] = ("T13", "L6")
"""Numerical variants: present only in some patients."""

OCCIPUT = "C0"
"""The occiput and clivus, above C1: a site a lesion can involve, not a vertebra (see the module docstring)."""
OCCIPUT_NAME = "Occiput (C0)"
_OCCIPUT_WORDS = ("OCCIPUT", "CLIVUS", "OCCIPUT (C0)", "OCCIPUT/CLIVUS", "C0")

ALL_LEVELS: tuple[str, ...] = (
    OCCIPUT,
    *(f"C{i}" for i in range(1, 8)),
    *(f"T{i}" for i in range(1, 14)),
    *(f"L{i}" for i in range(1, 7)),
    *(f"S{i}" for i in range(1, 6)),
    "Co",
)
"""Every label, cranial to caudal, variants included at their anatomical place."""

STANDARD_LEVELS: tuple[str, ...] = tuple(lv for lv in ALL_LEVELS if lv not in VARIANT_LEVELS and lv != OCCIPUT)
"""The usual 7 cervical, 12 thoracic, 5 lumbar, 5 sacral levels and the coccyx, cranial to caudal."""

_INDEX = {label: i for i, label in enumerate(ALL_LEVELS)}
_UPPER_TO_LABEL = {label.upper(): label for label in ALL_LEVELS} | {w: OCCIPUT for w in _OCCIPUT_WORDS}


class SpineRegion(Enum):
    """Anatomical region of the spinal column."""

    OCCIPUT = "occiput"
    CERVICAL = "cervical"
    THORACIC = "thoracic"
    LUMBAR = "lumbar"
    SACRAL = "sacral"
    COCCYGEAL = "coccygeal"


_REGION_BY_LETTER = {"C": SpineRegion.CERVICAL, "T": SpineRegion.THORACIC, "L": SpineRegion.LUMBAR,
                     "S": SpineRegion.SACRAL}


def normalize_level(text: str) -> str:
    """The canonical label for ``text`` (case and surrounding spaces ignored): ``" t12 "`` -> ``"T12"``.

    Raises ValueError naming the text when it is not a vertebral level label.
    """
    if not isinstance(text, str):
        raise TypeError(f"a vertebral level label must be a string, got {type(text).__name__} {text!r}")
    label = _UPPER_TO_LABEL.get(" ".join(text.strip().upper().split()))
    if label is None:
        raise ValueError(f"unknown vertebral level {text!r}: expected one of C1-C7, T1-T12, L1-L5, S1-S5, Co, "
                         "the variants T13 and L6, or C0 for the occiput/clivus")
    return label


def level_display_name(label: str) -> str:
    """How a level is shown: ``"Occiput (C0)"`` for C0, the label itself otherwise."""
    lv = normalize_level(label)
    return OCCIPUT_NAME if lv == OCCIPUT else lv


def is_level(text: str) -> bool:
    """Whether ``text`` names a vertebral level (case-insensitive)."""
    return isinstance(text, str) and " ".join(text.strip().upper().split()) in _UPPER_TO_LABEL


def is_variant_level(label: str) -> bool:
    """Whether ``label`` is one of the numerical variants ``T13`` and ``L6``."""
    return normalize_level(label) in VARIANT_LEVELS


def level_index(label: str) -> int:
    """Position of ``label`` in the full cranio-caudal order :data:`ALL_LEVELS` (C0, the occiput, is 0).

    Use it as a sort key: ``sorted(labels, key=level_index)``.
    """
    return _INDEX[normalize_level(label)]


def level_region(label: str) -> SpineRegion:
    """The region of a level; ``T13`` is thoracic, ``L6`` lumbar, ``Co`` coccygeal, ``C0`` the occiput."""
    lv = normalize_level(label)
    if lv == "Co":
        return SpineRegion.COCCYGEAL
    if lv == OCCIPUT:
        return SpineRegion.OCCIPUT
    return _REGION_BY_LETTER[lv[0]]


def _normalized_variants(variants: Iterable[str]) -> frozenset[str]:
    out = set()
    for v in variants:
        lv = normalize_level(v)
        if lv not in VARIANT_LEVELS:
            raise ValueError(f"{v!r} is not a variant level (the variants are {', '.join(VARIANT_LEVELS)})")
        out.add(lv)
    return frozenset(out)


def _walk(label: str, step: int, variants: Collection[str]) -> str | None:
    present = _normalized_variants(variants)
    i = _INDEX[normalize_level(label)] + step
    while 0 <= i < len(ALL_LEVELS):
        candidate = ALL_LEVELS[i]
        if candidate == OCCIPUT:
            return None  # the occiput is not a vertebra: no walk reaches it
        if candidate not in VARIANT_LEVELS or candidate in present:
            return candidate
        i += step
    return None


def level_below(label: str, variants: Collection[str] = ()) -> str | None:
    """The next level caudally (towards the coccyx), or None below ``Co``.

    ``variants`` names the variant levels (``T13``, ``L6``) this patient has; others are skipped.
    """
    return _walk(label, +1, variants)


def level_above(label: str, variants: Collection[str] = ()) -> str | None:
    """The next level cranially (towards the skull), or None above ``C1``.

    ``variants`` names the variant levels (``T13``, ``L6``) this patient has; others are skipped.
    """
    return _walk(label, -1, variants)


def levels_between(start: str, end: str, variants: Collection[str] = ()) -> list[str]:
    """The levels from ``start`` to ``end`` inclusive, cranial to caudal whichever order they are given in.

    A variant level is included when it is ``start`` or ``end`` or named in ``variants``.
    """
    a, b = sorted((normalize_level(start), normalize_level(end)), key=level_index)
    present = _normalized_variants(variants) | {a, b}
    return [lv for lv in ALL_LEVELS[_INDEX[a]:_INDEX[b] + 1]
            if (lv not in VARIANT_LEVELS and lv != OCCIPUT) or lv in present]


@dataclass(frozen=True)
class LevelRange:
    """A contiguous run of vertebral levels from ``start`` (cranial) to ``end`` (caudal), both included.

    ``LevelRange("T6", "T5")`` is normalised to T5-T6; ``LevelRange("L4")`` is the single level L4.
    ``variants`` names variant levels (``T13``, ``L6``) that this patient has, so that a range spanning
    them lists them (see the module docstring). ``str()`` gives ``"T5-T6"`` or ``"T6"``.
    """

    start: str
    end: str = ""
    variants: frozenset[str] = field(default_factory=frozenset, compare=True)

    def __post_init__(self) -> None:
        start = normalize_level(self.start)
        end = normalize_level(self.end) if self.end else start
        if level_index(end) < level_index(start):
            start, end = end, start
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "variants", _normalized_variants(self.variants))

    @property
    def levels(self) -> list[str]:
        """The levels of the range, cranial to caudal."""
        return levels_between(self.start, self.end, self.variants)

    @property
    def is_single(self) -> bool:
        """Whether the range is one level."""
        return self.start == self.end

    def __iter__(self) -> Iterator[str]:
        return iter(self.levels)

    def __len__(self) -> int:
        return len(self.levels)

    def __contains__(self, label: object) -> bool:
        if not isinstance(label, str) or not is_level(label):
            return False
        return normalize_level(label) in self.levels

    def __str__(self) -> str:
        return self.start if self.is_single else f"{self.start}-{self.end}"

    @property
    def sins_location_points(self) -> int:
        """SINS location points of the range: the highest of its levels (Fisher et al., Spine 2010)."""
        return max(sins_location_points(lv) for lv in self.levels)


_LEVEL_TOKEN = r"(?:co|[ctls]\d{1,2})"
_OCCIPUT_TEXT = re.compile(r"^\s*(occiput|clivus)\s*(\(\s*c0\s*\))?", re.IGNORECASE)
_RANGE_RE = re.compile(
    rf"^\s*(?P<start>{_LEVEL_TOKEN})\s*(?:[-\u2010\u2011\u2012\u2013\u2014\u2212/]\s*"
    rf"(?P<end>{_LEVEL_TOKEN}|\d{{1,2}}))?\s*$",
    re.IGNORECASE,
)


def parse_level_range(text: str, variants: Collection[str] = ()) -> LevelRange:
    """Parse a level or level range as radiologists write it.

    Accepted: ``"T5-T6"``, ``"T5–T6"`` (en dash; also em dash, minus sign), ``"T5/T6"``, ``"T5-6"``
    (the second number takes the first level's region letter, and must not be lower: ``"T12-1"`` is
    refused as ambiguous), ``"t12-l1"`` (any case), ``"C1-4"``, a
    single ``"L4"``, and spaces around the separator. A reversed range (``"T6-T5"``) is normalised to
    cranial-caudal order. ``variants`` is passed to :class:`LevelRange`.

    Raises ValueError naming ``text`` when it is not a level range, or names an unknown level (``"T14"``).
    """
    if not isinstance(text, str):
        raise TypeError(f"a vertebral level range must be a string, got {type(text).__name__} {text!r}")
    text = _OCCIPUT_TEXT.sub("C0", text, count=1)  # "Occiput (C0)-C2", "clivus" -> "C0-C2", "C0"
    m = _RANGE_RE.match(text)
    if m is None:
        raise ValueError(f"cannot read vertebral level range {text!r}: write it like 'T5-T6', 'T5-6' or 'L4'")
    start, end = m.group("start"), m.group("end")
    if end is not None and end.isdigit():
        if start.upper() == "CO":
            raise ValueError(f"cannot read vertebral level range {text!r}: the coccyx has no numbered levels")
        if int(end) < int(start[1:]):
            raise ValueError(f"cannot read vertebral level range {text!r}: the shortened end {end} would lie above "
                             f"{start.upper()}; write both levels in full (e.g. 'T12-L1')")
        end = start[0] + end
    try:
        return LevelRange(start, end or "", variants=frozenset(variants))
    except ValueError as exc:
        raise ValueError(f"cannot read vertebral level range {text!r}: {exc}") from None


# SINS location (Fisher CG et al. A novel classification system for spinal instability in neoplastic
# disease: an evidence-based approach and expert consensus from the Spine Oncology Study Group.
# Spine 2010;35(22):E1221-E1229): junctional (occiput-C2, C7-T2, T11-L1, L5-S1) 3, mobile spine
# (C3-C6, L2-L4) 2, semirigid (T3-T10) 1, rigid (S2-S5) 0. The occiput (C0) is the cranial end of the
# junctional occiput-C2 region: 3.
#
# Levels the table does not name, decided as a spine surgeon would:
# * T13: with 13 rib-bearing vertebrae the thoracolumbar junction lies at T12-T13-L1, so T13 is junctional (3).
# * L6: a sixth lumbar vertebra is the lumbosacral transitional segment (L5-L6-S1), junctional (3).
# * Co: the coccyx lies below the rigid sacrum and carries no load of the spinal column: rigid (0).
_SINS_LOCATION_POINTS: dict[str, int] = {}
for _lv in ALL_LEVELS:
    if _lv in {"C0", "C1", "C2", "C7", "T1", "T2", "T11", "T12", "T13", "L1", "L5", "L6", "S1"}:
        _SINS_LOCATION_POINTS[_lv] = 3
    elif _lv in {"C3", "C4", "C5", "C6", "L2", "L3", "L4"}:
        _SINS_LOCATION_POINTS[_lv] = 2
    elif _lv in {f"T{i}" for i in range(3, 11)}:
        _SINS_LOCATION_POINTS[_lv] = 1
    else:  # S2-S5, Co
        _SINS_LOCATION_POINTS[_lv] = 0
del _lv


def sins_location_points(levels: str | LevelRange | Iterable[str]) -> int:
    """SINS location points (Fisher et al., Spine 2010) of a level, a range (``"T10-T11"``) or levels.

    Junctional (occiput-C2, C7-T2, T11-L1, L5-S1) 3; mobile spine (C3-C6, L2-L4) 2; semirigid (T3-T10) 1;
    rigid (S2-S5) 0. T13 and L6 score as junctional, the coccyx as rigid (see the comment above).
    For several levels the location scores the highest of them.
    """
    if isinstance(levels, str):
        labels = parse_level_range(levels).levels
    elif isinstance(levels, LevelRange):
        labels = levels.levels
    else:
        labels = [normalize_level(lv) for lv in levels]
    if not labels:
        raise ValueError("SINS location needs at least one vertebral level")
    return max(_SINS_LOCATION_POINTS[lv] for lv in labels)
