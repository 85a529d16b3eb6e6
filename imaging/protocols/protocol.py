"""Hanging protocols as data: which series goes in which view, in which plane and window.

A protocols file (JSON, UTF-8)::

    {"format": "spinecase-hanging-protocols", "version": 1,
     "protocols": [
       {"id": "spine-mr", "name": "Spine MR: sag T2 | sag T1 | ax T2", "shortcut": "Ctrl+1",
        "layout": "1x3", "priority": 30, "auto": true,
        "panes": [
          {"label": "sag T2", "orientation": "sagittal", "study": "current",
           "series": [{"modality": "MR", "plane": ["sagittal"], "weighting": ["T2"], "dixon": ["none"]},
                      {"modality": "MR", "plane": ["sagittal"], "weighting": ["STIR"]}]},
          ...]}]}

Each pane lists alternative series rules in order of preference; the first alternative any series of the
pane's study matches fills the pane. A rule names what a series must be (`imaging.protocols.classify`
values: modality, plane, weighting, dixon -- ``"none"`` for a non-Dixon image --, contrast, kernel,
fat_suppressed, roles); lists are both filters and preference orders. ``"reformat": true`` lets a series of
another plane be shown reformatted in the pane's orientation -- a rule of last resort, after every rule
for a real series of that plane. ``study`` is ``"current"`` (the study being read), ``"prior"`` (the
same patient's most recent earlier study with a matching series, else the nearest later one: current |
prior comparison) or ``"same-date"`` (a study of the same patient and date: MR beside CT). ``window``
names a window preset ("Bone") applied to the pane. A pane may be ``"required": false``: the protocol still
fits a study without it (the pane then says what is missing).

The shipped protocols are ``defaults.json`` beside this module; the reader's own protocols (saved from a
layout, or written by hand) live in a file of the same format in the settings folder and come after the
shipped ones (a reader protocol with a shipped protocol's id replaces it). A file that cannot be read is
reported with its path and reason and never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from imaging.protocols.classify import HANGABLE_ROLES, ROLES, WEIGHTINGS, SeriesClass

__all__ = [
    "FORMAT",
    "LAYOUT_PANES",
    "HangingProtocol",
    "Pane",
    "ProtocolError",
    "ProtocolFile",
    "SeriesRule",
    "load_protocol_file",
    "load_protocols",
    "shipped_protocols",
    "unique_id",
    "write_protocol_file",
]

FORMAT = "spinecase-hanging-protocols"
VERSION = 1

#: Number of views of each layout (the view grid's layouts; widgets/mpr.py arranges them).
LAYOUT_PANES: dict[str, int] = {"1x1": 1, "1x2": 2, "1x3": 3, "2x2": 4, "spine": 3}

Orientation = Literal["axial", "sagittal", "coronal"]
StudyRole = Literal["current", "prior", "same-date"]
DIXON_VALUES = ("none", "water", "fat", "in-phase", "opposed-phase")
CONTRAST_VALUES = ("none", "pre", "post")
KERNEL_VALUES = ("bone", "soft", "lung", "none")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_SHORTCUT = re.compile(r"^((Ctrl|Alt|Shift|Meta)\+){0,3}([A-Za-z0-9]|F[1-9]|F1[0-2])$")


class ProtocolError(ValueError):
    """A protocols file that cannot be used; the message names the file and the reason."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeriesRule(_Model):
    """What a series must be to fill a pane (None = any). Lists are filters and preference orders."""

    modality: Annotated[str, Field(max_length=16)] | None = None
    plane: list[Literal["axial", "sagittal", "coronal", "oblique", "unknown"]] | None = None
    weighting: list[str] | None = None
    dixon: list[str] | None = None
    contrast: list[str] | None = None
    kernel: list[str] | None = None
    fat_suppressed: bool | None = None
    roles: list[str] = Field(default_factory=lambda: ["image", "reformat"])
    reformat: bool = False

    @field_validator("weighting")
    @classmethod
    def _weightings(cls, v: list[str] | None) -> list[str] | None:
        return _check_values(v, WEIGHTINGS, "weighting")

    @field_validator("dixon")
    @classmethod
    def _dixon(cls, v: list[str] | None) -> list[str] | None:
        return _check_values(v, DIXON_VALUES, "dixon")

    @field_validator("contrast")
    @classmethod
    def _contrast(cls, v: list[str] | None) -> list[str] | None:
        return _check_values(v, CONTRAST_VALUES, "contrast")

    @field_validator("kernel")
    @classmethod
    def _kernel(cls, v: list[str] | None) -> list[str] | None:
        return _check_values(v, KERNEL_VALUES, "kernel")

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        _check_values(v, ROLES, "role")
        bad = [r for r in v if r not in HANGABLE_ROLES]
        if bad:
            raise ValueError(f"role {bad[0]!r} is never hung (localisers, calibrations and captures)")
        return v

    def matches(self, c: SeriesClass) -> bool:
        """Whether a classified series satisfies every condition of this rule (its plane included unless
        the rule allows a reformat, where ``plane`` filters the source series' plane)."""
        if not c.hangable or c.role not in self.roles:
            return False
        if self.modality is not None and c.modality.upper() != self.modality.upper():
            return False
        if self.plane is not None and c.plane not in self.plane:
            return False
        if self.weighting is not None and c.weighting not in self.weighting:
            return False
        if self.dixon is not None and (c.dixon or "none") not in self.dixon:
            return False
        if self.contrast is not None and c.contrast not in self.contrast:
            return False
        if self.kernel is not None and (c.kernel or "none") not in self.kernel:
            return False
        return self.fat_suppressed is None or c.fat_suppressed == self.fat_suppressed

    def preference(self, c: SeriesClass) -> tuple[int, ...]:
        """Lower is better: the position of the series' values in the rule's preference lists."""

        def rank(values: list[str] | None, value: str) -> int:
            return values.index(value) if values is not None and value in values else 0

        return (rank(self.weighting, c.weighting or ""), rank(self.dixon, c.dixon or "none"),
                rank(self.contrast, c.contrast), rank(self.kernel, c.kernel or "none"),
                0 if c.role == "image" else 1)


