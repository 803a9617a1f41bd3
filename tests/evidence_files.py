"""Evidence files for the tests: real PDFs and images, and files that only look like them
(polyglots: another format behind a PDF, JPEG or PNG signature), each with the rule that
refuses it."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.exceptions import ValidationError
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from records.corrections import evidence

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>\n"


def real_pdf() -> bytes:
    """A one-page PDF as a scanner app writes it (Pillow's PDF driver, the page a JPEG)."""
    buffer = io.BytesIO()
    Image.new("RGB", (60, 30), "white").save(buffer, "PDF")
    return buffer.getvalue()


def real_png(size: tuple[int, int] = (4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, "PNG")
    return buffer.getvalue()


def real_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def _written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def build_pdf(*objects: bytes) -> bytes:
    """A PDF of these objects (object 1 is the catalog) with a correct cross-reference table,
    so that only what the objects say can refuse it."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def build_compressed_pdf(*objects: bytes, unlisted: int = 0) -> bytes:
    """A PDF 1.5 whose objects (object 1 is the catalog) are all in one compressed object
    stream, found through a cross-reference stream, as most current producers write them;
    with ``unlisted`` more (empty) objects packed in the stream that the cross-reference
    does not list."""
    numbers = [*range(1, len(objects) + 1), *range(1_000_000, 1_000_000 + unlisted)]
    bodies, offsets, at = [], [], 0
    for body in (*objects, *[b"<<>>"] * unlisted):
        offsets.append(at)
        bodies.append(body + b"\n")
        at += len(body) + 1
    index = b" ".join(b"%d %d" % pair for pair in zip(numbers, offsets, strict=True)) + b"\n"
    packed = zlib.compress(index + b"".join(bodies))
    stream_number, xref_number = len(objects) + 1, len(objects) + 2
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    stream_at = len(out)
    out += b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n" % (
        stream_number,
        len(numbers),
        len(index),
        len(packed),
    )
    out += b"stream\n" + packed + b"\nendstream\nendobj\n"
    xref_at = len(out)
    rows = [struct.pack(">BII", 0, 0, 65535)]
    rows += [struct.pack(">BII", 2, stream_number, n) for n in range(len(objects))]
    rows += [struct.pack(">BII", 1, stream_at, 0), struct.pack(">BII", 1, xref_at, 0)]
    table = b"".join(rows)
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 4] /Root 1 0 R /Length %d >>\nstream\n" % (
        xref_number,
        xref_number + 1,
        len(table),
    )
    out += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


_PAGES = (
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
)


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_open_action(JavaScript("app.alert(1)"))
    return _written(writer)


def pdf_with_hidden_javascript() -> bytes:
    """An open action whose names are written with ``#xx`` escapes (``/Java#53cript``)."""
    return build_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        *_PAGES,
        b"<< /S /Java#53cript /J#53 (app.alert\\(1\\)) >>",
    )


def compressed_pdf() -> bytes:
    return build_compressed_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", *_PAGES)


def compressed_pdf_with_javascript() -> bytes:
    """The script in an action inside the compressed object stream."""
    return build_compressed_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        *_PAGES,
        b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>",
    )


def pdf_with_launch() -> bytes:
    return build_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (calc.exe) >> >>",
        *_PAGES,
    )


def pdf_with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_attachment("payload.exe", b"MZ\x90\x00")
    return _written(writer)


def pdf_with_password() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("secret")
    return _written(writer)


def pdf_with_owner_password_only() -> bytes:
    """Opens without a password (printing restricted): many official PDFs are like this."""
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("", "owner", algorithm="AES-256")
    return _written(writer)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_garbage() -> bytes:
    """A PNG signature and header, then image data that is a web page (every chunk's CRC is
    right, so only decoding the pixels shows it)."""
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", HTML)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_that_is_html() -> bytes:
    """A real JPEG's headers (size, tables), and where its scan would start, a web page."""
    jpeg = real_jpeg()
    return jpeg[: jpeg.index(b"\xff\xda")] + HTML + b"\xff\xd9"


def _same_length(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(new) <= len(old)
    return data.replace(old, new.ljust(len(old)), 1)


# name -> (content, the code of the rule that refuses it)
POLYGLOTS = {
    "html behind %PDF-": (b"%PDF-1.4\n" + HTML + b"%%EOF\n", "type"),
    "svg behind %PDF-": (
        b"%PDF-1.7\n<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>\n%%EOF\n",
        "type",
    ),
    "elf behind %PDF-": (b"%PDF-\x7fELF\x02\x01\x01\x00" + b"\x00" * 56 + b"\n%%EOF\n", "type"),
    "pe behind %PDF-": (
        b"%PDF-MZ\x90\x00\x03" + b"\x00" * 59 + b"This program cannot be run in DOS mode.\n%%EOF\n",
        "type",
    ),
    "a truncated pdf": (real_pdf()[: len(real_pdf()) // 2], "type"),
    "a pdf with html after its end": (real_pdf() + HTML, "type"),
    "a pdf with html in its first comment": (
        _same_length(real_pdf(), b"% created by Pillow PDF driver", b"%<script>alert(1)</script>"),
        "type",
    ),
    "a pdf with javascript": (pdf_with_javascript(), "active_content"),
    "a pdf with escaped javascript": (pdf_with_hidden_javascript(), "active_content"),
    "a pdf with javascript in an object stream": (
        compressed_pdf_with_javascript(),
        "active_content",
    ),
    "a pdf with a launch action": (pdf_with_launch(), "active_content"),
    "a pdf with an attached file": (pdf_with_attachment(), "active_content"),
    "a pdf that needs a password": (pdf_with_password(), "encrypted"),
    "a pdf listing too many objects": (
        build_compressed_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", *_PAGES, *[b"<<>>"] * 60_000),
        "too_complex",
    ),
    "a pdf packing more objects than it lists": (
        build_compressed_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", *_PAGES, unlisted=60_000),
        "too_complex",
    ),
    "a png header and garbage": (png_with_garbage(), "type"),
    "a jpeg that is html": (jpeg_that_is_html(), "type"),
}


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body sending each file under exactly the name given (as a
    browser or any HTTP client may; the test client would take its base name first), and its
    content type."""
    boundary = "----xueji-evidence-test"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, filename, content in files:
        quoted = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


RULES = {
    "type": evidence.EVIDENCE_TYPE,
    "active_content": evidence.EVIDENCE_ACTIVE,
    "encrypted": evidence.EVIDENCE_ENCRYPTED,
    "too_complex": evidence.EVIDENCE_TOO_COMPLEX,
}


def rule(code: str) -> str:
    """The message of the rule ``code`` refuses a file with, in the active language."""
    return ValidationError(RULES[code], params={"count": "50,000"}).messages[0]
