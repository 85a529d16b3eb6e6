"""A fast reader for the headers of well-formed DICOM files: the scan's common case, several times faster
than a full pydicom parse.

A header-only scan spends most of its time in pydicom's element generator (about a microsecond of Python per
element, and a real CT header holds 250-300 elements, most of them private). :func:`read_header` reads the
header with one or two ``read`` calls and walks it with precompiled structs, keeping only the public elements
as pydicom ``RawDataElement`` objects -- exactly the raw bytes pydicom would keep, values not converted -- in
a pydicom `Dataset` with its file meta and encoding set as ``dcmread`` sets them. The scan's accessors read
that dataset as they read pydicom's (values are converted only when asked for).

It is deliberately a *recognizer*: it accepts only what it reads exactly -- a 128-byte preamble and ``DICM``,
little endian (implicit or explicit VR), elements in ascending order, lengths inside the file, sequences
nested at most 12 deep, no command elements, no functional-group sequences (enhanced multi-frame files) --
and returns None for anything else: deflated or big endian data, a file without preamble, a damaged or
unusual header. The caller then parses the file with pydicom, which reports what is wrong with it. So a
hostile file never gets less scrutiny than before, only a well-formed one gets read faster.

Private elements (odd groups) are skipped: the scan never reads them.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import BaseTag
from pydicom.uid import UID

__all__ = ["PixelHeader", "read_header"]

# ("native" | "encapsulated", bytes of the element header, value length): as the scan's _parse_header.
PixelHeader = tuple[str, int, int]

_EXPLICIT = struct.Struct("<HH2sH")
_IMPLICIT = struct.Struct("<HHL")
_U32 = struct.Struct("<L")
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})
_VRS = frozenset({b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"PN",
                  b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}) | _LONG_VRS
_VR_TEXT = {vr: vr.decode("ascii") for vr in _VRS}
_VR_INFO = {vr: (vr.decode("ascii"), vr in _LONG_VRS) for vr in _VRS}  # VR bytes -> (VR, 4-byte length)
_UNDEFINED = 0xFFFFFFFF
_TRANSFER_SYNTAX, _CHARSET = BaseTag(0x00020010), BaseTag(0x00080005)
_PIXEL_DATA = 0x7FE00010
_FLOAT_PIXEL_DATA = (0x7FE00008, 0x7FE00009)
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_IMPLICIT_LE = "1.2.840.10008.1.2"
_EXPLICIT_BE = "1.2.840.10008.1.2.2"
# Sequences whose items the scan reads (enhanced multi-frame geometry): pydicom parses those files.
_FULL_PARSE_TAGS = frozenset({0x52009229, 0x52009230})  # Shared / PerFrame FunctionalGroupsSequence
_FIRST_READ = 16384  # most headers end within this; the buffer grows while the walk needs more
_MAX_HEADER = 64 << 20  # a longer header is left to pydicom
_MAX_ELEMENTS = 50_000
_MAX_DEPTH = 12


class _Unusual(Exception):
    """Not a header this reader reads exactly: the caller parses the file with pydicom."""


class _Buffer:
    """The file's first bytes, read further on demand."""

    __slots__ = ("data", "fp", "size")

    def __init__(self, fp: BinaryIO, size: int) -> None:
        self.fp = fp
        self.size = size
        self.data = fp.read(min(size, _FIRST_READ))

    def need(self, end: int) -> bytes:
        """The buffer, holding at least ``end`` bytes (raises `_Unusual` past the end of the file)."""
        if end > len(self.data):
            if end > self.size or end > _MAX_HEADER:
                raise _Unusual
            more = self.fp.read(max(end - len(self.data), len(self.data)))
            self.data += more
            if end > len(self.data):
                raise _Unusual
        return self.data