def _check_values(v: list[str] | None, allowed: Sequence[str], what: str) -> list[str] | None:
    if v is None:
        return v
    for item in v:
        if item not in allowed:
            raise ValueError(f"unknown {what} {item!r}; expected one of {', '.join(allowed)}")
    return v


class Pane(_Model):
    """One view of a protocol: its plane, the study it shows and the series rules that fill it."""

    label: Annotated[str, Field(max_length=64)] = ""
    orientation: Orientation
    study: StudyRole = "current"
    series: Annotated[list[SeriesRule], Field(min_length=1, max_length=16)]
    window: Annotated[str, Field(max_length=64)] | None = None
    required: bool = True


class HangingProtocol(_Model):
    """A named arrangement of panes in a layout. ``source`` ("shipped"/"user") is set when loaded."""

    id: str
    name: Annotated[str, Field(min_length=1, max_length=80)]
    shortcut: str | None = None
    layout: Literal["1x1", "1x2", "1x3", "2x2", "spine"]
    panes: Annotated[list[Pane], Field(min_length=1, max_length=4)]
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    auto: bool = True
    description: Annotated[str, Field(max_length=400)] = ""
    source: Literal["shipped", "user"] = Field(default="user", exclude=True)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("an id is 1-64 lower-case letters, digits, '.', '_' or '-'")
        return v

    @field_validator("shortcut")
    @classmethod
    def _shortcut(cls, v: str | None) -> str | None:
        if v is not None and not _SHORTCUT.match(v):
            raise ValueError(f"shortcut {v!r} is not a key sequence such as 'Ctrl+1'")
        return v

    @model_validator(mode="after")
    def _panes_fit_layout(self) -> HangingProtocol:
        n = LAYOUT_PANES[self.layout]
        if len(self.panes) != n:
            raise ValueError(f"layout {self.layout} has {n} view(s); the protocol lists {len(self.panes)} pane(s)")
        if not any(p.required for p in self.panes):
            raise ValueError("at least one pane must be required")
        return self

    def pane_studies(self) -> set[str]:
        return {p.study for p in self.panes}


