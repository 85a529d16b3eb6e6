"""The export registry (imaging.case.exports, app.exports): `spinecase export` flags come from it, so an export
registered in one place is a command-line flag (and a File > Export item: tests/test_case_gui.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main as cli_main
from app.exports import export_specs
from imaging.case.exports import (
    ExportJob,
    ExportSpec,
    cli_groups,
    export_spec,
    register_export,
    spec_for_flag,
    unregister_export,
)
from imaging.case.store import atomic_write, save_case
from tests.test_case_factory import make_case


def test_the_exports_in_menu_order_with_their_flags() -> None:
    assert [s.key for s in export_specs()][:6] == ["csv", "findings_csv", "followup_csv", "sr", "html", "pdf"]
    groups = cli_groups(export_specs())
    assert list(groups)[:5] == ["--csv", "--findings-csv", "--followup", "--sr", "--report"]
    report = groups["--report"]
    assert spec_for_flag(report, Path("r.pdf")).key == "pdf" and spec_for_flag(report, Path("r.PDF")).key == "pdf"
    assert spec_for_flag(report, Path("r.html")).key == "html" and spec_for_flag(report, Path("r.htm")).key == "html"
    with pytest.raises(ValueError, match="unknown export 'xls'"):
        export_spec("xls")
    with pytest.raises(ValueError, match="unusable command-line flag"):
        register_export(ExportSpec("bad", "bad", "&Bad", ".x", "", "--search", "", lambda job: []))


def _write_labels(job: ExportJob) -> list[str]:
    atomic_write(job.out, "\n".join(lab.label for lab in job.case.vertebral_labels).encode("utf-8"))
    return ["labels only"]


@pytest.fixture
def labels_export() -> Iterator[ExportSpec]:
    spec = register_export(ExportSpec("labels", "level labels", "&Level Labels\u2026", "-labels.txt", "Text (*.txt)",
                                      "--labels", "the vertebral labels, one a line", _write_labels))
    yield spec
    unregister_export(spec.key)


def test_a_registered_export_is_a_command_line_flag(labels_export: ExportSpec, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    case = make_case()
    path = save_case(case, tmp_path / "c.spinecase.json")
    assert cli_main(["export", str(path), "--labels", str(tmp_path / "l.txt"), "--csv", str(tmp_path / "m.csv")]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"wrote {tmp_path / 'm.csv'}", f"wrote {tmp_path / 'l.txt'}"]
    assert "  labels only" in err
    assert (tmp_path / "l.txt").read_text(encoding="utf-8").split("\n") == [lab.label for lab in case.vertebral_labels]
    assert cli_main(["export", str(path)]) == 2
    assert "give --csv, --findings-csv, --followup, --sr, --report and/or --labels" in capsys.readouterr().err


def test_a_registered_export_is_a_file_export_menu_item(labels_export: ExportSpec, qtbot, tmp_path: Path) -> None:
    from tests.test_case_gui import close_quietly, make_window

    w, feature = make_window(qtbot, tmp_path)
    try:
        labels = [a.text().replace("&", "") for a in feature.export_menu.actions()]
        assert labels[-1] == "Level Labels\u2026" and labels[:6] == [
            "Measurements CSV\u2026", "Findings CSV\u2026", "Follow-up CSV\u2026", "DICOM SR\u2026",
            "HTML Report\u2026", "PDF Report\u2026"]
        w.case.set_case(make_case())
        feature.prompts.answers["save_path"] = str(tmp_path / "l.txt")
        with qtbot.waitSignal(feature.exported, timeout=10_000):
            feature.export_actions["labels"].trigger()
        assert (tmp_path / "l.txt").read_text(encoding="utf-8").startswith(w.case.case.vertebral_labels[0].label)
        assert w.message_bar.messages()[-1][1].startswith("Exported the level labels to ")
    finally:
        close_quietly(w)
