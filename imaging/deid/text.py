"""Free-text scrubbing: names, identifiers, dates and UIDs found in labels, notes, report data and the DICOM
descriptors that are kept. Qt-free.

What is looked for, in this order (an earlier kind wins where two overlap):

* UIDs (dotted numbers of four or more parts, starting 0, 1 or 2): replaced by the same UID every other
  place uses (:meth:`~imaging.deid.keys.DeidKey.uid`), so a UID quoted in a note still matches;
* the patients' known identifiers: Patient IDs and other IDs (accession numbers...) -> the pseudonym or
  ``[ID]``; names, whole and by part (parts of two or more letters, as whole words, any case) -> ``[NAME]``;
* dates: ISO (2024-01-08), DICOM (20240108), day-first dotted (08.01.2024), slashed (08/01/2024),
  written (8 January 2024, Jan 8, 2024, 08-Jan-2024) -> shifted by the patient's shift and written ISO
  (retain-longitudinal, when the date is unambiguous), kept (retain-dates; a birth date never), else
  ``[DATE]``;
* ID-like strings: a token with five or more consecutive digits (not part of a decimal number) -> ``[ID]``.

Each replacement is recorded (:class:`Replacement`) for the reader to review; the record holds the text
found, so it stays in memory and in the review list, never in a file.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from imaging.deid.table import DateOption

__all__ = ["Identifiers", "Replacement", "TextScrubber"]

NAME_TOKEN = "[NAME]"
ID_TOKEN = "[ID]"
DATE_TOKEN = "[DATE]"

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTH_RE = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"

# Dotted numbers starting 0, 1 or 2 with four or more parts, or three parts and 10 or more characters
# (2.25.<uuid>); decimal numbers have one dot and version numbers are short.
_UID_RE = re.compile(r"(?<![\w.])[012](?:\.\d+){2,}(?![\w.]*\d)")
_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<![\w.])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w])"), "ymd"),
    (re.compile(r"(?<![\w.])(\d{4})/(\d{1,2})/(\d{1,2})(?![\w])"), "ymd"),
    (re.compile(r"(?<![\w.])((?:19|20)\d{2})(\d{2})(\d{2})(?![\w.])"), "ymd"),
    (re.compile(r"(?<![\w.])(\d{1,2})\.(\d{1,2})\.(\d{2,4})(?![\w]|\.\d)"), "dmy"),
    (re.compile(r"(?<![\w./])(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})(?![\w/])"), "ambiguous"),
    (re.compile(rf"(?<![\w])(\d{{1,2}})(?:st|nd|rd|th)?[ -]({_MONTH_RE})[ -,]*(\d{{4}})(?![\w])", re.I), "d_mon_y"),
    (re.compile(rf"(?<![\w])({_MONTH_RE})[ -](\d{{1,2}})(?:st|nd|rd|th)?,?[ -](\d{{4}})(?![\w])", re.I), "mon_d_y"),
    (re.compile(rf"(?<![\w])({_MONTH_RE})[ -,]*((?:19|20)\d{{2}})(?![\w])", re.I), "mon_y"),
]
# A token of letters/digits/dashes holding five or more consecutive digits, not inside a decimal number.
_ID_LIKE_RE = re.compile(r"(?<![\w.,])[A-Za-z#]*[-/:]?\d*\d{5,}[\dA-Za-z-]*(?![\w]|[.,]\d)")


@dataclass(frozen=True)
class Replacement:
    """One piece of free text that was replaced: where, what kind, the text found and what replaced it.
    ``found`` is identifying: show it to the reader for review, never write it to a file."""

    location: str
    kind: str
    found: str
    replacement: str


@dataclass
class Identifiers:
    """What identifies one patient: IDs, names (DICOM PN or plain), dates (birth dates: never kept)."""

    ids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    birth_dates: set[date] = field(default_factory=set)
    other_ids: set[str] = field(default_factory=set)

    def merge(self, other: Identifiers) -> None:
        self.ids |= other.ids
        self.names |= other.names
        self.birth_dates |= other.birth_dates
        self.other_ids |= other.other_ids


def _name_forms(name: str) -> tuple[set[str], set[str]]:
    """(whole-name forms, name parts) of a person name (DICOM PN ``Family^Given^Middle^Prefix^Suffix`` or
    plain text)."""
    name = name.split("=")[0]  # the alphabetic representation of a PN
    parts = [p.strip() for p in name.split("^") if p.strip()]
    wholes = {name.strip(), " ".join(parts)}
    if len(parts) >= 2:
        wholes |= {f"{parts[1]} {parts[0]}", f"{parts[0]}, {parts[1]}", f"{parts[0]},{parts[1]}"}
    words = {w for p in parts for w in re.split(r"[\s,.'-]+", p) if len(w) >= 2 and w.isalpha()}
    return {w for w in wholes if len(w) >= 2}, words


def _month(text: str) -> int:
    return _MONTHS[text.lower().rstrip(".")[:3]]


def _parse_date(kind: str, groups: tuple[str, ...]) -> tuple[date | None, bool]:
    """(date, unambiguous) of a date-like match."""
    try:
        if kind == "ymd":
            return date(int(groups[0]), int(groups[1]), int(groups[2])), True
        if kind in ("dmy", "ambiguous"):
            a, b, y = int(groups[0]), int(groups[1]), int(groups[2])
            if y < 100:
                y += 2000 if y < 50 else 1900
            if kind == "dmy":
                return date(y, b, a), True
            candidates = set()
            for d, m in ((a, b), (b, a)):
                with contextlib.suppress(ValueError):
                    candidates.add(date(y, m, d))
            if len(candidates) == 1:
                return candidates.pop(), True
            return (min(candidates) if candidates else None), False
        if kind == "d_mon_y":
            return date(int(groups[2]), _month(groups[1]), int(groups[0])), True
        if kind == "mon_d_y":
            return date(int(groups[2]), _month(groups[0]), int(groups[1])), True
        if kind == "mon_y":
            return date(int(groups[1]), _month(groups[0]), 1), False
    except (ValueError, KeyError):
        return None, False
    return None, False


class TextScrubber:
    """Replaces identifying text (see the module docstring) and records what it replaced.

    ``uid``: the run's UID replacement; ``known``: the identifiers of every patient in the run (a note may
    name another patient); ``pseudonyms``: Patient ID -> pseudonym; ``dates``/``shift``: the date option and
    the current patient's shift (set :attr:`shift` per patient)."""

    def __init__(self, uid: Callable[[str], str], known: Identifiers, pseudonyms: dict[str, str],
                 dates: DateOption) -> None:
        self.uid = uid
        self.dates = dates
        self.shift = timedelta(0)
        self.replacements: list[Replacement] = []
        self._pseudonyms = dict(pseudonyms)
        self._birth_dates = set(known.birth_dates)
        wholes: set[str] = set()
        words: set[str] = set()
        for n in known.names:
            w, p = _name_forms(n)
            wholes |= w
            words |= p
        ids = {i.strip() for i in known.ids | known.other_ids if len(i.strip()) >= 3}
        self._id_re = _alternation(ids)
        self._ids = ids
        self._name_re = _alternation(wholes | words)

    # -- the scrubbing ---------------------------------------------------------------------------------------
    def scrub(self, text: str, location: str, *, patterns: bool = True) -> str:
        """``text`` with identifying parts replaced (``patterns=False``: only the known identifiers and UIDs,
        for coded or technical text where date- and ID-like patterns would be false alarms)."""
        if not text:
            return text
        spans: list[tuple[int, int, str, str]] = []  # start, end, kind, replacement

        def add(start: int, end: int, kind: str, repl: str) -> None:
            if any(s < end and start < e for s, e, _, _ in spans):
                return
            spans.append((start, end, kind, repl))

        for m in _UID_RE.finditer(text):
            if m.group(0).count(".") < 3 and len(m.group(0)) < 10:
                continue
            add(m.start(), m.end(), "UID", self.uid(m.group(0)))
        if self._id_re is not None:
            for m in self._id_re.finditer(text):
                found = m.group(0)
                match = next((i for i in self._ids if i.casefold() == found.casefold()), found)
                add(m.start(), m.end(), "patient ID" if match in self._pseudonyms else "identifier",
                    self._pseudonyms.get(match, ID_TOKEN))
        if self._name_re is not None:
            for m in self._name_re.finditer(text):
                add(m.start(), m.end(), "name", NAME_TOKEN)
        if patterns or self._birth_dates:
            for rx, kind in _DATE_PATTERNS:
                for m in rx.finditer(text):
                    d, sure = _parse_date(kind, m.groups())
                    if d is None and kind != "ambiguous":
                        continue
                    is_birth = d in self._birth_dates
                    if not patterns and not is_birth:
                        continue
                    add(m.start(), m.end(), "birth date" if is_birth else "date", self._date_replacement(
                        m.group(0), d, sure, is_birth))
        if patterns:
            for m in _ID_LIKE_RE.finditer(text):
                add(m.start(), m.end(), "ID-like", ID_TOKEN)
        out = []
        pos = 0
        for start, end, kind, repl in sorted(spans):
            found = text[start:end]
            if repl == found:
                continue
            out.append(text[pos:start])
            out.append(repl)
            pos = end
            self.replacements.append(Replacement(location, kind, found, repl))
        out.append(text[pos:])
        return "".join(out)

    def _date_replacement(self, found: str, d: date | None, sure: bool, is_birth: bool) -> str:
        if is_birth or d is None:
            return DATE_TOKEN
        if self.dates is DateOption.KEEP:
            return found
        if self.dates is DateOption.SHIFT and sure:
            return (d + self.shift).isoformat()
        return DATE_TOKEN

    def scrub_all(self, texts: Iterable[tuple[str, str]]) -> list[str]:
        """Scrub several (text, location) pairs."""
        return [self.scrub(t, loc) for t, loc in texts]


def _alternation(items: set[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any of ``items`` as a whole token (longest first)."""
    ordered = sorted({i for i in items if i}, key=len, reverse=True)
    if not ordered:
        return None
    body = "|".join(re.escape(i) for i in ordered)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.I)
