"""Qt-free key images for reports: a windowed plane with measurement overlays burned in, as PNG bytes.

The plane comes from :func:`imaging.display.plane_spec` (axial / sagittal / coronal of any volume). The
image is resampled (nearest neighbour) to square physical pixels, so a thick-slice sagittal keeps its true
aspect, and scaled to about ``size`` pixels. Overlays are projected from LPS with the plane's
:class:`~imaging.geometry.PlaneGeometry` and drawn as 2-pixel lines with a numbered tag per measurement
(a built-in 3x5 digit font, no font files). :func:`png_bytes` is a tiny PNG writer (zlib), so nothing
beyond numpy is needed.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from imaging.display import default_invert, default_window, plane_spec, window_to_uint8
from imaging.volume import Volume

__all__ = ["KeyImage", "Overlay", "measurement_overlays", "png_bytes", "render_key_image"]

PALETTE: tuple[tuple[int, int, int], ...] = (
    (255, 215, 0), (0, 220, 255), (255, 80, 200), (120, 255, 90), (255, 150, 40), (170, 140, 255),
)
CONTOUR_COLOURS = {"canal": (235, 235, 235), "sac": (0, 200, 255), "cord": (255, 230, 0), "tumour": (255, 60, 60)}

_DIGITS = {  # 3x5 bitmaps, rows top to bottom
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"), "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"), "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "111"),
}


def png_bytes(image: np.ndarray) -> bytes:
    """Encode a uint8 image (H x W grey, or H x W x 3 RGB) as PNG."""
    img = np.ascontiguousarray(image, dtype=np.uint8)
    if img.ndim == 2:
        colour_type, channels = 0, 1
    elif img.ndim == 3 and img.shape[2] == 3:
        colour_type, channels = 2, 3
    else:
        raise ValueError(f"PNG needs H x W or H x W x 3 uint8, got shape {img.shape}")
    h, w = img.shape[:2]
    raw = np.zeros((h, 1 + w * channels), dtype=np.uint8)  # filter byte 0 (None) per row
    raw[:, 1:] = img.reshape(h, w * channels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
            + chunk(b"IEND", b""))


@dataclass
class Overlay:
    """Something to draw: LPS ``points`` (N, 3) joined as a polyline (``closed`` for outlines; a single
    point is drawn as a dot). ``tag`` is the number printed beside it."""

    points: np.ndarray
    colour: tuple[int, int, int]
    closed: bool = False
    tag: str = ""


@dataclass
class KeyImage:
    """A rendered key image: PNG bytes and what it shows."""

    png: bytes
    width: int
    height: int
    orientation: str
    slice_index: int
    pixel_mm: float
    tags: list[str] = field(default_factory=list)
    rgb: np.ndarray | None = None  # the H x W x 3 uint8 picture (for DICOM secondary captures)
    x_dir: tuple[float, float, float] | None = None  # LPS direction of the image's columns (left to right)
    y_dir: tuple[float, float, float] | None = None  # LPS direction of its rows (top to bottom)


class _Canvas:
    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb
        self.h, self.w = rgb.shape[:2]

    def dot(self, x: float, y: float, colour: tuple[int, int, int], r: int = 1) -> None:
        xi, yi = int(round(x)), int(round(y))
        x0, x1 = max(xi - r + 1, 0), min(xi + r, self.w - 1)
        y0, y1 = max(yi - r + 1, 0), min(yi + r, self.h - 1)
        if x0 <= x1 and y0 <= y1:
            self.rgb[y0:y1 + 1, x0:x1 + 1] = colour

    def line(self, a: np.ndarray, b: np.ndarray, colour: tuple[int, int, int]) -> None:
        n = int(max(abs(b[0] - a[0]), abs(b[1] - a[1])) * 2) + 1
        for t in np.linspace(0.0, 1.0, n + 1):
            self.dot(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), colour)

    def text(self, x: float, y: float, text: str, colour: tuple[int, int, int], scale: int = 2) -> None:
        cx = int(round(x))
        for ch in text:
            glyph = _DIGITS.get(ch)
            if glyph is None:
                cx += 2 * scale
                continue
            # dark halo for legibility, then the glyph
            for dy, row in enumerate(glyph):
                for dx, bit in enumerate(row):
                    if bit == "1":
                        for hy in (-1, 0, 1):
                            for hx in (-1, 0, 1):
                                self._block(cx + dx * scale + hx, int(y) + dy * scale + hy, scale, (0, 0, 0))
            for dy, row in enumerate(glyph):
                for dx, bit in enumerate(row):
                    if bit == "1":
                        self._block(cx + dx * scale, int(y) + dy * scale, scale, colour)
            cx += 4 * scale

    def _block(self, x: int, y: int, s: int, colour: tuple[int, int, int]) -> None:
        if 0 <= x < self.w - s and 0 <= y < self.h - s:
            self.rgb[y:y + s, x:x + s] = colour


def render_key_image(volume: Volume, orientation: str, lps_hint: Sequence[float], overlays: Sequence[Overlay],
                     size: int = 512, window: tuple[float, float] | None = None) -> KeyImage:
    """Render the ``orientation`` plane of ``volume`` through ``lps_hint`` with ``overlays`` burned in.

    ``window`` is ``(center, width)`` in modality units (default: the series' default window).
    """
    spec = plane_spec(volume, orientation)
    k = spec.nearest_slice(lps_hint)
    pixels = spec.extract(volume.array, k)
    geom = spec.geometry(k)
    if window is None:
        preset = default_window(volume)
        window = (preset.center, preset.width)
    grey = window_to_uint8(np.ascontiguousarray(pixels), window[0], window[1], default_invert(volume))
    h, w = grey.shape
    sx, sy = geom.x_spacing, geom.y_spacing
    ps = max(w * sx, h * sy) / size  # output pixel size (mm)
    ps = min(ps, min(sx, sy))  # never coarser than the data
    out_w, out_h = max(int(round(w * sx / ps)), 1), max(int(round(h * sy / ps)), 1)
    xs = np.clip(np.rint((np.arange(out_w) + 0.5) * ps / sx - 0.5).astype(int), 0, w - 1)
    ys = np.clip(np.rint((np.arange(out_h) + 0.5) * ps / sy - 0.5).astype(int), 0, h - 1)
    rgb = np.repeat(grey[ys][:, xs][:, :, None], 3, axis=2)
    canvas = _Canvas(rgb)

    def to_out(lps: np.ndarray) -> np.ndarray:
        xyd = geom.from_lps(np.atleast_2d(lps))
        return np.stack([(xyd[:, 0] + 0.5) * sx / ps - 0.5, (xyd[:, 1] + 0.5) * sy / ps - 0.5], axis=1)

    tags = []
    for ov in overlays:
        p = to_out(np.asarray(ov.points, dtype=np.float64))
        if len(p) == 1:
            canvas.dot(p[0][0], p[0][1], ov.colour, r=3)
        else:
            for i in range(len(p) - 1):
                canvas.line(p[i], p[i + 1], ov.colour)
            if ov.closed:
                canvas.line(p[-1], p[0], ov.colour)
        if ov.tag:
            tags.append(ov.tag)
            anchor = p[np.argmin(p[:, 1])]  # beside the topmost point
            canvas.text(anchor[0] + 6, anchor[1] - 14, ov.tag, ov.colour)
    x_dir, y_dir = (np.asarray(d, dtype=np.float64).reshape(3) for d in (geom.x_dir, geom.y_dir))
    return KeyImage(png_bytes(rgb), out_w, out_h, orientation, k, ps, tags, rgb,
                    (float(x_dir[0]), float(x_dir[1]), float(x_dir[2])),
                    (float(y_dir[0]), float(y_dir[1]), float(y_dir[2])))


def measurement_overlays(kind: str, points: Sequence[Sequence[float]], colour: tuple[int, int, int], tag: str = ""
                         ) -> list[Overlay]:
    """The overlays of a measurement from its LPS points: the strokes its kind's spec draws
    (:meth:`~imaging.measurement_kinds.MeasurementKind.drawing`, as the viewer's overlay does) without the
    dashed construction lines, and its marker as a dot; ``tag`` beside the first. A kind that is not
    registered (or cannot draw these points) is drawn as a polyline through its points."""
    from imaging.measurement_kinds import kind_spec

    try:
        drawing = kind_spec(kind).drawing(points)
    except ValueError:
        drawing = None
    if drawing is None:
        return [Overlay(np.asarray(points, dtype=np.float64).reshape(-1, 3), colour, tag=tag)]
    out = [Overlay(np.asarray(s.points, dtype=np.float64), colour, closed=s.closed)
           for s in drawing.strokes if not s.dashed]
    if drawing.marker is not None:
        out.append(Overlay(np.asarray(drawing.marker, dtype=np.float64).reshape(1, 3), colour))
    if out:
        out[0].tag = tag
    return out