def read_header(fp: BinaryIO, size: int) -> tuple[Dataset, int, PixelHeader | None] | None:
    """Read the header of the file ``fp`` (``size`` bytes, positioned at its start) up to its pixel data.

    Returns ``(dataset, pixel element offset, pixel element header)`` as the scan's full parser does -- the
    header None when the file has no (7FE0,0010) element -- or None when the file is not a well-formed
    header this reader reads exactly (see the module docstring): then parse it with pydicom.
    """
    try:
        return _read(_Buffer(fp, size))
    except (_Unusual, struct.error, UnicodeDecodeError, ValueError):
        return None


def _read(buf: _Buffer) -> tuple[Dataset, int, PixelHeader | None]:
    data = buf.need(132)
    if data[128:132] != b"DICM":
        raise _Unusual
    meta: dict[BaseTag, RawDataElement | DataElement] = {}
    pos = 132
    while True:
        data = buf.need(pos + 8)
        group, elem, vr, length = _EXPLICIT.unpack_from(data, pos)
        if group != 0x0002:
            break
        if vr not in _VRS:
            raise _Unusual
        header = 8
        if vr in _LONG_VRS:
            length = _U32.unpack_from(buf.need(pos + 12), pos + 8)[0]
            header = 12
        if length == _UNDEFINED:
            raise _Unusual
        start = pos + header
        data = buf.need(start + length)
        tag = BaseTag(group << 16 | elem)
        meta[tag] = RawDataElement(tag, _VR_TEXT[vr], length, data[start:start + length], start, False, True)
        pos = start + length
    syntax_raw = meta.get(_TRANSFER_SYNTAX)
    if not isinstance(syntax_raw, RawDataElement) or not syntax_raw.value:
        raise _Unusual
    syntax = UID(syntax_raw.value.decode("ascii").rstrip("\0 "))
    if syntax == _EXPLICIT_BE or not syntax.is_transfer_syntax or syntax.is_deflated or not syntax.is_little_endian:
        raise _Unusual
    implicit = syntax == _IMPLICIT_LE
    # pydicom switches encoding when the data disagrees with the transfer syntax: leave such files to it.
    data = buf.need(pos + 8)
    if (data[pos + 4:pos + 6] in _VRS) == implicit:
        raise _Unusual

    elements: dict[BaseTag, RawDataElement | DataElement] = {}
    pixel_offset, pixel = _walk(buf, pos, implicit, elements)
    ds = Dataset(elements)
    file_meta = FileMetaDataset(meta)
    file_meta.set_original_encoding(False, True, "")
    ds.file_meta = file_meta
    charset_raw = elements.get(_CHARSET)
    charset: str | list[str] = "iso8859"
    if isinstance(charset_raw, RawDataElement) and charset_raw.value:
        from pydicom.charset import convert_encodings
        from pydicom.values import convert_string

        charset = convert_encodings(convert_string(charset_raw.value, True))
    ds.set_original_encoding(implicit, True, charset)
    return ds, pixel_offset, pixel


