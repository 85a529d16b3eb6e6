"""File > Open from PACS and File > Send to PACS, driven with real mouse and key events against the sample
Orthanc: search, the study's series and stored SRs (reader, date, grades), retrieve that opens the study,
a cancel halfway over a slow link while the window keeps answering, a server that is down, reader agreement
over the selected studies, and sending the case's SR."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

import widgets  # noqa: F401 - PySide6/Python 3.11 workaround
from imaging.pacs import ServerStore, StudyCache, open_client
from tests.pacs_fixtures import THORACIC_CT_SERIES, THORACIC_CT_STUDY, SamplePacs
from tests.pacs_servers import SAMPLES, TcpRelay, free_port

CASE = SAMPLES / "thoracic_ddlps" / "case.spinecase.json"


@pytest.fixture
def window(qtbot, tmp_path: Path, sample_server_name: str):  # noqa: ANN201
    from app import feature_case, feature_pacs
    from app.main_window import MainWindow
    from app.settings import Settings

    w = MainWindow(settings=Settings(tmp_path / "settings.ini"), restore_state=False, install_features=False)
    feature_case.install(w)
    feature_pacs.install(w)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.pacs_feature.cancel()
    w.jobs.cancel_all()
    w.wait_until_idle(30)
    if w.pacs_feature.dialog is not None:
        w.pacs_feature.dialog.close()


def click(qtbot, tree: QTreeWidget, item: QTreeWidgetItem, modifier=Qt.NoModifier) -> None:  # noqa: ANN001
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.LeftButton, modifier, tree.visualItemRect(item).center())


def study_item(tree: QTreeWidget, accession: str) -> QTreeWidgetItem:
    for i in range(tree.topLevelItemCount()):
        if tree.topLevelItem(i).text(3) == accession:
            return tree.topLevelItem(i)
    raise AssertionError(f"no study with accession {accession}")


def search(qtbot, dialog, patient_id: str = "", rows: int | None = None) -> None:  # noqa: ANN001
    dialog.patient_id.clear()
    if patient_id:
        qtbot.keyClicks(dialog.patient_id, patient_id)
    qtbot.mouseClick(dialog.search_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=20000)
    if rows is not None:
        assert dialog.results.topLevelItemCount() == rows, dialog.status.text()


@pytest.fixture
def pushed_sr(sample_pacs: SamplePacs, tmp_path: Path):  # noqa: ANN201
    from imaging.case.export_sr import write_sr
    from imaging.case.store import load_case
    from imaging.pacs.push import push_files, read_push_file

    write_sr(load_case(CASE), CASE, tmp_path / "sr.dcm")
    item = read_push_file(tmp_path / "sr.dcm")
    assert push_files(open_client(sample_pacs.server()), [item]).ok
    yield item
    sample_pacs.orthanc.delete(item.series_uid)


def test_search_series_annotations_and_retrieve_opens_the_study(qtbot, window, pushed_sr) -> None:
    window.pacs_feature.act_open.trigger()
    dialog = window.pacs_feature.dialog
    assert dialog.isVisible() and dialog.server_name() == "orthanc"
    search(qtbot, dialog, "SPC-PH-000", rows=5)
    ct = study_item(dialog.results, "PH0001")
    assert ct.text(4) == "CT/SR" and ct.text(1) == "PHANTOM, THORACIC T6"
    click(qtbot, dialog.results, ct)
    qtbot.waitUntil(lambda: len(dialog.series_rows(THORACIC_CT_STUDY)) == 2, timeout=20000)
    assert dialog.series_rows(THORACIC_CT_STUDY) == [("CT", "Ax 1.25mm Spine", "146"),
                                                    ("SR", "SpineCase measurements (research, not diagnostic)", "1")]
    qtbot.waitUntil(lambda: dialog.annotation_rows() != [], timeout=20000)
    [row] = dialog.annotation_rows()
    # the lesion's own (pre-operative) grade; its post-operative grade 0 is a follow-up timepoint's
    assert row[0] == "reference" and row[3] == "3 at T5-T6" and row[5] == "SpineCase"
    assert "1 SR" in dialog.annotations_label.text()

    qtbot.mouseClick(dialog.retrieve_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.current_volume() is not None and not dialog.is_busy(), timeout=60000)
    volume = window.current_volume()
    assert volume.shape[0] == 146 and volume.metadata.series_instance_uid == THORACIC_CT_SERIES
    cache = StudyCache()
    assert Path(volume.metadata.files[0]).parent == cache.series_dir(THORACIC_CT_STUDY, THORACIC_CT_SERIES)
    assert "2 series in the local cache (147 images)" in dialog.status.text()

    # the stored SR: "open into case" goes through the SR import (a clear message while it does not exist)
    click(qtbot, dialog.annotations, dialog.annotations.topLevelItem(0))
    qtbot.mouseClick(dialog.open_annotation_button, Qt.LeftButton)
    if importlib.util.find_spec("imaging.case.sr_import") is None:
        assert any("SR import is not available yet" in text for _, text in window.message_bar.messages())


def test_cancel_halfway_over_a_slow_link_keeps_the_window_responsive(qtbot, window, sample_pacs: SamplePacs) -> None:
    slow = TcpRelay(sample_pacs.orthanc.http_port, bytes_per_second=3_000_000).start()
    try:
        ServerStore().add(sample_pacs.server("slow", url=f"http://127.0.0.1:{slow.port}/dicom-web",
                                             prefer="dicomweb"))
        dialog = window.pacs_feature.open_dialog()
        dialog.server.setCurrentText("slow")
        search(qtbot, dialog, "SPC-PH-000", rows=5)
        click(qtbot, dialog.results, study_item(dialog.results, "PH0001"))
        window.wait_until_idle(20)
        qtbot.mouseClick(dialog.retrieve_button, Qt.LeftButton)
        assert dialog.is_busy() and dialog.cancel_button.isVisible()
        qtbot.waitUntil(lambda: dialog.progress.value() >= 10, timeout=30000)
        # the window answers while the images arrive: typing lands at once
        qtbot.keyClicks(dialog.patient_name, "DOE*")
        assert dialog.patient_name.text() == "DOE*"
        assert dialog.progress.value() < 146
        qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=30000)
        assert "cancelled" in dialog.status.text()
        cache = StudyCache()
        assert cache.complete_series(THORACIC_CT_STUDY, THORACIC_CT_SERIES) is None
        assert window.current_volume() is None  # nothing half-retrieved is shown
        # resume over the fast route: only the rest travels, then the study opens
        dialog.server.setCurrentText("orthanc")
        qtbot.mouseClick(dialog.retrieve_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: window.current_volume() is not None and not dialog.is_busy(), timeout=60000)
        assert window.current_volume().shape[0] == 146
    finally:
        slow.stop()


def test_server_down_is_a_message_in_the_dialog(qtbot, window, sample_pacs: SamplePacs) -> None:
    port = free_port()
    ServerStore().add(sample_pacs.server("down", url=f"http://127.0.0.1:{port}/dicom-web", port=port,
                                         prefer="dicomweb"))
    dialog = window.pacs_feature.open_dialog()
    dialog.server.setCurrentText("down")
    search(qtbot, dialog)
    assert "cannot connect" in dialog.status.text() and "down" in dialog.status.text()
    assert dialog.search_button.isEnabled() and dialog.results.topLevelItemCount() == 0
    qtbot.keyClicks(dialog.dates, "2024-02-30")
    qtbot.mouseClick(dialog.search_button, Qt.LeftButton)
    assert "Search not sent" in dialog.status.text() and "not a calendar date" in dialog.status.text()


def test_compare_readers_over_the_selected_studies(qtbot, window, sample_pacs: SamplePacs, tmp_path: Path) -> None:
    from imaging.case.export_sr import write_sr
    from imaging.case.store import load_case
    from imaging.pacs.push import push_files, read_push_file
    from tests.test_pacs_agreement import STUDIES, reader_sr

    write_sr(load_case(CASE), CASE, tmp_path / "base.dcm")
    from pydicom import dcmread

    base = dcmread(tmp_path / "base.dcm")
    grades = {("S1", "A"): "3", ("S1", "B"): "3", ("S2", "A"): "2", ("S2", "B"): "3"}
    srs = [reader_sr(base, r, g, STUDIES[s], "20240601") for (s, r), g in grades.items()]
    for i, ds in enumerate(srs):
        ds.save_as(tmp_path / f"r{i}.dcm", enforce_file_format=True)
    items = [read_push_file(tmp_path / f"r{i}.dcm") for i in range(len(srs))]
    assert push_files(open_client(sample_pacs.server()), items).ok
    try:
        dialog = window.pacs_feature.open_dialog()
        search(qtbot, dialog, rows=11)
        click(qtbot, dialog.results, study_item(dialog.results, "PH0001"))
        click(qtbot, dialog.results, study_item(dialog.results, "PH0011"), Qt.ControlModifier)
        assert sorted(dialog.selected_study_uids()) == sorted([STUDIES["S1"], STUDIES["S2"]])
        window.wait_until_idle(20)
        qtbot.mouseClick(dialog.agreement_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: window.pacs_feature.agreement_dialog is not None, timeout=30000)
        report = window.pacs_feature.agreement_dialog.report.toPlainText()
        assert "between 2 readers: Reader A, Reader B" in report and "Percent agreement: 50.0%" in report
        table = window.pacs_feature.agreement_dialog.tables[0]
        assert table.item(5, 5).text() == "1" and table.item(4, 5).text() == "1"  # (3,3) and (2,3)
    finally:
        for ds in srs:
            sample_pacs.orthanc.delete(ds.SeriesInstanceUID)


def test_send_to_pacs_stores_the_cases_sr(qtbot, window, sample_pacs: SamplePacs) -> None:
    assert window.case_feature.open_case(CASE)
    window.wait_until_idle(60)
    client = open_client(sample_pacs.server())
    before = {s.series_uid for s in client.find_series(THORACIC_CT_STUDY)}
    job = window.pacs_feature.send_to_pacs("orthanc")
    assert job is not None
    window.wait_until_idle(60)
    added = [s for s in client.find_series(THORACIC_CT_STUDY) if s.series_uid not in before]
    try:
        assert [s.modality for s in added] == ["SR"]
        assert any("Sent to orthanc: SR (study " in text for _, text in window.message_bar.messages())
    finally:
        for s in added:
            sample_pacs.orthanc.delete(s.series_uid)
