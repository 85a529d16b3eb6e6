"""Spinal Instability Neoplastic Score (SINS).

Fisher CG, DiPaola CP, Ryken TC, et al. A novel classification system for spinal instability in neoplastic
disease: an evidence-based approach and expert consensus from the Spine Oncology Study Group.
Spine 2010;35(22):E1221-E1229.

Six components, each an enum whose members carry the published wording and points; the total (0-18) gives
the category: 0-6 stable, 7-12 indeterminate (possibly impending) instability, 13-18 unstable.
The location comes from the lesion's vertebral levels (:func:`imaging.spine.levels.sins_location_points`)
unless the reader overrides it.

Research software, not a diagnostic device.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple

from imaging.spine.levels import LevelRange, parse_level_range, sins_location_points

__all__ = [
    "SinsAlignment",
    "SinsBoneLesion",
    "SinsCategory",
    "SinsCollapse",
    "SinsComponent",
    "SinsLocation",
    "SinsPain",
    "SinsPosterolateral",
    "SinsScore",
    "compute_sins",
    "sins_category",
]


class _SinsChoice(Enum):
    """An answer to one SINS component: ``points`` and the published ``wording``."""

    def __init__(self, points: int, wording: str) -> None:
        self.points = points
        self.wording = wording

    @classmethod
    def coerce(cls, value: Any, component: str) -> Any:
        """A member from a member, its name (``"MECHANICAL"``) or its wording (case-insensitive)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            key = value.strip()
            for member in cls:
                if key.upper() == member.name or key.casefold() == member.wording.casefold():
                    return member
        choices = "; ".join(f"{m.name} = {m.wording!r} ({m.points})" for m in cls)
        raise ValueError(f"invalid SINS {component}: {value!r}. Choose one of: {choices}")


class SinsLocation(_SinsChoice):
    """SINS location."""

    JUNCTIONAL = (3, "Junctional (occiput–C2, C7–T2, T11–L1, L5–S1)")
    MOBILE = (2, "Mobile spine (C3–C6, L2–L4)")
    SEMIRIGID = (1, "Semirigid (T3–T10)")
    RIGID = (0, "Rigid (S2–S5)")

    @classmethod
    def from_points(cls, points: int) -> SinsLocation:
        """The location category worth ``points`` (3, 2, 1 or 0)."""
        for member in cls:
            if member.points == points:
                return member
        raise ValueError(f"no SINS location is worth {points!r} points")


class SinsPain(_SinsChoice):
    """SINS pain. Mechanical pain: pain relief with recumbency and/or pain with movement/loading of the spine."""

    MECHANICAL = (3, "Mechanical pain")
    OCCASIONAL_NON_MECHANICAL = (1, "Occasional pain but not mechanical")
    PAIN_FREE = (0, "Pain-free lesion")


class SinsBoneLesion(_SinsChoice):
    """SINS bone lesion quality."""

    LYTIC = (2, "Lytic")
    MIXED = (1, "Mixed (lytic/blastic)")
    BLASTIC = (0, "Blastic")


class SinsAlignment(_SinsChoice):
    """SINS radiographic spinal alignment."""

    SUBLUXATION_TRANSLATION = (4, "Subluxation/translation present")
    DE_NOVO_DEFORMITY = (2, "De novo deformity (kyphosis/scoliosis)")
    NORMAL = (0, "Normal alignment")


class SinsCollapse(_SinsChoice):
    """SINS vertebral body collapse."""

    OVER_50_PERCENT = (3, "> 50% collapse")
    UNDER_50_PERCENT = (2, "< 50% collapse")
    NO_COLLAPSE_OVER_50_PERCENT_INVOLVED = (1, "No collapse with > 50% body involved")
    NONE = (0, "None of the above")


class SinsPosterolateral(_SinsChoice):
    """SINS posterolateral involvement of spinal elements (facet, pedicle or costovertebral joint fracture
    or replacement with tumor)."""

    BILATERAL = (3, "Bilateral")
    UNILATERAL = (1, "Unilateral")
    NONE = (0, "None of the above")


class SinsCategory(Enum):
    """Stability category of a SINS total: ``label`` for display, ``range`` of totals."""

    STABLE = ("stable", 0, 6)
    POTENTIALLY_UNSTABLE = ("potentially unstable (indeterminate)", 7, 12)
    UNSTABLE = ("unstable", 13, 18)

    def __init__(self, label: str, low: int, high: int) -> None:
        self.label = label
        self.low = low
        self.high = high