class ProtocolFile(_Model):
    format: Literal["spinecase-hanging-protocols"]
    version: Literal[1]
    protocols: Annotated[list[HangingProtocol], Field(max_length=200)]

    @model_validator(mode="after")
    def _unique_ids(self) -> ProtocolFile:
        seen: set[str] = set()
        for p in self.protocols:
            if p.id in seen:
                raise ValueError(f"protocol id {p.id!r} is used twice")
            seen.add(p.id)
        return self


MAX_FILE_BYTES = 1_000_000


def load_protocol_file(path: str | os.PathLike[str], source: Literal["shipped", "user"] = "user"
                       ) -> list[HangingProtocol]:
    """Read one protocols file. Raises `ProtocolError` naming the file and the reason."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ProtocolError(f"{p}: larger than {MAX_FILE_BYTES // 1000} kB; not a protocols file")
        text = p.read_text(encoding="utf-8")
    except ProtocolError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"{p}: cannot be read ({exc})") from exc
    return _parse(text, str(p), source)


def _parse(text: str, name: str, source: Literal["shipped", "user"]) -> list[HangingProtocol]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    try:
        parsed = ProtocolFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        raise ProtocolError(f"{name}: {where or 'file'}: {first.get('msg', 'invalid')}") from exc
    return [p.model_copy(update={"source": source}) for p in parsed.protocols]


def shipped_protocols() -> list[HangingProtocol]:
    """The protocols shipped with SpineCase (``defaults.json``)."""
    text = resources.files("imaging.protocols").joinpath("defaults.json").read_text(encoding="utf-8")
    return _parse(text, "defaults.json (shipped)", "shipped")


def load_protocols(user_file: str | os.PathLike[str] | None) -> tuple[list[HangingProtocol], list[str]]:
    """The shipped protocols followed by the reader's (a reader protocol with a shipped id replaces it).
    Returns the protocols and the problems found (a missing user file is not a problem)."""
    protocols = shipped_protocols()
    problems: list[str] = []
    if user_file is not None and Path(user_file).exists():
        try:
            own = load_protocol_file(user_file, "user")
        except ProtocolError as exc:
            problems.append(str(exc))
            own = []
        by_id = {p.id: i for i, p in enumerate(protocols)}
        for p in own:
            if p.id in by_id:
                protocols[by_id[p.id]] = p
            else:
                protocols.append(p)
    return protocols, problems


def write_protocol_file(path: str | os.PathLike[str], protocols: Iterable[HangingProtocol]) -> None:
    """Write the reader's protocols file atomically (temporary file, fsync, replace). Refuses (ProtocolError)
    to replace an existing file that is not a valid protocols file: the reader's work is never lost."""
    p = Path(path)
    if p.exists():
        load_protocol_file(p)  # raises ProtocolError for a file we must not overwrite
    items = [q for q in protocols if q.source == "user"]
    data = ProtocolFile(format=FORMAT, version=VERSION, protocols=items).model_dump(mode="json",
                                                                                    exclude_defaults=False)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def unique_id(name: str, taken: Iterable[str]) -> str:
    """A protocol id made from ``name`` that is not in ``taken`` ("My spine" -> "my-spine", "my-spine-2")."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50] or "protocol"
    if not base[0].isalnum():
        base = "p" + base
    used = set(taken)
    candidate, n = base, 2
    while candidate in used:
        candidate = f"{base}-{n}"
        n += 1
    return candidate


