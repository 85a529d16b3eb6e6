"""Structure ids of the phantom's label maps (one uint8 per voxel)."""

from __future__ import annotations

from enum import IntEnum


class Label(IntEnum):
    """Per-voxel structure ids. Groups: soft tissue < 20, bone 20-29, spinal canal 30-39, lesions 40+."""

    AIR = 0
    SKIN = 1
    FAT = 2              # subcutaneous fat
    MUSCLE = 3           # chest/abdominal wall and neck muscles
    PARASPINAL = 4       # erector spinae / transversospinalis
    PSOAS = 5
    LUNG = 6
    VISCERAL_FAT = 7     # mediastinal, retroperitoneal and intra-abdominal fat
    LIVER = 8
    SPLEEN = 9
    KIDNEY = 10
    BLOOD = 11           # heart, aorta, vena cava, vertebral and carotid arteries
    BOWEL = 12           # bowel wall and fluid content
    GAS = 13             # bowel gas, airway (pharynx, trachea, bronchi)
    ESOPHAGUS = 14
    BRAIN = 15           # posterior fossa: cerebellum and brainstem
    BODY_CORTEX = 20     # vertebral body cortical shell and end plates
    BODY_CANCELLOUS = 21  # vertebral body cancellous bone (marrow)
    POSTERIOR_CORTEX = 22  # pedicles, laminae, articular, spinous and transverse processes: cortex
    POSTERIOR_CANCELLOUS = 23
    RIB_CORTEX = 24
    RIB_MARROW = 25
    SKULL_CORTEX = 26    # clivus, occipital bone, mandible
    SKULL_CANCELLOUS = 27
    DISC_ANNULUS = 30
    DISC_NUCLEUS = 31
    EPIDURAL_FAT = 32    # bony canal outside the thecal sac
    CSF = 33             # thecal sac content other than cord and roots
    CORD = 34            # spinal cord, conus medullaris and medulla oblongata
    NERVE_ROOT = 35      # cauda equina
    LIGAMENT = 36        # ligamentum flavum
    TUMOUR = 40
    CEMENT = 41
    METAL = 42           # pedicle screws and rods
    SCAR = 43            # post-operative scar tissue


BONE_LABELS: frozenset[int] = frozenset({
    Label.BODY_CORTEX, Label.BODY_CANCELLOUS, Label.POSTERIOR_CORTEX, Label.POSTERIOR_CANCELLOUS,
    Label.RIB_CORTEX, Label.RIB_MARROW, Label.SKULL_CORTEX, Label.SKULL_CANCELLOUS,
})
VERTEBRAL_BODY_LABELS: frozenset[int] = frozenset({Label.BODY_CORTEX, Label.BODY_CANCELLOUS})
POSTERIOR_ELEMENT_LABELS: frozenset[int] = frozenset({Label.POSTERIOR_CORTEX, Label.POSTERIOR_CANCELLOUS})
DISC_LABELS: frozenset[int] = frozenset({Label.DISC_ANNULUS, Label.DISC_NUCLEUS})
THECAL_SAC_LABELS: frozenset[int] = frozenset({Label.CSF, Label.CORD, Label.NERVE_ROOT})