def sins_category(total: int) -> SinsCategory:
    """The category of a SINS total: 0-6 stable, 7-12 potentially unstable (indeterminate), 13-18 unstable."""
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= 18:
        raise ValueError(f"a SINS total is an integer from 0 to 18, got {total!r}")
    for category in SinsCategory:
        if category.low <= total <= category.high:
            return category
    raise AssertionError("unreachable")  # pragma: no cover


class SinsComponent(NamedTuple):
    """One line of a SINS score: the component's name, the chosen answer's wording and its points."""

    component: str
    wording: str
    points: int


@dataclass(frozen=True)
class SinsScore:
    """A computed SINS. ``location_from_levels`` is False when the reader overrode the location."""

    location: SinsLocation
    pain: SinsPain
    bone_lesion: SinsBoneLesion
    alignment: SinsAlignment
    collapse: SinsCollapse
    posterolateral: SinsPosterolateral
    levels: LevelRange | None = None
    location_from_levels: bool = True

    @property
    def components(self) -> list[SinsComponent]:
        """The six components in the published order."""
        return [
            SinsComponent("Location", self.location.wording, self.location.points),
            SinsComponent("Pain", self.pain.wording, self.pain.points),
            SinsComponent("Bone lesion", self.bone_lesion.wording, self.bone_lesion.points),
            SinsComponent("Radiographic spinal alignment", self.alignment.wording, self.alignment.points),
            SinsComponent("Vertebral body collapse", self.collapse.wording, self.collapse.points),
            SinsComponent("Posterolateral involvement of spinal elements", self.posterolateral.wording,
                          self.posterolateral.points),
        ]

    @property
    def total(self) -> int:
        """The total, 0-18."""
        return sum(c.points for c in self.components)

    @property
    def category(self) -> SinsCategory:
        """Stable (0-6), potentially unstable (indeterminate, 7-12) or unstable (13-18)."""
        return sins_category(self.total)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for a case file: member names, the levels as text, total and category label."""
        return {
            "levels": str(self.levels) if self.levels is not None else None,
            "location": self.location.name,
            "location_from_levels": self.location_from_levels,
            "pain": self.pain.name,
            "bone_lesion": self.bone_lesion.name,
            "alignment": self.alignment.name,
            "collapse": self.collapse.name,
            "posterolateral": self.posterolateral.name,
            "total": self.total,
            "category": self.category.label,
        }


def compute_sins(
    *,
    pain: SinsPain | str,
    bone_lesion: SinsBoneLesion | str,
    alignment: SinsAlignment | str,
    collapse: SinsCollapse | str,
    posterolateral: SinsPosterolateral | str,
    levels: LevelRange | str | None = None,
    location: SinsLocation | str | None = None,
) -> SinsScore:
    """Compute the SINS of a lesion.

    Each component is given as its enum member, the member's name (``"LYTIC"``) or its wording
    (``"Lytic"``). The location comes from ``levels`` (a :class:`LevelRange` or text such as ``"T11-T12"``;
    several levels score their highest) unless ``location`` is given, which overrides it. One of the two
    is required. Raises ValueError naming the component for an invalid answer or a missing location.
    """
    level_range = levels if levels is None or isinstance(levels, LevelRange) else parse_level_range(levels)
    if location is not None:
        loc = SinsLocation.coerce(location, "location")
        from_levels = False
    elif level_range is not None:
        loc = SinsLocation.from_points(sins_location_points(level_range))
        from_levels = True
    else:
        raise ValueError("SINS needs the lesion's vertebral levels or an explicit location")
    return SinsScore(
        location=loc,
        pain=SinsPain.coerce(pain, "pain"),
        bone_lesion=SinsBoneLesion.coerce(bone_lesion, "bone lesion"),
        alignment=SinsAlignment.coerce(alignment, "radiographic spinal alignment"),
        collapse=SinsCollapse.coerce(collapse, "vertebral body collapse"),
        posterolateral=SinsPosterolateral.coerce(posterolateral, "posterolateral involvement"),
        levels=level_range,
        location_from_levels=from_levels,
    )
