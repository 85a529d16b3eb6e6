"""Every threshold and definition of SpineCase's follow-up, with its source, in one place (Qt-free).

Follow-up compares one lesion across studies (its timepoints). The numbers below are the only place these
rules live; :mod:`imaging.followup.growth`, :mod:`imaging.followup.recist` and
:mod:`imaging.followup.change` read them here, and the report prints :data:`THRESHOLDS`.

Sources
-------
* **RECIST 1.1** — Eisenhauer EA, Therasse P, Bogaerts J, Schwartz LH, Sargent D, Ford R, et al. New response
  evaluation criteria in solid tumours: revised RECIST guideline (version 1.1). Eur J Cancer
  2009;45(2):228-247. doi:10.1016/j.ejca.2008.10.026.
* **The one-centimetre-per-month rule** — Park JO, Qin LX, Prete FP, Antonescu C, Brennan MF, Singer S.
  Predicting outcome by growth rate of locally recurrent retroperitoneal liposarcoma: the one centimeter per
  month rule. Ann Surg 2009;250(6):977-982. doi:10.1097/SLA.0b013e3181b2468b. Park et al. defined the local
  recurrence growth rate as the radiographic size of the recurrence divided by the time from the primary
  resection to the recurrence, and found a rate above 0.9 cm per month an independent predictor of worse
  disease-specific survival. Liao et al. (recurrent retroperitoneal dedifferentiated liposarcoma, 2023; the
  retroperitoneal sample case) cite it: "the growth rate exceeding 0.9 cm per month is still an ominous sign".
* Bilsky grades (Bilsky et al., J Neurosurg Spine 2010) and SINS (Fisher et al., Spine 2010) keep their
  sources in :mod:`imaging.spine.bilsky` and :mod:`imaging.spine.sins`; follow-up only compares them.

Research software, not a diagnostic device.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DAYS_PER_MONTH",
    "GROWTH_RATE_FLAG_MM_PER_MONTH",
    "PARK_2009",
    "RECIST_1_1",
    "RECIST_BONE_SOFT_TISSUE_MIN_MM",
    "RECIST_MAX_SLICE_THICKNESS_MM",
    "RECIST_MAX_TARGETS",
    "RECIST_MIN_LONGEST_DIAMETER_MM",
    "RECIST_PD_MIN_ABSOLUTE_INCREASE_MM",
    "RECIST_PD_MIN_INCREASE_FRACTION",
    "RECIST_PR_MIN_DECREASE_FRACTION",
    "RECIST_SLICE_THICKNESS_FACTOR",
    "REFERENCE_LINE_MM_PER_MONTH",
    "THRESHOLDS",
    "THRESHOLD_TOLERANCE_MM",
    "Source",
    "Threshold",
]


@dataclass(frozen=True)
class Source:
    """A published source: authors, title, journal, year, volume(issue):pages and DOI."""

    authors: str
    title: str
    journal: str
    year: int
    pages: str
    doi: str

    @property
    def short(self) -> str:
        """e.g. ``"Eisenhauer et al., Eur J Cancer 2009"``."""
        first = self.authors.split(",")[0].split()[0]
        return f"{first} et al., {self.journal} {self.year}"

    @property
    def citation(self) -> str:
        return f"{self.authors}. {self.title}. {self.journal} {self.year};{self.pages}. doi:{self.doi}"


RECIST_1_1 = Source(
    authors="Eisenhauer EA, Therasse P, Bogaerts J, Schwartz LH, Sargent D, Ford R, et al",
    title="New response evaluation criteria in solid tumours: revised RECIST guideline (version 1.1)",
    journal="Eur J Cancer", year=2009, pages="45(2):228-247", doi="10.1016/j.ejca.2008.10.026")

PARK_2009 = Source(
    authors="Park JO, Qin LX, Prete FP, Antonescu C, Brennan MF, Singer S",
    title="Predicting outcome by growth rate of locally recurrent retroperitoneal liposarcoma: the one "
          "centimeter per month rule",
    journal="Ann Surg", year=2009, pages="250(6):977-982", doi="10.1097/SLA.0b013e3181b2468b")

# -- time -------------------------------------------------------------------------------------------------
DAYS_PER_MONTH = 365.25 / 12
"""One month is 30.4375 days: the mean month of the Julian year (365.25 days / 12). Growth rates divide the
interval in days between two study dates by this number, so a rate does not depend on which calendar months
(28 to 31 days, leap years) the interval spans."""

# -- growth -----------------------------------------------------------------------------------------------
GROWTH_RATE_FLAG_MM_PER_MONTH = 9.0
"""A growth rate **above** 0.9 cm (9 mm) per month is flagged (Park et al. 2009: local recurrence growth
rate > 0.9 cm/month predicted worse disease-specific survival). Exactly 9.0 mm/month is not flagged
("exceeding")."""

REFERENCE_LINE_MM_PER_MONTH = 10.0
"""The follow-up plot's comparison line: one centimetre per month (the rule's name in Park et al. 2009)."""

# -- RECIST 1.1 -------------------------------------------------------------------------------------------
RECIST_MIN_LONGEST_DIAMETER_MM = 10.0
"""Measurable at baseline: longest diameter at least 10 mm on CT or MR with a slice thickness of at most
5 mm (RECIST 1.1, section 3.1.1)."""

RECIST_MAX_SLICE_THICKNESS_MM = 5.0
"""Above this slice thickness the minimum measurable size is twice the slice thickness (RECIST 1.1, 3.1.1
and Appendix II)."""

RECIST_SLICE_THICKNESS_FACTOR = 2.0
"""With slices thicker than 5 mm a measurable lesion is at least this many slice thicknesses long."""

RECIST_BONE_SOFT_TISSUE_MIN_MM = 10.0
"""A lytic or mixed lytic-blastic bone lesion is measurable only through an identifiable soft-tissue
component that is itself measurable (at least 10 mm; RECIST 1.1, 3.1.2); blastic bone lesions are not
measurable."""

RECIST_MAX_TARGETS = 5
"""At most five target lesions in total (two per organ; RECIST 1.1, 3.2.1). More are reported, not refused."""

RECIST_PR_MIN_DECREASE_FRACTION = 0.30
"""Partial response: at least a 30 % decrease in the sum of target diameters, taking the baseline sum as
reference. Exactly 30 % is a partial response."""

RECIST_PD_MIN_INCREASE_FRACTION = 0.20
"""Progressive disease: at least a 20 % increase in the sum of target diameters over the smallest sum on
study (the nadir, which includes the baseline) ..."""

RECIST_PD_MIN_ABSOLUTE_INCREASE_MM = 5.0
"""... and an absolute increase of at least 5 mm; or a new lesion. Exactly 20 % with exactly 5 mm is
progression."""

THRESHOLD_TOLERANCE_MM = 1e-9
"""Comparisons at a threshold count a value within this distance (mm) as *at* the threshold, so float
rounding of a sum of diameters never moves it across (e.g. 10.1 + 19.9 mm)."""


@dataclass(frozen=True)
class Threshold:
    """One row of :data:`THRESHOLDS`: what, the value with its unit, the rule's wording and its source."""

    name: str
    value: float
    unit: str
    rule: str
    source: Source


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("Measurable lesion (CT/MR, slice thickness <= 5 mm)", RECIST_MIN_LONGEST_DIAMETER_MM, "mm",
              "longest diameter >= 10 mm", RECIST_1_1),
    Threshold("Measurable lesion (slice thickness > 5 mm)", RECIST_SLICE_THICKNESS_FACTOR, "x slice thickness",
              "longest diameter >= 2 x slice thickness", RECIST_1_1),
    Threshold("Measurable bone lesion", RECIST_BONE_SOFT_TISSUE_MIN_MM, "mm",
              "lytic or mixed lytic-blastic, soft-tissue component >= 10 mm; blastic not measurable", RECIST_1_1),
    Threshold("Target lesions", RECIST_MAX_TARGETS, "lesions", "at most 5 in total, 2 per organ", RECIST_1_1),
    Threshold("Partial response (PR)", RECIST_PR_MIN_DECREASE_FRACTION * 100, "%",
              ">= 30 % decrease of the sum of diameters from baseline", RECIST_1_1),
    Threshold("Progressive disease (PD)", RECIST_PD_MIN_INCREASE_FRACTION * 100, "%",
              ">= 20 % increase of the sum over the nadir and >= 5 mm absolute, or a new lesion", RECIST_1_1),
    Threshold("Progressive disease (PD), absolute", RECIST_PD_MIN_ABSOLUTE_INCREASE_MM, "mm",
              "absolute increase of the sum over the nadir >= 5 mm", RECIST_1_1),
    Threshold("Growth rate flag", GROWTH_RATE_FLAG_MM_PER_MONTH, "mm/month",
              "growth faster than 0.9 cm/month (1 month = 30.4375 days)", PARK_2009),
)
"""The thresholds as a table, for the report and the README."""
