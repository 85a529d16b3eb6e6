"""Pull a study (or some of its series) from a PACS into the local cache: resumable and verified. Qt-free.

For each series: the PACS lists its instances; a series already complete in the cache with the same
SOPInstanceUIDs is not fetched again; otherwise only the instances not yet received are retrieved (all of
the series in one request when none is), each checked as it arrives, and the series is committed to the
cache (:mod:`imaging.pacs.cache`) only when every listed instance is there and the PACS still lists the
same set afterwards. Anything else leaves the series out of the study folder, kept aside for resuming, with
a message that says what happened. ``progress(done, total)`` counts instances over the whole pull;
``cancel()`` stops it (:class:`~imaging.pacs.errors.PacsCancelled`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imaging.pacs.cache import SeriesManifest, StudyCache
from imaging.pacs.client import PacsClient
from imaging.pacs.errors import PacsCancelled, PacsIncomplete, PacsNotFound
from imaging.pacs.records import InstanceRecord, SeriesRecord, check_uid

__all__ = ["PullResult", "SeriesPull", "pull_series", "pull_study"]

Progress = Callable[[int, int], None]


@dataclass
class SeriesPull:
    """What happened to one series: ``status`` is "cached" (already complete here), "retrieved", or
    "failed" (``error`` says why; nothing of it is presented as complete)."""

    series: SeriesRecord
    status: str
    manifest: SeriesManifest | None = None
    error: str | None = None

    @property
    def folder(self) -> Path | None:
        return self.manifest.folder if self.manifest is not None else None


@dataclass
class PullResult:
    study_uid: str
    study_dir: Path
    series: list[SeriesPull] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.series)

    @property
    def failed(self) -> list[SeriesPull]:
        return [s for s in self.series if s.status == "failed"]


def _never() -> bool:
    return False


def pull_series(client: PacsClient, cache: StudyCache, series: SeriesRecord, instances: list[InstanceRecord],
                on_instance: Callable[[str], None] | None = None, cancel: Callable[[], bool] = _never
                ) -> SeriesManifest:
    """Retrieve one series (its listed ``instances``) into the cache and commit it; see the module
    docstring. Raises :class:`PacsIncomplete`, :class:`PacsCancelled` or another :class:`PacsError`."""
    expected = [check_uid(i.sop_uid, "SOPInstanceUID") for i in instances]
    if not expected:
        raise PacsNotFound(f"series {series.series_uid} has no instances on {client.server.name}")
    transfer = cache.begin(series.study_uid, series.series_uid, on_instance)
    have = transfer.have()
    missing = [u for u in expected if u not in have]
    if missing:
        # The whole series in one request when nothing (or nearly nothing) is here yet; else only the gaps.
        want = None if len(missing) > 0.8 * len(expected) else missing

        def sink(data: bytes) -> None:
            transfer.add(data)

        try:
            client.retrieve(series.study_uid, series.series_uid, want, sink, cancel)
        except (PacsIncomplete, PacsNotFound) as exc:
            raise type(exc)(f"series {series.series_uid} did not arrive whole ({exc}); the {transfer.count} of "
                            f"{len(expected)} instance(s) received are kept aside and the series is not marked "
                            "complete: pull again") from None
    if cancel():
        raise PacsCancelled(f"retrieval of series {series.series_uid} cancelled")
    after = {i.sop_uid for i in client.find_instances(series.study_uid, series.series_uid)}
    if after != set(expected):
        gone, new = set(expected) - after, after - set(expected)
        raise PacsIncomplete(
            f"series {series.series_uid} changed on {client.server.name} during the transfer ("
            + ", ".join(p for p in (f"{len(gone)} instance(s) deleted" if gone else "",
                                    f"{len(new)} added" if new else "") if p)
            + f"); {transfer.count} received are kept aside and the series is not marked complete: pull again")
    return transfer.commit(expected, modality=series.modality, description=series.description,
                           server=client.server.name, protocol=client.protocol)


def pull_study(client: PacsClient, cache: StudyCache, study_uid: str, series_uids: Sequence[str] | None = None,
               progress: Progress | None = None, cancel: Callable[[], bool] = _never,
               on_series: Callable[[SeriesPull], None] | None = None,
               order: Callable[[SeriesRecord], Any] | None = None) -> PullResult:
    """Pull the study's series (or only ``series_uids``) into ``cache``; see the module docstring.

    ``on_series`` is called as each series is done (cached, retrieved or failed), so a viewer can open the
    first one while the others arrive; ``order`` sorts the series (default: as the PACS lists them). A
    series that did not arrive whole (or vanished) does not stop the others; a cancel stops the pull (raises
    :class:`PacsCancelled`), and so do errors of the server itself (unreachable, credentials refused).
    Raises :class:`PacsNotFound` when the study or a named series is not on the server."""
    check_uid(study_uid, "StudyInstanceUID")
    listed = client.find_series(study_uid)
    if not listed:
        raise PacsNotFound(f"study {study_uid} is not on {client.server.name} (or has no series)")
    if series_uids is not None:
        by_uid = {s.series_uid: s for s in listed}
        unknown = [u for u in series_uids if u not in by_uid]
        if unknown:
            raise PacsNotFound(f"series {', '.join(unknown)} of study {study_uid} not on {client.server.name}")
        chosen = [by_uid[u] for u in dict.fromkeys(series_uids)]
    else:
        chosen = list(listed)
    if order is not None:
        chosen.sort(key=order)
    result = PullResult(study_uid, cache.study_dir(study_uid))
    plans: list[tuple[SeriesRecord, list[InstanceRecord]]] = []
    for s in chosen:
        if cancel():
            raise PacsCancelled("retrieval cancelled")
        try:
            plans.append((s, client.find_instances(study_uid, s.series_uid)))
        except PacsNotFound:  # gone since the series were listed: that series fails below, the others go on
            plans.append((s, []))
    total = sum(len(i) for _, i in plans)
    done = 0

    def report() -> None:
        if progress is not None:
            progress(done, total)

    report()
    for series, instances in plans:
        if cancel():
            raise PacsCancelled("retrieval cancelled")
        try:
            cached = cache.complete_series(study_uid, series.series_uid)
        except ValueError:
            cached = None  # not a UID: pull_series refuses it below
        if cached is not None and cached.sop_uids == {i.sop_uid for i in instances}:
            outcome = SeriesPull(series, "cached", cached)
            done += len(instances)
            report()
        else:
            # what an interrupted earlier pull left counts as done; progress then counts the arrivals
            try:
                already = cache.begin(study_uid, series.series_uid).have() & {i.sop_uid for i in instances}
            except ValueError:
                already = set()
            done += len(already)
            report()
            start = done - len(already)
            arrived: set[str] = set(already)

            def counted(sop: str, start: int = start, arrived: set[str] = arrived) -> None:
                nonlocal done
                arrived.add(sop)
                done = start + len(arrived)
                report()

            try:
                manifest = pull_series(client, cache, series, instances, counted, cancel)
                outcome = SeriesPull(series, "retrieved", manifest)
            except (PacsIncomplete, PacsNotFound) as exc:  # this series only; the server is fine
                outcome = SeriesPull(series, "failed", error=str(exc))
            except ValueError as exc:  # the PACS listed something that is not a UID: never a path here
                outcome = SeriesPull(series, "failed", error=f"series {series.series_uid!r}: {exc}")
            if done != start + len(instances):
                done = start + len(instances)
                report()
        result.series.append(outcome)
        if on_series is not None:
            on_series(outcome)
    return result
