"""The spine map's content (Qt-free): a schematic column from C1 to the coccyx for the surgeon.

:func:`build_spine_map` reads a case and says what the map shows -- the widget
(``widgets/spine_map.py``) only paints it:

* the levels to draw, cranial to caudal: C1-C7, T1-T12, L1-L5, S1-S5, Co, plus T13 / L6 and the occiput
  ("Occiput (C0)", above C1) when the case names them (a label or a finding);
* which levels are labelled on the series shown (with their LPS centre, to bring the views there) and the
  labelled field: from the most cranial to the most caudal labelled level;
* each finding: its levels (its level range plus any level of its involvement), the sectors it involves at
  each level, grouped as the map draws them (body, left pedicle, right pedicle, posterior elements,
  epidural, paraspinal), its Bilsky grade and its SINS total and category, and a lane so that the brackets
  of findings sharing levels sit side by side;
* a tooltip text per level.

Research software, not a diagnostic device.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from imaging.spine.bilsky import BILSKY_GRADE_INFO
from imaging.spine.labelling import label_centres
from imaging.spine.levels import (
    OCCIPUT,
    OCCIPUT_NAME,
    STANDARD_LEVELS,
    VARIANT_LEVELS,
    level_display_name,
    level_index,
    level_region,
    levels_between,
)

if TYPE_CHECKING:  # pragma: no cover
    from imaging.case.model import Case, Finding, VertebralLabel

__all__ = [
    "MAP_SECTORS",
    "SECTOR_NAMES",
    "SECTOR_SHORT",
    "MapFinding",
    "MapLevel",
    "SpineMapModel",
    "assign_lanes",
    "stack_labels",
    "build_spine_map",
    "level_centre",
    "map_sector",
]

MAP_SECTORS: tuple[str, ...] = ("body", "left_pedicle", "right_pedicle", "posterior", "epidural", "paraspinal")
"""The sector columns of the map, in drawing order."""

SECTOR_SHORT: dict[str, str] = {"body": "B", "left_pedicle": "LP", "right_pedicle": "RP", "posterior": "PE",
                                "epidural": "Ep", "paraspinal": "PS"}
SECTOR_NAMES: dict[str, str] = {
    "body": "Vertebral body",
    "left_pedicle": "Left pedicle",
    "right_pedicle": "Right pedicle",
    "posterior": "Posterior elements (lamina, spinous and transverse processes)",
    "epidural": "Epidural space",
    "paraspinal": "Paraspinal soft tissue and psoas",
}
_CASE_SECTOR_TO_MAP = {"vertebral_body": "body", "left_pedicle": "left_pedicle", "right_pedicle": "right_pedicle",
                       "lamina": "posterior", "spinous_process": "posterior", "transverse_process": "posterior",
                       "epidural": "epidural", "paraspinal": "paraspinal", "psoas": "paraspinal"}


def map_sector(case_sector: str) -> str:
    """The map column of a case-model sector ("lamina" -> "posterior", "psoas" -> "paraspinal")."""
    return _CASE_SECTOR_TO_MAP[case_sector]


@dataclass(frozen=True)
class MapLevel:
    """One level of the column. ``centre``: LPS mm of its label(s) on the series shown (None when not
    labelled there); ``sources``: "manual" / "detected"; ``in_field``: within the labelled field."""

    label: str
    region: str
    variant: bool
    centre: tuple[float, float, float] | None
    sources: tuple[str, ...]
    in_field: bool

    @property
    def labelled(self) -> bool:
        return self.centre is not None


@dataclass(frozen=True)
class MapFinding:
    """A finding as the map shows it. ``levels`` cranial to caudal; ``sectors[level]``: map sectors involved
    there (empty when the finding names no sectors at that level); ``lane``: 0 for the innermost bracket."""

    finding_id: str
    number: int  # 1-based, case order
    name: str
    levels: tuple[str, ...]
    sectors: dict[str, tuple[str, ...]]
    levels_text: str
    bilsky_grade: str | None
    bilsky_suggested: str | None
    sins_total: int | None
    sins_category: str | None
    sins_incomplete: bool
    lane: int = 0

    @property
    def bilsky_text(self) -> str:
        """"Bilsky 3", "Bilsky 2 (suggested)" or ""."""
        if self.bilsky_grade is not None:
            return f"Bilsky {self.bilsky_grade}"
        if self.bilsky_suggested is not None:
            return f"Bilsky {self.bilsky_suggested} (suggested)"
        return ""

    @property
    def sins_text(self) -> str:
        """"SINS 13, unstable", "SINS incomplete" or ""."""
        if self.sins_total is not None:
            return f"SINS {self.sins_total}, {self.sins_category}"
        return "SINS incomplete" if self.sins_incomplete else ""

    def summary_lines(self) -> list[str]:
        """The text beside the finding's bracket: name and levels, Bilsky, SINS (empty parts left out)."""
        head = f"{self.name}  {self.levels_text}".strip()
        return [t for t in (head, self.bilsky_text, self.sins_text) if t]


