"""The five sample cases, each modelled on one published case report (cited in each case's ``citation``).

`build_case` makes the volumes and truth in memory; `write_case` writes DICOM, ``report.json`` (the
report's data, quoted as the article states it) and ``truth.json`` (what the generator built).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from imaging.volume import Volume, VolumeMetadata
from tools.phantom import dicom_io
from tools.phantom.anatomy import LEVEL_ORDER, SpineModel
from tools.phantom.appearance import lesion_values
from tools.phantom.dicom_io import PatientInfo, SeriesHeader, StudyInfo, phantom_uid
from tools.phantom.raster import CanalModel, canal_geometry, part_frame
from tools.phantom.scene import EpiduralExtension, Lesion, LesionPart, Scene
from tools.phantom.series import PhantomSeries, SeriesSpec, make_volume, render_series
from tools.phantom.truth import compression_contours, lesion_extent

GENERATOR_VERSION = "1.0"

CASE_NAMES: tuple[str, ...] = (
    "thoracic_ddlps",
    "l1_lipomatous_metastasis",
    "retroperitoneal_ddlps",
    "myxoid_marrow_metastases",
    "cervical_alt_metastases",
)


@dataclass(frozen=True)
class StudyDef:
    key: str
    description: str
    date: str
    time: str
    modality: str


@dataclass(frozen=True)
class CaseDef:
    """Everything that defines a sample case."""

    name: str
    seed: int
    patient: PatientInfo
    studies: tuple[StudyDef, ...]
    series: tuple[SeriesSpec, ...]
    scenes: dict[str, Scene]
    bilsky_level: str
    bilsky_scene: str
    report: dict[str, object]
    notes: tuple[str, ...] = ()
    follow_up: dict[str, object] = field(default_factory=dict)
    """The case's timepoints for ``truth.json``'s "follow_up" (empty: none): ``timepoints`` (study date
    ``YYYYMMDD``, the article's name for it, its CID 6146 kind), ``same_lesion`` (a lesion id -> the id of the
    lesion it continues in another scene, e.g. a residual after surgery), ``resection_date`` (``YYYYMMDD``,
    the resection local recurrences recurred after), ``recist_targets`` (lesion ids) and ``unchanged`` (what
    the article says did not change)."""


@dataclass
class PhantomCase:
    """A built case: its definition, the series (by key, in definition order) and the truth dict."""

    definition: CaseDef
    series: dict[str, PhantomSeries]
    truth: dict[str, object]
    uids: dict[str, object] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Protocols
# --------------------------------------------------------------------------------------------------

def _ctdi_phantom() -> list[Dataset]:
    item = Dataset()
    item.CodeValue = "113691"
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = "IEC Body Dosimetry Phantom"
    return [item]


def _ct_acq(fov: float) -> dict[str, object]:
    return {
        "ScanOptions": "HELICAL MODE", "KVP": "120", "DataCollectionDiameter": "500",
        "ReconstructionDiameter": dicom_io._fmt(fov), "DistanceSourceToDetector": "1085.6",
        "DistanceSourceToPatient": "595", "GantryDetectorTilt": "0", "TableHeight": "160",
        "RotationDirection": "CW", "ExposureTime": "500", "XRayTubeCurrent": 240, "Exposure": 120,
        "FilterType": "BODY FILTER", "GeneratorPower": 29, "FocalSpots": "1.2", "ConvolutionKernel": "STANDARD",
        "RevolutionTime": 0.5, "SingleCollimationWidth": 0.625, "TotalCollimationWidth": 40.0,
        "TableFeedPerRotation": 36.0, "SpiralPitchFactor": 0.9, "CTDIvol": 14.2,
        "CTDIPhantomTypeCodeSequence": _ctdi_phantom(),
    }


def _mr_acq(weighting: str, orientation: str, rows: int, cols: int) -> dict[str, object]:
    if weighting == "T1":
        tr, te, etl, seq = "550", "10", 3, "*tse2d1_3"
    elif orientation == "axial":
        tr, te, etl, seq = "4200", "100", 17, "*tse2d1_17"
    else:
        tr, te, etl, seq = "3500", "96", 15, "*tse2d1_15"
    return {
        "ScanningSequence": "SE", "SequenceVariant": ["SK", "SP", "OSP"], "ScanOptions": "PFP",
        "MRAcquisitionType": "2D", "SequenceName": seq, "AngioFlag": "N", "RepetitionTime": tr, "EchoTime": te,
        "EchoTrainLength": etl, "NumberOfAverages": "2", "ImagingFrequency": "63.676", "ImagedNucleus": "1H",
        "EchoNumbers": "1", "MagneticFieldStrength": "1.5", "NumberOfPhaseEncodingSteps": int(cols * 0.8),
        "PercentSampling": "100", "PercentPhaseFieldOfView": "100", "PixelBandwidth": "190",
        "ReceiveCoilName": "Spine", "TransmitCoilName": "Body", "AcquisitionMatrix": [rows, 0, 0, int(cols * 0.8)],
        "InPlanePhaseEncodingDirection": "ROW", "FlipAngle": "150", "VariableFlipAngleFlag": "N", "SAR": "1.1",
        "dBdt": "0",
    }


def _ct(key: str, study: str, desc: str, top: str, bottom: str, fov: float, spacing: float, number: int,
        body_part: str, matrix: int = 256, scene: str = "default", offset: tuple[float, float] = (0.0, 0.0)
        ) -> SeriesSpec:
    return SeriesSpec(key=key, study=study, modality="CT", orientation="axial", description=desc, rows=matrix,
                      cols=matrix, fov=fov, thickness=spacing, spacing=spacing, top=top, bottom=bottom,
                      number=number, protocol=desc, body_part=body_part, scene=scene, centre_offset=offset,
                      acq=_ct_acq(fov))


def _mr_sag(key: str, study: str, w: str, centre: str, fov_cc: float, fov_ap: float, rows: int, cols: int,
            n: int, number: int, body_part: str, scene: str = "default", centre_w: float = 0.0,
            thickness: float = 3.0, spacing: float = 3.3) -> SeriesSpec:
    return SeriesSpec(key=key, study=study, modality="MR", orientation="sagittal",
                      description=f"Sag {w} TSE", rows=rows, cols=cols, fov=fov_ap, fov_cc=fov_cc,
                      thickness=thickness, spacing=spacing, n_slices=n, centre_level=centre, centre_w=centre_w,
                      weighting=w, number=number, protocol=f"{body_part} sag {w}", body_part=body_part,
                      scene=scene, acq=_mr_acq(w, "sagittal", rows, cols))


def _mr_ax(key: str, study: str, centre: str, n: int, number: int, body_part: str, scene: str = "default",
           centre_w: float = 0.0, fov: float = 200.0, matrix: int = 256) -> SeriesSpec:
    return SeriesSpec(key=key, study=study, modality="MR", orientation="axial", description="Ax T2 TSE",
                      rows=matrix, cols=matrix, fov=fov, thickness=4.0, spacing=4.4, n_slices=n,
                      centre_level=centre, centre_w=centre_w, weighting="T2", number=number,
                      protocol=f"{body_part} ax T2", body_part=body_part, scene=scene,
                      acq=_mr_acq("T2", "axial", matrix, matrix))


# --------------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------------

def _thoracic() -> CaseDef:
    primary = Lesion(
        id="T5-T6 primary DDLPS", levels=("T5", "T6"), site="posterior_elements", kind="lytic_soft_tissue",
        parts=(
            LesionPart("T5", "posterior_elements", (24.0, 18.0, 24.0), (-3.0, -1.0, -5.0)),
            LesionPart("T6", "vertebral_body", (12.0, 10.0, 16.0), (-8.0, 8.0, 3.0)),
            LesionPart("T6", "pedicle_right", (9.0, 12.0, 12.0), (0.0, 0.0, 0.0)),
        ),
        epidural=EpiduralExtension("3", "T6", direction_deg=-40.0, w=4.0, cc_length=34.0),
        description="Lytic, expansile soft-tissue tumour of the vertebral arch and spinous process of T5 and "
                    "the right dorsal T6 body and pedicle, growing into the canal from the right "
                    "posterolateral side",
        ct_hu=42.0, t1=430.0, t2=700.0,
    )
    residual = Lesion(
        id="T6 residual DDLPS", levels=("T6",), site="vertebral_body", kind="lytic_soft_tissue",
        parts=(LesionPart("T6", "vertebral_body", (17.0, 9.0, 14.0), (-7.0, 7.0, 0.0)),),
        description="Residual tumour at the dorsal margin of the T6 body reaching into the right pedicle",
        ct_hu=42.0, t1=430.0, t2=700.0,
    )
    studies = (
        StudyDef("ct", "CT THORACIC SPINE", "20240108", "091500", "CT"),
        StudyDef("mr", "MR THORACIC SPINE", "20240108", "143000", "MR"),
        StudyDef("postop_mr", "MR THORACIC SPINE POSTOP", "20240212", "101500", "MR"),
        StudyDef("restaging_ct", "CT THORAX RESTAGING", "20240513", "083000", "CT"),
        StudyDef("restaging_mr", "MR THORACIC SPINE RESTAGING", "20240513", "111500", "MR"),
    )
    series = (
        _ct("ct_axial", "ct", "Ax 1.25mm Spine", "T3", "T9", 220.0, 1.25, 2, "TSPINE"),
        _mr_sag("mr_sag_t1", "mr", "T1", "T6", 240.0, 240.0, 256, 256, 13, 3, "TSPINE"),
        _mr_sag("mr_sag_t2", "mr", "T2", "T6", 240.0, 240.0, 256, 256, 13, 2, "TSPINE"),
        _mr_ax("mr_ax_t2", "mr", "T6", 14, 4, "TSPINE", centre_w=8.0),
        _mr_sag("postop_mr_sag_t2", "postop_mr", "T2", "T6", 240.0, 240.0, 256, 256, 13, 2, "TSPINE",
                scene="postop"),
        _mr_ax("postop_mr_ax_t2", "postop_mr", "T6", 8, 3, "TSPINE", scene="postop"),
        _ct("restaging_ct_axial", "restaging_ct", "Ax 2.5mm Spine", "T5", "T7", 220.0, 2.5, 2, "TSPINE",
            scene="postop"),
        _mr_ax("restaging_mr_ax_t2", "restaging_mr", "T6", 8, 3, "TSPINE", scene="postop"),
    )
    report = {
        "citation": "Kögler C, Ullrich BW, Schaser KD, Disch AC, et al. Primary dedifferentiated liposarcoma of "
                    "the thoracic spine: case report.",
        "age": "36-year-old",
        "sex": "woman",
        "histology": "primary grade 2 dedifferentiated liposarcoma (DDLPS) of the spine",
        "grade": "grade 2, with a total score of 4 according to the FNCLCC grading of soft tissue tumors",
        "primary_site": "thoracic spine",
        "presentation": "sudden ascending paresthesia of both legs, persistently increasing over the course of "
                        "two days before initial presentation",
        "levels": "T5 to T6",
        "imaging": "tumor mass extending in the vertebral arch, spinous process of T5 and partially T6, "
                   "expansively growing into the spinal canal and absolutely compressing the dural sac/spinal "
                   "cord",
        "reported_bilsky": {"before_surgery": "grade 3 according to Bilski et al., 2010",
                            "after_surgery": "grade 0 according to Bilsky"},
        "reported_dimensions": {"residual_tumour": "17 × 9mm",
                                "location": "the dorsal margin of the vertebral body of T6, reaching into the "
                                            "right pedicle"},
        "treatment": [
            "Emergency posterior decompression via laminectomy at T6 with intralesional tumor debulking and "
            "bisegmental posterior instrumentation from T5 to 7",
            "three courses of neoadjuvant polychemotherapy using doxorubicin (adriamycin) and ifosfamide",
            "aggressive resection by en-bloc spondylectomy",
            "radiation using 6 MeV photons with an overall dose of 50,4 Gy ... (60,4 Gy in total)",
        ],
        "follow_up": "tumor- and metastasis-free 53 months after tumor resection",
    }
    return CaseDef("thoracic_ddlps", 0, PatientInfo("PHANTOM^THORACIC T6", "SPC-PH-000", "F", "036Y"), studies,
                   series, {"default": Scene(lesions=(primary,), seed=0),
                            "postop": Scene(lesions=(residual,), laminectomy=("T6",), screws=("T5", "T7"),
                                            seed=0)},
                   "T6", "default", report,
                   notes=("Post-operative study: laminectomy of T6 with pedicle screws and rods T5 to T7 "
                          "(signal voids); residual tumour 17 x 9 mm in the right dorsal T6 body and pedicle, no "
                          "epidural tumour (Bilsky 0).",
                          "Restaging after three courses of chemotherapy (CT and MR of one date): the same "
                          "residual, 17 x 9 mm, 'constant in size compared to previous scans'; no canal "
                          "compression (Bilsky 0)."),
                   follow_up={
                       "timepoints": [
                           {"date": "20240108", "label": "pre-operative", "type": "preoperative"},
                           {"date": "20240212", "label": "after emergency decompression", "type": "postoperative"},
                           {"date": "20240513", "label": "restaging after chemotherapy", "type": "post_chemotherapy"},
                       ],
                       "same_lesion": {"T6 residual DDLPS": "T5-T6 primary DDLPS"},
                       "unchanged": "the residual tumour, 17 x 9 mm, from after decompression to restaging",
                   })


def _l1() -> CaseDef:
    body = Lesion(
        id="L1 lipomatous metastasis", levels=("L1",), site="vertebral_body", kind="lipomatous",
        parts=(LesionPart("L1", "vertebral_body", (32.0, 26.0, 21.0), (2.0, 3.0, 0.0)),),
        epidural=EpiduralExtension("1b", "L1", direction_deg=180.0, w=0.0, cc_length=26.0),
        description="Fat-density metastasis destroying the L1 body and reaching into the canal (ventral "
                    "epidural extension)",
        ct_hu=-70.0,
    )
    mass = Lesion(
        id="retroperitoneal DDLPS at L2", levels=("L2",), site="retroperitoneum_left", kind="lipomatous",
        parts=(LesionPart("L2", "retroperitoneum_left", (70.0, 60.0, 66.0), (0.0, -10.0, 0.0)),
               LesionPart("L2", "retroperitoneum_left", (32.0, 28.0, 30.0), (-10.0, -22.0, -4.0),
                          kind="lytic_soft_tissue")),
        description="Retroperitoneal mass at the L2 level with a lipomatous and a nonlipomatous (soft-tissue) "
                    "component",
        ct_hu=-85.0,
    )
    report = {
        "citation": "Ichikawa J, et al. Spinal Metastasis of Well-Differentiated Liposarcoma Component in "
                    "Retroperitoneal Dedifferentiated Liposarcoma Treated by Minimally Invasive Surgery. Case Rep "
                    "Orthop. 2018;2018:1708572. doi: 10.1155/2018/1708572",
        "age": None,
        "sex": None,
        "histology": "spinal metastasis of WDL component in retroperitoneal DDL; Only the well-differentiated "
                     "component was seen in the spine metastasis",
        "grade": None,
        "primary_site": "retroperitoneal dedifferentiated liposarcoma (DDL)",
        "presentation": None,
        "levels": "L1",
        "imaging": [
            "a large retroperitoneal mass in the second lumbar vertebra level, which consisted of both "
            "lipomatous (yellow asterisk) and nonlipomatous (red asterisk) components",
            "the metastatic lipomatous component in the vertebral body had increased and destroyed the "
            "vertebral body",
            "the mass with a similar intensity to fat and widespread from the vertebral body to the canal space",
        ],
        "reported_bilsky": None,
        "reported_dimensions": None,
        "treatment": "tumor curettage and L1 laminectomy followed by percutaneous pedicle screw fixation",
        "follow_up": "The patient was ambulatory until death.",
        "source_note": "Only the abstract and figure legends are in the seed text; age and sex are not stated.",
    }
    return CaseDef("l1_lipomatous_metastasis", 1, PatientInfo("PHANTOM^LUMBAR L1", "SPC-PH-001", "", ""),
                   (StudyDef("ct", "CT LUMBAR SPINE", "20240122", "103000", "CT"),),
                   (_ct("ct_axial", "ct", "Ax 1.5mm Spine", "T11", "L3", 300.0, 1.5, 2, "LSPINE",
                        offset=(25.0, -20.0)),),
                   {"default": Scene(lesions=(body, mass), seed=1)}, "L1", "default", report,
                   notes=("The article gives no Bilsky grade; the phantom's ventral epidural extension at L1 "
                          "is built as grade 1b.",))


def _retroperitoneal() -> CaseDef:
    adrenal = Lesion(
        id="left adrenal region recurrence", levels=("L1",), site="adrenal_region_left", kind="lytic_soft_tissue",
        parts=(LesionPart("L1", "adrenal_region_left", (25.0, 21.0, 20.0), (0.0, 0.0, 6.0)),),
        description="Recurrent DDLPS nodule in the left adrenal region", ct_hu=38.0)
    psoas = Lesion(
        id="left psoas recurrence", levels=("L3",), site="psoas_left", kind="lytic_soft_tissue",
        parts=(LesionPart("L3", "psoas_left", (15.0, 13.0, 14.0), (14.0, -2.0, 0.0)),),
        description="Recurrent DDLPS nodule beside the left psoas muscle", ct_hu=38.0)
    report = {
        "citation": "Liao T, Du W, Li X, He S, Guan G, Zhu H, Wu J. Recurrent metastatic retroperitoneal "
                    "dedifferentiated liposarcoma: a case report and literature review. BMC Urol. 2023. "
                    "doi: 10.1186/s12894-023-01252-3",
        "age": "56-year-old",
        "sex": "man",
        "histology": "dedifferentiated LPSs; MDM2-positive",
        "grade": None,
        "primary_site": "retroperitoneal (left retroperitoneal cavity, adhered to the left kidney)",
        "presentation": "complained about left scrotum sagging and swelling",
        "levels": None,
        "imaging": "the abdominal MRI showed nodular shadows on the left side of the adrenal gland and the left "
                   "side of the lumbar muscle",
        "reported_bilsky": None,
        "reported_dimensions": {"primary_tumour": "20 × 16 × 10 cm3", "primary_weight": "2.5 kg",
                                "left_adrenal_region_recurrence": "2.5 × 2.1 cm2",
                                "left_psoas_recurrence": "1.5 × 1.3 cm2"},
        "treatment": ["surgical tumor resection combined with a left nephrectomy",
                      "targeted therapy with anlotinib, administered for three months"],
        "follow_up": "no substantial evidence of tumor progression, with the patient's condition under control",
    }
    return CaseDef("retroperitoneal_ddlps", 2, PatientInfo("PHANTOM^RETROPERITONEUM L1", "SPC-PH-002", "M", "056Y"),
                   (StudyDef("ct", "CT ABDOMEN", "20240205", "081500", "CT"),
                    StudyDef("ct_followup", "CT ABDOMEN", "20240513", "090000", "CT")),
                   (_ct("ct_axial", "ct", "Ax 1.5mm Abdomen", "T12", "L3", 320.0, 1.5, 2, "ABDOMEN",
                        offset=(20.0, -40.0)),
                    _ct("followup_ct_axial", "ct_followup", "Ax 5mm Abdomen", "T12", "L3", 320.0, 5.0, 2, "ABDOMEN",
                        offset=(20.0, -40.0))),
                   {"default": Scene(lesions=(adrenal, psoas), left_kidney=False, seed=2)}, "L1", "default", report,
                   notes=("The article found the recurrences on abdominal MRI; the sample case holds a CT, as "
                          "issue 3 asks. The left kidney is absent (nephrectomy). The spine is uninvolved "
                          "(Bilsky 0); the reference slice is the L1 body centre.",
                          "Follow-up CT after three months of anlotinib: both recurrences the same size ('no "
                          "significant change in the size of retroperitoneal tumors'); the lungs are not built."),
                   follow_up={
                       "timepoints": [
                           {"date": "20240205", "label": "recurrence at the 6-month follow-up", "type": "recurrence"},
                           {"date": "20240513", "label": "after 3 months of anlotinib", "type": "posttreatment"},
                       ],
                       "resection_date": "20230805",
                       "recist_targets": ["left adrenal region recurrence", "left psoas recurrence"],
                       "unchanged": "both recurrences, after three months of anlotinib",
                   })


def _myxoid() -> CaseDef:
    sizes = {"T11": (12, 10, 9), "T12": (14, 11, 10), "L1": (20, 16, 13), "L2": (40, 30, 24),
             "L3": (42, 31, 24), "L4": (42, 31, 24), "L5": (16, 13, 11)}
    offs = {"T11": (4, -3, 2), "T12": (-5, 2, -3), "L1": (3, -2, 3), "L2": (0, 0, 0), "L3": (0, 0, 0),
            "L4": (0, 0, 0), "L5": (-6, 2, -2)}
    marrow = tuple(
        Lesion(id=f"{lev} marrow metastasis", levels=(lev,), site="vertebral_body", kind="marrow_replacing",
               parts=(LesionPart(lev, "vertebral_body", tuple(float(v) for v in sz),
                                 tuple(float(v) for v in offs[lev]), clip_to_body=True),),
               description="Marrow-replacing metastasis (T1 low, T2 high; nearly isodense on CT)")
        for lev, sz in sizes.items())
    cement = Lesion(
        id="L2-L4 cement", levels=("L2", "L3", "L4"), site="vertebral_body", kind="cement",
        parts=tuple(LesionPart(lev, "vertebral_body", (18.0, 12.0, 11.0), (4.0, 0.0, 0.0), clip_to_body=True)
                    for lev in ("L2", "L3", "L4")) + (
            LesionPart("L3", "perivertebral_left", (5.0, 6.0, 7.0), (2.0, 0.0, 1.0)),
            LesionPart("L2", "perivertebral_right", (3.0, 12.0, 3.0), (0.0, 2.0, -3.0)),
            LesionPart("L4", "prevertebral", (8.0, 3.0, 4.0), (3.0, -1.0, 2.0)),
        ),
        description="Bone cement after radiofrequency ablation and vertebral augmentation of L2-L4, with small "
                    "perivertebral soft-tissue and venous leaks")
    report = {
        "citation": "Akpinar A, Ucler N, Yucetas CS, Erdogan U, Ucar MD. Cement leakage and complication of "
                    "liposarcoma spinal metastasis during vertebral augmentation procedure: a case report. "
                    "J Med Case Rep. 2016. doi: 10.1186/s13256-016-0828-4",
        "age": "41-year-old",
        "sex": "man",
        "histology": "myxoid/round cell liposarcoma (MRCL); subcutaneous tissue mass ... from his right thigh; it "
                     "was liposarcoma",
        "grade": None,
        "primary_site": "right thigh",
        "presentation": "back pain with radiation and with no neurological deficits. He had a 3-month history of "
                        "increased back pain",
        "levels": "multilevel vertebral body edema ... within the body of his lumbar and thoracic vertebrae; "
                  "L2 to L4 vertebral bodies (treated)",
        "imaging": "a low signal was seen within the body of his lumbar and thoracic vertebrae, on T1 "
                   "corresponding to high signal on T2, in keeping with an interosseous metastasis; a CT scan "
                   "also showed no evidence of tumors in his spine",
        "reported_bilsky": None,
        "cord_compression": "There was no cord compression.",
        "reported_dimensions": None,
        "treatment": ["Rf-TA and VAP were performed", "In total, 4 ml cement had been released"],
        "complications": "Cement leakage was observed in the perivertebral soft tissue, perivertebral venous "
                         "system, and segmental vein.",
        "follow_up": "A follow-up CT scan showed no further migration of any cement material.",
    }
    studies = (StudyDef("mr", "MR LUMBAR SPINE", "20240301", "111500", "MR"),
               StudyDef("postop_ct", "CT LUMBAR SPINE POST PROCEDURE", "20240315", "090000", "CT"))
    series = (
        _mr_sag("mr_sag_t1", "mr", "T1", "L2", 340.0, 260.0, 288, 220, 13, 3, "LSPINE", centre_w=-12.0,
                thickness=4.0, spacing=4.4),
        _mr_sag("mr_sag_t2", "mr", "T2", "L2", 340.0, 260.0, 288, 220, 13, 2, "LSPINE", centre_w=-12.0,
                thickness=4.0, spacing=4.4),
        SeriesSpec(**{**_ct("postop_ct_axial", "postop_ct", "Ax 1.5mm Spine", "L2", "L4", 200.0, 1.5, 2,
                            "LSPINE", scene="postop").__dict__, "margin": 16.0}),
    )
    return CaseDef("myxoid_marrow_metastases", 3, PatientInfo("PHANTOM^LUMBAR L3", "SPC-PH-003", "M", "041Y"),
                   studies, series,
                   {"default": Scene(lesions=marrow, seed=3), "postop": Scene(lesions=marrow + (cement,), seed=3)},
                   "L3", "postop", report,
                   notes=("No epidural disease (Bilsky 0): the reference slice is the L3 body centre on the "
                          "post-procedure CT; the cord contour is empty there (cauda equina).",))


def _cervical() -> CaseDef:
    lesions = (
        Lesion(id="C2 osteolytic metastasis", levels=("C2",), site="vertebral_body", kind="lytic_soft_tissue",
               parts=(LesionPart("C2", "vertebral_body", (12.0, 11.0, 12.0), (1.0, 0.0, 1.0)),),
               description="Osteolytic metastasis of the C2 body", ct_hu=40.0),
        Lesion(id="C4 osteolytic metastasis", levels=("C4",), site="vertebral_body", kind="lytic_soft_tissue",
               parts=(LesionPart("C4", "vertebral_body", (10.0, 9.0, 8.0), (-2.0, 1.0, 0.0)),),
               description="Osteolytic metastasis of the C4 body", ct_hu=40.0),
        Lesion(id="clivus osteolytic metastasis", levels=("C0",), site="clivus", kind="lytic_soft_tissue",
               parts=(LesionPart("C1", "clivus", (12.0, 8.0, 12.0), (2.0, 0.0, 0.0)),),
               description="Osteolytic metastasis of the clivus", ct_hu=40.0),
    )
    report = {
        "citation": "Dedifferentiation of an atypical lipomatous tumor of the thigh - a 6 year follow-up study. "
                    "Clinical Quiz.",
        "age": "69 year old",
        "sex": "male",
        "histology": "high grade (III) spindle cell sarcoma with focal nuclear atypia, high mitotic activity and "
                     "extended necrotic areas expressing smooth muscle differentiation markers",
        "grade": "high grade (III)",
        "primary_site": "left femoral triangle; thigh mass (atypical lipomatous tumour/well-differentiated "
                        "liposarcoma, dedifferentiated)",
        "presentation": "pain in the cranial base and the cervical spine, without neurological symptoms",
        "levels": "the clivus of the skull and on the C2 and C4 vertebrae",
        "imaging": "CT scan on the cervical and thoracic area showed an osteolytic bone metastasis on the clivus "
                   "of the skull and on the C2 and C4 vertebrae",
        "reported_bilsky": None,
        "reported_dimensions": {"thigh_mass": "20x15x28cm"},
        "treatment": "a palliative approach was adopted",
        "follow_up": "the patient succumbed to his disease few weeks later",
    }
    return CaseDef("cervical_alt_metastases", 4, PatientInfo("PHANTOM^CERVICAL C2", "SPC-PH-004", "M", "069Y"),
                   (StudyDef("ct", "CT CERVICAL SPINE", "20240403", "134500", "CT"),),
                   (SeriesSpec(**{**_ct("ct_axial", "ct", "Ax 1.25mm C-Spine", "C1", "C6", 180.0, 1.25, 2,
                                        "CSPINE", offset=(0.0, -5.0)).__dict__, "margin": 46.0}),),
                   {"default": Scene(lesions=lesions, seed=4)}, "C2", "default", report,
                   notes=("Bilsky grade not reported; no epidural tumour is built (Bilsky 0). The clivus "
                          "lesion from the article is included (levels: none).",))


_DEFS = {"thoracic_ddlps": _thoracic, "l1_lipomatous_metastasis": _l1, "retroperitoneal_ddlps": _retroperitoneal,
         "myxoid_marrow_metastases": _myxoid, "cervical_alt_metastases": _cervical}


def case_definition(name: str) -> CaseDef:
    """The definition of a sample case by folder name (see `CASE_NAMES`)."""
    if name not in _DEFS:
        raise KeyError(f"unknown case {name!r}; known: {', '.join(CASE_NAMES)}")
    return _DEFS[name]()


# --------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------

def _uids(defn: CaseDef) -> dict[str, object]:
    out: dict[str, object] = {}
    for st in defn.studies:
        out[f"study:{st.key}"] = phantom_uid(defn.name, defn.seed, "study", st.key)
        out[f"for:{st.key}"] = phantom_uid(defn.name, defn.seed, "frame-of-reference", st.key)
    for sp in defn.series:
        out[f"series:{sp.key}"] = phantom_uid(defn.name, defn.seed, "series", sp.key)
    return out


def build_series(defn: CaseDef, spec: SeriesSpec, spine: SpineModel | None = None) -> PhantomSeries:
    """Render one series of a case (deterministic: its noise depends only on the seed and series key)."""
    spine = spine or SpineModel()
    scene = defn.scenes[spec.scene]
    key_no = int.from_bytes(spec.key.encode()[:8].ljust(8, b"\0"), "little")
    rng = np.random.default_rng([defn.seed, key_no])
    stored, values, labels, lesions, levels, rescale, windows, aff = render_series(spine, scene, spec, rng)
    uids = _uids(defn)
    study = next(s for s in defn.studies if s.key == spec.study)
    series_uid = str(uids[f"series:{spec.key}"])
    sops = [phantom_uid(defn.name, defn.seed, "sop", spec.key, k) for k in range(stored.shape[0])]
    meta = VolumeMetadata(
        patient_id=defn.patient.patient_id, patient_name=defn.patient.name, patient_sex=defn.patient.sex,
        patient_age=defn.patient.age, study_instance_uid=str(uids[f"study:{study.key}"]), study_date=study.date,
        study_time=study.time, study_description=study.description, series_instance_uid=series_uid,
        series_number=spec.number, series_description=spec.description, series_date=study.date,
        frame_of_reference_uid=str(uids[f"for:{study.key}"]),
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2" if spec.modality == "CT" else "1.2.840.10008.5.1.4.1.1.4",
        manufacturer=dicom_io.MANUFACTURER, body_part_examined=spec.body_part, protocol_name=spec.protocol,
        slice_thickness=spec.thickness, sop_instance_uids=sops, frame_numbers=[None] * len(sops),
    )
    if spec.modality == "MR":
        meta.echo_time = float(spec.acq["EchoTime"])  # type: ignore[arg-type]
        meta.repetition_time = float(spec.acq["RepetitionTime"])  # type: ignore[arg-type]
    vol = make_volume(values, aff, spec.modality, windows, meta)
    return PhantomSeries(spec, vol, labels, lesions, levels, stored, rescale, windows)


def _series_contains(ps: PhantomSeries, p: np.ndarray) -> bool:
    idx = ps.volume.lps_to_index(p)
    shp = ps.volume.shape  # (slices, rows, cols)
    return bool(-0.5 <= idx[0] <= shp[2] - 0.5 and -0.5 <= idx[1] <= shp[1] - 0.5 and -0.5 <= idx[2] <= shp[0] - 0.5)


def _loaded_slice_index(volume: Volume, k: int) -> int:
    """The index slice ``k`` of a generated volume has once `imaging.load_series` reads the files back: the
    loader orders slices along the plane normal (row x column direction), whatever order they were made in."""
    n = volume.shape[0]
    positions = volume.index_to_lps(np.column_stack([np.zeros(n), np.zeros(n), np.arange(n)]))
    order = np.argsort(positions @ volume.normal, kind="stable")
    return int(np.flatnonzero(order == k)[0])


def _worst_slice(ps: PhantomSeries, p: np.ndarray) -> int:
    idx = ps.volume.lps_to_index(p)
    return int(np.clip(np.rint(idx[2]), 0, ps.volume.shape[0] - 1))


def build_truth(defn: CaseDef, series: dict[str, PhantomSeries], spine: SpineModel,
                contours: bool = True) -> dict[str, object]:
    """The truth dict written as ``truth.json`` (see the package docstring for its keys)."""
    uids = _uids(defn)
    truth: dict[str, object] = {
        "case": defn.name, "seed": defn.seed, "generator_version": GENERATOR_VERSION,
        "coordinate_system": "DICOM patient LPS, millimetres",
        "patient": {"name": defn.patient.name, "id": defn.patient.patient_id, "sex": defn.patient.sex,
                    "age": defn.patient.age},
        "studies": [{"key": st.key, "study_uid": uids[f"study:{st.key}"], "description": st.description,
                     "date": st.date, "modality": st.modality,
                     "frame_of_reference_uid": uids[f"for:{st.key}"]} for st in defn.studies],
        "notes": list(defn.notes),
    }
    truth["series"] = [{
        "key": ps.spec.key, "series_uid": ps.volume.metadata.series_instance_uid,
        "study_uid": ps.volume.metadata.study_instance_uid, "modality": ps.spec.modality,
        "description": ps.spec.description, "folder": ps.spec.key, "orientation": ps.spec.orientation,
        "weighting": ps.spec.weighting or None, "slice_thickness": ps.spec.thickness,
        "slice_spacing": ps.spec.spacing, "shape": list(ps.volume.shape), "spacing_mm": [
            round(v, 4) for v in ps.volume.spacing], "scene": ps.spec.scene, "image_count": ps.volume.shape[0],
    } for ps in series.values()]
    verts = []
    for lab in LEVEL_ORDER:
        c = spine.body_centroid_lps(lab)
        inside = [k for k, ps in series.items() if _series_contains(ps, c)]
        if inside:
            verts.append({"label": lab, "centroid_lps": [float(v) for v in c], "series": inside,
                          **({"note": "C1 has no body: centre of the anterior arch"} if lab == "C1" else {})})
    truth["vertebrae"] = verts
    # Lesions, per scene
    les_out = []
    for scene_key, scene in defn.scenes.items():
        in_series = [k for k, ps in series.items() if ps.spec.scene == scene_key]
        for i, lesion in enumerate(scene.lesions):
            dims, centre = lesion_extent(spine, scene, i)
            hu, t1, t2 = lesion_values(lesion)
            parts = []
            for p in lesion.parts:
                cc, axes = part_frame(spine, p)
                phu, pt1, pt2 = lesion_values(lesion, p.kind)
                parts.append({"level": p.level, "site": p.site, "kind": p.kind or lesion.kind,
                              "size_mm": {"lr": p.size[0], "ap": p.size[1], "cc": p.size[2]},
                              "centre_lps": [float(v) for v in cc],
                              "axes_lps": [[float(v) for v in a] for a in axes],
                              "clip_to_body": p.clip_to_body, "ct_hu": phu, "mr_t1": pt1, "mr_t2": pt2})
            entry: dict[str, object] = {
                "id": lesion.id, "label_value": i + 1, "scene": scene_key, "series": in_series,
                "levels": list(lesion.levels), "site": lesion.site, "kind": lesion.kind,
                "description": lesion.description,
                "dimensions_mm": dims, "dimensions_axes": "lr = patient x, ap = patient y, cc = patient z extents",
                "centre_lps": centre, "ct_hu": hu, "mr_t1": t1, "mr_t2": t2, "parts": parts,
            }
            if lesion.epidural is not None:
                e = lesion.epidural
                m = CanalModel(spine, e)
                entry["epidural"] = {"grade": e.grade, "level": e.level, "direction_deg": e.direction_deg,
                                     "cc_length_mm": e.cc_length, "max_depth_mm": float(m.t_max)}
            les_out.append(entry)
    truth["lesions"] = les_out
    # Bilsky: the scene's epidural lesion, worst axial slice per axial series of that scene
    scene = defn.scenes[defn.bilsky_scene]
    epi = [les.epidural for les in scene.lesions if les.epidural is not None and les.epidural.grade != "0"]
    if epi:
        e = epi[0]
        m = CanalModel(spine, e)
        s_w = m.s_centre
        grade, level = e.grade, e.level
    else:
        grade, level = "0", defn.bilsky_level
        s_w = spine.vertebra(level).s
    g = canal_geometry(spine, np.array([s_w]))
    p_w = spine.local_to_lps(0.0, float(g.v_canal[0]), s_w)
    axials = [ps for ps in series.values() if ps.spec.orientation == "axial" and ps.spec.scene == defn.bilsky_scene
              and _series_contains(ps, p_w)]
    axials.sort(key=lambda ps: (ps.spec.modality != "MR", ps.spec.key))
    per_series = []
    for ps in axials:
        k = _worst_slice(ps, p_w)
        z = float(ps.volume.index_to_lps((0.0, 0.0, float(k)))[2])
        entry = {"series_uid": ps.volume.metadata.series_instance_uid, "series_key": ps.spec.key,
                 "modality": ps.spec.modality, "slice_index": _loaded_slice_index(ps.volume, k),
                 "sop_instance_uid": ps.volume.metadata.sop_instance_uids[k], "slice_z_mm": z}
        if contours:
            entry["compression_contours_lps"] = compression_contours(spine, scene, z, level)
        per_series.append(entry)
    bil: dict[str, object] = {"grade": grade, "level": level, "scene": defn.bilsky_scene,
                              "worst_point_lps": [float(v) for v in p_w]}
    if per_series:
        first = per_series[0]
        bil.update({k: first[k] for k in ("series_uid", "sop_instance_uid", "slice_index", "series_key")})
        if contours:
            bil["compression_contours_lps"] = first["compression_contours_lps"]
    bil["per_series"] = per_series
    truth["bilsky"] = bil
    if defn.follow_up:
        truth["follow_up"] = defn.follow_up
    # Post-operative scene grade (thoracic case)
    if defn.bilsky_scene != "postop" and "postop" in defn.scenes:
        post = defn.scenes["postop"]
        post_epi = [les.epidural for les in post.lesions if les.epidural is not None]
        truth["bilsky_postop"] = {"grade": post_epi[0].grade if post_epi else "0", "level": defn.bilsky_level}
    return truth


def build_case(name: str, series_keys: list[str] | None = None, contours: bool = True) -> PhantomCase:
    """Build a sample case in memory: every series (or only ``series_keys``) and its truth."""
    defn = case_definition(name)
    spine = SpineModel()
    series = {}
    for spec in defn.series:
        if series_keys is None or spec.key in series_keys:
            series[spec.key] = build_series(defn, spec, spine)
    truth = build_truth(defn, series, spine, contours=contours)
    return PhantomCase(defn, series, truth, _uids(defn))


def write_case(name: str, out_root: Path | str) -> Path:
    """Build and write a case to ``out_root/name``: one folder per series, ``report.json``, ``truth.json``."""
    return write_built_case(build_case(name), out_root)


def write_built_case(case: PhantomCase, out_root: Path | str) -> Path:
    """Write an already built case (all its series) to ``out_root/<case name>``; returns that folder."""
    name = case.definition.name
    out = Path(out_root) / name
    out.mkdir(parents=True, exist_ok=True)
    defn = case.definition
    for key, ps in case.series.items():
        study = next(s for s in defn.studies if s.key == ps.spec.study)
        st = StudyInfo(uid=str(case.uids[f"study:{study.key}"]), date=study.date, time=study.time,
                       description=study.description, accession=f"PH{defn.seed:03d}{defn.studies.index(study) + 1}",
                       study_id=str(defn.studies.index(study) + 1),
                       frame_of_reference_uid=str(case.uids[f"for:{study.key}"]))
        image_type = ("ORIGINAL", "PRIMARY", "AXIAL") if ps.spec.modality == "CT" else ("ORIGINAL", "PRIMARY", "OTHER")
        hdr = SeriesHeader(uid=ps.volume.metadata.series_instance_uid, number=ps.spec.number,
                           description=ps.spec.description, modality=ps.spec.modality, body_part=ps.spec.body_part,
                           protocol=ps.spec.protocol, windows=ps.windows, acq=dict(ps.spec.acq),
                           image_type=image_type)
        folder = out / key
        for old in folder.glob("*.dcm") if folder.exists() else []:
            old.unlink()
        dicom_io.write_series(folder, ps.stored, ps.volume.affine, defn.patient, st, hdr,
                              ps.volume.metadata.sop_instance_uids, ps.spec.thickness, ps.rescale)
    report = {"case": name, **defn.report}
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(case.truth, indent=1) + "\n", encoding="utf-8")
    # The reference annotation as a case file (case.spinecase.json), built from report.json and truth.json
    # through the same code the viewer uses; imported here to keep imaging.case out of the generator's import.
    from tools.phantom.sample_case import write_sample_case

    write_sample_case(out)
    return out
