"""Read the text drawn in a reportlab PDF (content streams are ASCII85 + Flate encoded)."""

from __future__ import annotations

import base64
import re
import zlib

_STREAM = re.compile(rb"<<(?P<dict>(?:(?!>>).)*?)>>\s*stream\r?\n(?P<data>.*?)\s*endstream", re.S)
_TEXT = re.compile(r"\((?P<text>(?:[^()\\]|\\.)*)\)\s*Tj")


def pdf_streams(pdf: bytes) -> list[bytes]:
    streams = []
    for match in _STREAM.finditer(pdf):
        header, data = match.group("dict"), match.group("data")
        if b"/ASCII85Decode" in header:
            data = base64.a85decode(data.strip(), adobe=True)
        if b"/FlateDecode" in header:
            data = zlib.decompress(data)
        streams.append(data)
    return streams


def pdf_text(pdf: bytes) -> list[str]:
    """The strings drawn with Tj, in drawing order."""
    out = []
    for stream in pdf_streams(pdf):
        out.extend(
            m.group("text").replace("\\(", "(").replace("\\)", ")") for m in _TEXT.finditer(stream.decode("latin-1"))
        )
    return out


def pdf_page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def pdf_image_count(pdf: bytes) -> int:
    """Image XObjects embedded in the PDF (a logo is one)."""
    return len(re.findall(rb"/Subtype\s*/Image\b", pdf))