def _walk(buf: _Buffer, pos: int, implicit: bool, out: dict[BaseTag, RawDataElement | DataElement]
          ) -> tuple[int, PixelHeader | None]:
    """Walk the top-level elements from ``pos`` to the pixel data, keeping the public ones in ``out``.

    The hot loop of a scan (about 270 elements per CT header): locals only, one dict lookup per VR, the
    rare cases behind one comparison each."""
    unpack_explicit, unpack_implicit, unpack_u32 = _EXPLICIT.unpack_from, _IMPLICIT.unpack_from, _U32.unpack_from
    vr_info = _VR_INFO
    data = buf.data
    n = len(data)
    size = buf.size
    last = 0x0002FFFF  # the data set follows the file meta group: also refuses command elements (group 0)
    count = 0
    while pos < size:
        if pos + 12 > n:
            data = buf.need(min(pos + 12, size))
            n = len(data)
            if pos + 8 > size:
                raise _Unusual  # a partial element at the end of the file
        if implicit:
            group, elem, length = unpack_implicit(data, pos)
            vr: str | None = None
            start = pos + 8
        else:
            group, elem, vr_bytes, length = unpack_explicit(data, pos)
            info = vr_info.get(vr_bytes)
            if info is None:
                raise _Unusual
            vr, long_form = info
            if long_form:
                length = unpack_u32(data, pos + 8)[0]
                start = pos + 12
            else:
                start = pos + 8
        tag = group << 16 | elem
        if tag <= last:
            raise _Unusual  # out of order (or a command element)
        last = tag
        count += 1
        if tag >= 0x52009229:  # the rare tags: functional groups, pixel data, items, too many elements
            if tag in _FULL_PARSE_TAGS or count > _MAX_ELEMENTS or group == 0xFFFE:
                raise _Unusual
            if tag == _PIXEL_DATA:
                if implicit:
                    return pos, ("native", 8, length)
                if vr not in ("OB", "OW"):
                    raise _Unusual
                return pos, ("encapsulated" if length == _UNDEFINED else "native", 12, length)
            if tag in _FLOAT_PIXEL_DATA:
                raise _Unusual  # refused, with its reason, by the full parser
        if length == _UNDEFINED:
            if not (vr == "SQ" or (implicit and vr is None)):
                raise _Unusual  # undefined-length UN and the like: pydicom's business
            value_end, end = _skip_sequence(buf, start, implicit, 0)
            data = buf.data
            n = len(data)
            if not group & 1:
                key = BaseTag(tag)
                out[key] = RawDataElement(key, "SQ", value_end - start, data[start:value_end], start, implicit, True)
            pos = end
            continue
        end = start + length
        if end > n:
            data = buf.need(end)
            n = len(data)
        if not group & 1:
            key = BaseTag(tag)
            out[key] = RawDataElement(key, vr, length, data[start:end], start, implicit, True)
        pos = end
    if pos != size:
        raise _Unusual
    return pos, None


def _skip_sequence(buf: _Buffer, pos: int, implicit: bool, depth: int) -> tuple[int, int]:
    """Skip an undefined-length sequence's items from ``pos``. Returns (end of the last item, position after
    the sequence delimiter)."""
    if depth >= _MAX_DEPTH:
        raise _Unusual
    while True:
        data = buf.need(pos + 8)
        group, elem, length = _IMPLICIT.unpack_from(data, pos)
        tag = group << 16 | elem
        if tag == _SEQUENCE_END:
            return pos, pos + 8
        if tag != _ITEM:
            raise _Unusual
        pos += 8
        if length != _UNDEFINED:
            buf.need(pos + length)
            pos += length
            continue
        pos = _skip_item(buf, pos, implicit, depth + 1)


def _skip_item(buf: _Buffer, pos: int, implicit: bool, depth: int) -> int:
    """Skip an undefined-length item's elements from ``pos``; returns the position after its delimiter."""
    while True:
        data = buf.need(pos + 8)
        if implicit:
            group, elem, length = _IMPLICIT.unpack_from(data, pos)
            tag = group << 16 | elem
            if tag == _ITEM_END:
                return pos + 8
            header = 8
            is_sequence = length == _UNDEFINED
        else:
            group, elem, vr_bytes, length = _EXPLICIT.unpack_from(data, pos)
            tag = group << 16 | elem
            if tag == _ITEM_END:
                return pos + 8
            if vr_bytes not in _VRS:
                raise _Unusual
            header = 8
            if vr_bytes in _LONG_VRS:
                length = _U32.unpack_from(buf.need(pos + 12), pos + 8)[0]
                header = 12
            is_sequence = vr_bytes == b"SQ"
        if length == _UNDEFINED:
            if not is_sequence:
                raise _Unusual
            _value_end, pos = _skip_sequence(buf, pos + header, implicit, depth)
            continue
        pos += header + length
        buf.need(pos)


def read_header_file(path: str | Path) -> tuple[Dataset, int, PixelHeader | None] | None:
    """:func:`read_header` of the file at ``path`` (a convenience for tests and benchmarks)."""
    p = Path(path)
    with open(p, "rb") as fp:
        return read_header(fp, p.stat().st_size)
