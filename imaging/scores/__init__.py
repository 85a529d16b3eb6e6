"""Scores and grades: one spec per assessment, per finding or per case, registered by its key (Qt-free).

A score spec says what the reader answers (a pydantic model of the answers), where the answers are stored,
what the result is (a total and its category, or a grade), which published source defines it, and how the
exports write it (CSV columns, SR items). The built-in scores are the Bilsky ESCC grade and SINS, per
finding (:mod:`imaging.scores.bilsky`, :mod:`imaging.scores.sins`); their answers keep their own fields of
:class:`~imaging.case.model.Finding` (``bilsky``, ``sins``). A score registered later stores its answers as an
:class:`~imaging.case.model.Assessment` in ``Finding.assessments`` or, for a case-level score such as
Tokuhashi's, in ``Case.assessments`` -- so a new score is one module and one registry entry, with no schema
change::

    from imaging.scores import ScoreResult, ScoreSpec, Source, register_score

    class Tokuhashi(ScoreSpec):
        key, name, scope = "tokuhashi", "Tokuhashi score", "case"
        answers_model = TokuhashiAnswers          # a pydantic model
        source = Source("Tokuhashi Y, Matsuzaki H, Oda H, et al.", "...", "Spine", 2005, "10.1097/...")
        def result(self, answers, owner, case): ...

    register_score(Tokuhashi())

:func:`answers_of` reads a score's answers from a finding or a case, :func:`with_answers` gives a finding
holding new answers (for an undoable replace), ``Case.set_assessment`` sets a case-level score's answers.
Research software, not a diagnostic device.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

from imaging.coding import Code

if TYPE_CHECKING:  # pragma: no cover - the model imports this module
    from imaging.case.model import Case, Finding

__all__ = [
    "BUILTIN_SCORE_ORDER",
    "CsvColumn",
    "ScoreResult",
    "ScoreSpec",
    "Source",
    "SrCoded",
    "SrNumeric",
    "answers_of",
    "register_score",
    "registered_scores",
    "result_of",
    "score_keys",
    "score_spec",
    "unregister_score",
    "with_answers",
]

Scope = Literal["finding", "case"]


@dataclass(frozen=True)
class Source:
    """The publication that defines a score: its one place, cited wherever the score is shown."""

    authors: str
    title: str
    journal: str
    year: int
    doi: str
    volume_pages: str = ""

    @property
    def citation(self) -> str:
        """``"Fisher CG, ... A novel classification ... Spine 2010;35(22):E1221-E1229. doi:10..."``."""
        where = f"{self.journal} {self.year}" + (f";{self.volume_pages}" if self.volume_pages else "")
        return f"{self.authors} {self.title}. {where}. doi:{self.doi}"


@dataclass(frozen=True)
class ScoreResult:
    """A computed score: ``value`` (a total, or a grade string), ``text`` for lists ("9 (potentially
    unstable (indeterminate))", "1c"), its ``category`` ("" when none) and ``unit`` ("score" for totals)."""

    value: float | int | str
    text: str
    category: str = ""
    unit: str = ""


@dataclass(frozen=True)
class CsvColumn:
    """A column a score adds to its scope's CSV (the findings CSV for a finding score): its ``name``, whether
    it is ``numeric`` (written as a number, never neutralised) and ``value(answers, result)`` (None: blank)."""

    name: str
    value: Callable[[Any, ScoreResult | None], object]
    numeric: bool = False


@dataclass(frozen=True)
class SrNumeric:
    """A numeric SR item (TID 300 measurement): concept, value and UCUM unit code."""

    concept: Code
    value: float
    unit: Code


@dataclass(frozen=True)
class SrCoded:
    """A coded SR item (qualitative evaluation): concept and coded value."""

    concept: Code
    value: Code


class ScoreSpec:
    """The spec of one score or grade. Subclass it, set the class attributes, implement :meth:`result`, then
    :func:`register_score` an instance.

    ``key`` (lower case, unique), ``name`` ("SINS"), ``full_name``, ``scope`` ("finding" or "case"),
    ``answers_model`` (a pydantic model; every field optional, so a partly answered score can be stored),
    ``source``, ``stored_in`` (the built-in scores' own field on the finding; None: an :class:`Assessment` in
    the owner's ``assessments``), ``csv_columns``.
    """

    key: ClassVar[str] = ""
    name: ClassVar[str] = ""
    full_name: ClassVar[str] = ""
    scope: ClassVar[Scope] = "finding"
    answers_model: ClassVar[type[BaseModel]] = BaseModel
    source: ClassVar[Source | None] = None
    stored_in: ClassVar[str | None] = None
    csv_columns: ClassVar[tuple[CsvColumn, ...]] = ()

    def __repr__(self) -> str:
        return f"<score {self.key!r} ({self.scope})>"

    def empty(self) -> BaseModel:
        """The answers of a score nobody has answered yet."""
        return self.answers_model()

    def result(self, answers: Any, owner: Finding | Case, case: Case | None) -> ScoreResult | None:
        """The computed score, or None while answers it needs are missing. ``owner`` is the finding (or the
        case) the answers belong to; ``case`` the whole case (for scores that read other findings)."""
        raise NotImplementedError(f"score {self.key!r} does not compute its result")

    def missing(self, answers: Any, owner: Finding | Case) -> list[str]:
        """Titles of what is still unanswered (default: the answers' fields that are None)."""
        return [self.answers_model.model_fields[name].title or name.replace("_", " ").capitalize()
                for name in self.answers_model.model_fields if getattr(answers, name, None) is None]

    def sr_items(self, answers: Any, result: ScoreResult | None) -> list[SrNumeric | SrCoded]:
        """What the DICOM SR records of this score (default: nothing)."""
        return []