@dataclass
class SpineMapModel:
    """What the spine map draws (see the module docstring)."""

    levels: list[MapLevel]
    findings: list[MapFinding]
    field: tuple[str, str] | None  # most cranial and most caudal labelled level
    unplaced_findings: list[str] = dataclasses.field(default_factory=list)  # names of findings without levels

    def level(self, label: str) -> MapLevel | None:
        return next((lv for lv in self.levels if lv.label == label), None)

    def row(self, label: str) -> int | None:
        """Row number of a level (0 = C1), or None when not drawn."""
        return next((i for i, lv in enumerate(self.levels) if lv.label == label), None)

    def findings_at(self, label: str) -> list[MapFinding]:
        return [f for f in self.findings if label in f.levels]

    @property
    def field_text(self) -> str:
        if self.field is None:
            return "No levels labelled on this series"
        a, b = self.field
        n = sum(1 for lv in self.levels if lv.labelled)
        span = a if a == b else f"{a}\u2013{b}"
        return f"Labelled field {span} ({n} level{'s' if n != 1 else ''} labelled)"

    def tooltip(self, label: str) -> str:
        """Hover text for a level: its label state and each finding there with sectors, Bilsky and SINS."""
        lv = self.level(label)
        if lv is None:
            return ""
        name = level_display_name(lv.label)
        lines = [f"{name} ({lv.region}{', variant' if lv.variant else ''})" if name == lv.label else name]
        if lv.centre is not None:
            how = " and ".join(dict.fromkeys(lv.sources))
            lines.append(f"Labelled ({how}) at LPS ({lv.centre[0]:.1f}, {lv.centre[1]:.1f}, {lv.centre[2]:.1f}) mm"
                         " \u2014 click to show it in every view")
        else:
            lines.append("Not labelled on this series")
        for f in self.findings_at(label):
            sectors = f.sectors.get(label, ())
            where = ", ".join(SECTOR_NAMES[s].split(" (")[0].lower() for s in sectors) or "sectors not recorded"
            lines.append(f"{f.name} ({f.levels_text}): {where}")
            extra = [t for t in (f.bilsky_text, f.sins_text) if t]
            if f.bilsky_grade is not None:
                extra[0] += f" \u2014 {BILSKY_GRADE_INFO[f.bilsky_grade].definition}"
            if extra:
                lines.append("    " + "; ".join(extra))
        return "\n".join(lines)


def stack_labels(wanted: Sequence[float], heights: Sequence[float], top: float, bottom: float, gap: float = 3.0
                 ) -> list[float] | None:
    """Tops for labels that want to be centred at ``wanted`` (in order, top to bottom), with ``heights``, so
    that none overlaps another and all lie within ``[top, bottom]``: each stays as near its wish as the
    others allow. None when they cannot all fit."""
    if sum(heights) + gap * max(len(heights) - 1, 0) > bottom - top + 1e-9:
        return None
    tops: list[float] = []
    for w, h in zip(wanted, heights, strict=True):  # downwards: never above the previous one's bottom
        t = max(w - h / 2, top)
        if tops:
            t = max(t, tops[-1] + heights[len(tops) - 1] + gap)
        tops.append(t)
    for i in range(len(tops) - 1, -1, -1):  # upwards: never below the bottom or the next one's top
        limit = bottom - heights[i] if i == len(tops) - 1 else tops[i + 1] - gap - heights[i]
        tops[i] = min(tops[i], limit)
    return tops


