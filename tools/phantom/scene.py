"""What a phantom contains besides normal anatomy: lesions, epidural extension, surgery.

All sizes are in mm. Positions of lesion parts are given relative to a vertebral level, in the local
spine frame of `tools.phantom.anatomy` (``u`` + patient left, ``v`` + posterior, ``w`` + superior,
from the level's default site centre) or, for soft-tissue sites, along the patient axes (LPS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imaging.spine.bilsky import BILSKY_GRADES

LESION_KINDS: tuple[str, ...] = ("lytic_soft_tissue", "lipomatous", "blastic", "marrow_replacing", "cement")

#: Sites a lesion part can be placed at. Bone sites use the spine frame, soft-tissue sites the LPS axes.
BONE_SITES: tuple[str, ...] = ("vertebral_body", "pedicle_left", "pedicle_right", "lamina", "spinous_process",
                               "posterior_elements", "clivus")
SOFT_TISSUE_SITES: tuple[str, ...] = ("paraspinal_left", "paraspinal_right", "psoas_left", "psoas_right",
                                      "adrenal_region_left", "adrenal_region_right", "retroperitoneum_left",
                                      "retroperitoneum_right", "perivertebral_left", "perivertebral_right",
                                      "prevertebral")
SITES: tuple[str, ...] = BONE_SITES + SOFT_TISSUE_SITES + ("epidural",)


@dataclass(frozen=True)
class LesionPart:
    """One ellipsoid of a lesion.

    ``size`` = full diameters (lr, ap, cc) in mm along the frame's axes (spine frame for bone sites: lr = u,
    ap = v, cc = w; LPS axes for soft-tissue sites). ``offset`` (mm, same frame) moves it from the site's
    default centre. ``kind`` overrides the lesion's kind for this part (a mixed fat/soft-tissue mass).
    ``clip_to_body``: keep only the part inside the vertebral body's cancellous bone (marrow lesions and
    cement).
    """

    level: str
    site: str
    size: tuple[float, float, float]
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    kind: str | None = None
    clip_to_body: bool = False


@dataclass(frozen=True)
class EpiduralExtension:
    """Tumour in the spinal canal that produces Bilsky ``grade`` on its worst axial slice.

    It grows in from the canal wall on the side ``direction_deg`` (angle in the axial plane from posterior:
    0 = posterior, 90 = patient left, -90 = patient right, 180 = anterior), centred at ``w`` mm above the
    centre of the body of ``level``, over ``cc_length`` mm (its depth falls smoothly to 0 at both ends).
    """

    grade: str
    level: str
    direction_deg: float = 0.0
    w: float = 0.0
    cc_length: float = 30.0

    def __post_init__(self) -> None:
        if self.grade not in BILSKY_GRADES:
            raise ValueError(f"unknown Bilsky grade {self.grade!r}; expected one of {BILSKY_GRADES}")


@dataclass(frozen=True)
class Lesion:
    """A lesion: parts (ellipsoids) plus an optional epidural extension.

    ``levels``: the vertebral levels it involves; ``site``: main site (a `SITES` name); ``kind``: one of
    `LESION_KINDS`. ``ct_hu``, ``t1``, ``t2`` override the kind's default values (HU; MR signal units).
    """

    id: str
    levels: tuple[str, ...]
    site: str
    kind: str
    parts: tuple[LesionPart, ...]
    epidural: EpiduralExtension | None = None
    description: str = ""
    ct_hu: float | None = None
    t1: float | None = None
    t2: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in LESION_KINDS:
            raise ValueError(f"unknown lesion kind {self.kind!r}; expected one of {LESION_KINDS}")
        for p in self.parts:
            if p.site not in SITES:
                raise ValueError(f"unknown lesion site {p.site!r}")


@dataclass(frozen=True)
class Scene:
    """Everything besides normal anatomy: lesions, surgery, missing organs.

    ``laminectomy``: levels whose laminae and spinous process were removed (scar tissue fills the gap).
    ``screws``: levels with bilateral pedicle screws (rods join the most cranial and caudal screws).
    ``left_kidney``/``right_kidney``: False after nephrectomy.
    """

    lesions: tuple[Lesion, ...] = ()
    laminectomy: tuple[str, ...] = ()
    screws: tuple[str, ...] = ()
    left_kidney: bool = True
    right_kidney: bool = True
    seed: int = 0
    extra: dict[str, object] = field(default_factory=dict)