# -- reading and writing answers ---------------------------------------------------------------------------
def answers_of(spec: ScoreSpec | str, owner: Finding | Case) -> Any:
    """The answers of ``spec`` held by ``owner`` (a finding, or the case for a case-level score); the empty
    answers when none were given."""
    spec = score_spec(spec) if isinstance(spec, str) else spec
    if spec.stored_in is not None:
        return getattr(owner, spec.stored_in)
    entry = next((a for a in owner.assessments if a.score == spec.key), None)
    return spec.answers_model.model_validate(entry.answers) if entry is not None else spec.empty()


def with_answers(finding: Finding, spec: ScoreSpec | str, answers: BaseModel, *, reader: str = "") -> Finding:
    """A copy of ``finding`` holding ``answers`` for the finding score ``spec`` (put it in the case with an
    undoable replace)."""
    from imaging.case.model import Assessment, utc_now

    spec = score_spec(spec) if isinstance(spec, str) else spec
    if spec.scope != "finding":
        raise ValueError(f"{spec.name} is a {spec.scope}-level score, not a finding's")
    answers = spec.answers_model.model_validate(answers.model_dump())
    if spec.stored_in is not None:
        return finding.model_copy(update={spec.stored_in: answers})
    entry = Assessment(score=spec.key, answers=answers.model_dump(mode="json"), reader=reader, assessed_utc=utc_now())
    others = [a for a in finding.assessments if a.score != spec.key]
    return finding.model_copy(update={"assessments": [*others, entry]})


# -- the registry ----------------------------------------------------------------------------------------------
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SCORES: dict[str, ScoreSpec] = {}
BUILTIN_SCORE_ORDER = ("bilsky", "sins")
_builtins_loaded = False
_lock = threading.RLock()


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _lock:
        if _builtins_loaded:
            return
        _builtins_loaded = True
        import imaging.scores.bilsky
        import imaging.scores.sins  # noqa: F401 - registers the built-in scores


def register_score(spec: ScoreSpec, *, replace: bool = False) -> ScoreSpec:
    """Add a score to the registry (returns it). ValueError for a malformed spec or a key already taken."""
    if not isinstance(spec, ScoreSpec):
        raise TypeError(f"register_score needs a ScoreSpec, got {type(spec).__name__}")
    _load_builtins()
    if not _KEY.match(spec.key):
        raise ValueError(f"a score key is lower-case letters, digits and _ (at most 40), got {spec.key!r}")
    if spec.scope not in ("finding", "case"):
        raise ValueError(f"score {spec.key!r} has scope {spec.scope!r}; expected 'finding' or 'case'")
    if not spec.name or spec.source is None:
        raise ValueError(f"score {spec.key!r} needs a name and its published source")
    if spec.stored_in is not None and spec.key not in BUILTIN_SCORE_ORDER:
        raise ValueError(f"score {spec.key!r}: only the built-in scores have fields of their own (stored_in)")
    try:
        spec.empty()
    except Exception as exc:  # noqa: BLE001 - any failure means the model cannot hold unanswered scores
        raise ValueError(f"score {spec.key!r}: its answers model needs a default for every field ({exc})") from None
    with _lock:
        if spec.key in _SCORES and not replace:
            raise ValueError(f"score {spec.key!r} is already registered")
        _SCORES[spec.key] = spec
    return spec


def unregister_score(key: str) -> None:
    """Remove a score (tests that register their own). Assessments of it no longer validate."""
    with _lock:
        _SCORES.pop(key, None)


def score_spec(key: str) -> ScoreSpec:
    """The registered score ``key``; ValueError naming the known scores when there is none."""
    _load_builtins()
    try:
        return _SCORES[key]
    except (KeyError, TypeError):
        raise ValueError(f"unknown score {key!r}; known scores: {', '.join(_SCORES)}") from None


def registered_scores(scope: Scope | None = None) -> tuple[ScoreSpec, ...]:
    """The registered scores (of one ``scope``), built-in first, then in registration order."""
    _load_builtins()
    with _lock:
        specs = list(_SCORES.values())
    rank = {key: i for i, key in enumerate(BUILTIN_SCORE_ORDER)}
    ordered = sorted(specs, key=lambda s: rank.get(s.key, len(rank)))
    return tuple(s for s in ordered if scope is None or s.scope == scope)


def score_keys(scope: Scope | None = None) -> tuple[str, ...]:
    return tuple(s.key for s in registered_scores(scope))


def result_of(spec: ScoreSpec | str, owner: Finding | Case, case: Case | None = None) -> ScoreResult | None:
    """The score's result for ``owner`` (None while incomplete)."""
    spec = score_spec(spec) if isinstance(spec, str) else spec
    return spec.result(answers_of(spec, owner), owner, case)