def assign_lanes(spans: Sequence[tuple[int, int]]) -> list[int]:
    """Lanes (0, 1, ...) for row spans ``(first, last)`` so that overlapping spans get different lanes;
    greedy in the given order, each span taking the lowest free lane."""
    lanes: list[int] = []
    for i, (a, b) in enumerate(spans):
        used = {lanes[j] for j in range(i) if not (spans[j][1] < a or b < spans[j][0])}
        lane = 0
        while lane in used:
            lane += 1
        lanes.append(lane)
    return lanes


def _finding_levels(f: Finding, drawn: Sequence[str]) -> tuple[str, ...]:
    levels: set[str] = set()
    rng = f.level_range
    if rng is not None:
        levels.update(levels_between(rng.start, rng.end, variants=[v for v in VARIANT_LEVELS if v in drawn]))
    levels.update(inv.level for inv in f.involvement)
    return tuple(sorted(levels, key=level_index))


def build_spine_map(case: Case, labels: Iterable[VertebralLabel] | None = None) -> SpineMapModel:
    """The map of ``case``. ``labels``: the vertebral labels of the series shown (default: all the case's
    labels) -- they give the labelled levels, their centres and the labelled field."""
    labels = list(case.vertebral_labels if labels is None else labels)
    named = {lab.label for lab in case.vertebral_labels}
    for f in case.findings:
        named.update(lv for lv in (f.level_from, f.level_to) if lv)
        named.update(inv.level for inv in f.involvement)
    # variants (T13, L6) and the occiput (C0) get a row only when the case names them
    drawn = sorted(set(STANDARD_LEVELS) | (named & {*VARIANT_LEVELS, OCCIPUT}), key=level_index)
    names, centres = label_centres(labels)
    centre_of = {n: (float(c[0]), float(c[1]), float(c[2])) for n, c in zip(names, centres, strict=True)}
    sources: dict[str, list[str]] = {}
    for lab in labels:
        sources.setdefault(lab.label, []).append(lab.source)
    field_range = (names[0], names[-1]) if names else None
    lo = level_index(names[0]) if names else 1
    hi = level_index(names[-1]) if names else 0
    levels = [MapLevel(label=lv, region=level_region(lv).value, variant=lv in VARIANT_LEVELS,
                       centre=centre_of.get(lv),
                       sources=tuple(sorted(set(sources.get(lv, ())))), in_field=lo <= level_index(lv) <= hi)
              for lv in drawn]
    row = {lv.label: i for i, lv in enumerate(levels)}
    placed: list[MapFinding] = []
    unplaced: list[str] = []
    for number, f in enumerate(case.findings, start=1):
        name = f.label or f"Finding {number}"
        f_levels = _finding_levels(f, drawn)
        if not f_levels:
            unplaced.append(name)
            continue
        sectors = {inv.level: tuple(s for s in MAP_SECTORS if s in {map_sector(x) for x in inv.sectors})
                   for inv in f.involvement}
        score = f.sins_score()
        answers = (f.sins.pain, f.sins.bone_lesion, f.sins.alignment, f.sins.collapse, f.sins.posterolateral)
        levels_text = f.levels_text or (f_levels[0] if len(f_levels) == 1 else f"{f_levels[0]}-{f_levels[-1]}")
        if levels_text.startswith(OCCIPUT):
            levels_text = levels_text.replace(OCCIPUT, OCCIPUT_NAME, 1)
        placed.append(MapFinding(
            finding_id=f.id, number=number, name=name, levels=f_levels, sectors=sectors,
            levels_text=levels_text.replace("-", "\u2013"), bilsky_grade=f.bilsky.grade,
            bilsky_suggested=f.bilsky.suggested_grade, sins_total=score.total if score is not None else None,
            sins_category=score.category.label if score is not None else None,
            sins_incomplete=score is None and any(a is not None for a in answers)))
    lanes = assign_lanes([(row[f.levels[0]], row[f.levels[-1]]) for f in placed])
    placed = [replace(f, lane=lane) for f, lane in zip(placed, lanes, strict=True)]
    return SpineMapModel(levels=levels, findings=placed, field=field_range, unplaced_findings=unplaced)


def level_centre(model: SpineMapModel, label: str) -> np.ndarray | None:
    """The LPS centre of a labelled level (None when not labelled on the series shown)."""
    lv = model.level(label)
    return None if lv is None or lv.centre is None else np.asarray(lv.centre, dtype=np.float64)
