"""Photo uploads shared by every mechanism (budget proposals, walk observations, FPH bilans):
check an untrusted upload, turn it into a clean JPEG, and keep it in a content-addressed store.

We never keep or serve what the resident sent. Only a JPEG re-encoded from the decoded pixels is
stored, so the location, camera serial and comments in the original metadata are gone, and
whatever a polyglot file hid after or inside the picture is gone too.

What we accept is decided by the bytes themselves, never by the file name or the browser's
Content-Type: JPEG (including the multi-picture JPEG of some phones), PNG, WebP and GIF. Of an
animated GIF, WebP or PNG we keep the first frame. Everything else is refused, including SVG
(it can carry scripts), HEIC, AVIF, TIFF and PDF.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import tempfile
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps

JPEG_QUALITY = 82
THUMBNAIL_SIDE = 400

_MESSAGES = {
    "empty": _l("The file is empty. Choose a photo and try again."),
    "not_an_image": _l("This file is not a photo. Send a JPEG, PNG or WebP picture."),
    "unsupported_type": _l("This type of picture is not accepted. Send a JPEG, PNG or WebP picture."),
    "too_large": _l("This photo is too large: the limit is %(max_mb)s MB. Send a smaller photo."),
    "too_many_pixels": _l("This picture is too big to be processed. Send a smaller photo."),
    "corrupt": _l("This photo is damaged or incomplete. Try sending it again."),
}


class PhotoError(ValueError):
    """An upload we refuse. `code` is for programs and logs, `message` is for the resident."""

    def __init__(self, code: str, **params):
        if code not in _MESSAGES:
            raise ValueError(f"unknown photo error code {code!r}")
        self.code = code
        self.params = params
        detail = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()))
        super().__init__(f"{code} ({detail})" if detail else code)

    @property
    def message(self) -> str:
        """In the current request's language (English outside a request)."""
        text = _MESSAGES[self.code]
        if self.code == "too_large":
            return text % {"max_mb": format_decimal(self.params["max_mb"])}
        return str(text)


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes = field(repr=False)
    width: int
    height: int
    sha256: str
    content_type: str = "image/jpeg"


# Pillow's names; MPO is the multi-picture JPEG some phones write (Pillow opens it as a JPEG).
_OPENERS = ("JPEG", "PNG", "WEBP", "GIF")
_ACCEPTED = frozenset(_OPENERS) | {"MPO"}
_ACCEPTED_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
# Pictures we knowingly refuse, so the resident hears "wrong kind of picture", not "not a photo".
_REFUSED_MAGIC = (
    b"II*\x00", b"MM\x00*",  # TIFF, and the camera RAW formats built on it
    b"8BPS",  # Photoshop
    b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51",  # JPEG 2000
    b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n",  # JPEG XL
)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_SVG = re.compile(rb"<svg[\s>/]", re.IGNORECASE)

# What Pillow raises on malformed input; anything else is a bug and should surface.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)
_SRGB = ImageCms.createProfile("sRGB")


def process_photo(
    data: bytes | BinaryIO,
    *,
    max_bytes: int,
    max_pixels: int = 40_000_000,
    max_side: int = 1600,
) -> ProcessedPhoto:
    """Check an upload and return it as a clean JPEG whose longest side is at most `max_side`.

    `data` is the bytes or a readable file (a werkzeug FileStorage works); no more than
    `max_bytes` + 1 bytes are read from a file. Raises PhotoError.

    Pillow's own decompression-bomb guard (Image.MAX_IMAGE_PIXELS) is treated as a refusal
    too, so `max_pixels` above it has no effect.
    """
    raw = _read(data, max_bytes)
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Its complaints about a picture's metadata ("Corrupt EXIF data") are about the
        # resident's file, not our code: nothing to log.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        im = _open(raw, max_pixels)
        icc = im.info.get("icc_profile")
        _decode(im, max_side, max_pixels)
        return _encode(_clean_rgb(im, icc, max_side))


def thumbnail(photo: ProcessedPhoto | bytes, max_side: int = THUMBNAIL_SIDE) -> ProcessedPhoto:
    """A smaller copy for list pages, from a processed photo (or from upload bytes)."""
    data = photo.data if isinstance(photo, ProcessedPhoto) else bytes(photo)
    return process_photo(data, max_bytes=max(len(data), 1), max_side=max_side)


def _read(data, max_bytes: int) -> bytes:
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        # Stop one byte past the limit: enough to know it is too large, without reading it all.
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = data.read(max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    if not raw:
        raise PhotoError("empty")
    if len(raw) > max_bytes:
        raise PhotoError("too_large", max_bytes=max_bytes, max_mb=_megabytes(max_bytes))
    return raw


def _megabytes(n: int) -> float | int:
    mb = round(n / (1024 * 1024), 1)
    return int(mb) if mb == int(mb) else mb


def _open(raw: bytes, max_pixels: int) -> Image.Image:
    """Identify the picture from its header only: Image.open does not decode the pixels."""
    try:
        im = Image.open(io.BytesIO(raw), formats=_OPENERS)
    except _BOMB:
        raise PhotoError("too_many_pixels", max_pixels=max_pixels) from None
    except _DECODE_ERRORS:
        raise PhotoError(_why_refused(raw)) from None
    if im.format not in _ACCEPTED:
        raise PhotoError("unsupported_type")
    width, height = im.size
    if width <= 0 or height <= 0:
        raise PhotoError("corrupt")
    if width * height > max_pixels:
        raise PhotoError("too_many_pixels", max_pixels=max_pixels, width=width, height=height)
    return im


def _why_refused(raw: bytes) -> str:
    head = raw[:64]
    if head.startswith(_ACCEPTED_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "corrupt"  # the right kind of file, but Pillow could not even read its header
    if head.startswith(_REFUSED_MAGIC) or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS):
        return "unsupported_type"
    if head[:2] == b"BM" and len(raw) >= 18 and int.from_bytes(raw[14:18], "little") in (12, 40, 52, 56, 64, 108, 124):
        return "unsupported_type"  # BMP
    if _SVG.search(raw[:4096]):
        return "unsupported_type"
    return "not_an_image"


def _decode(im: Image.Image, max_side: int, max_pixels: int) -> None:
    if im.format in ("JPEG", "MPO"):
        # libjpeg can decode at 1/2, 1/4 or 1/8 scale: a 48 MP photo never exists at full size.
        # Twice the target, as Image.thumbnail does, keeps the final resize sharp.
        scale = min(1.0, max_side / max(im.size))
        im.draft(None, (round(im.width * scale) * 2, round(im.height * scale) * 2))
    try:
        im.load()
    except _BOMB:
        raise PhotoError("too_many_pixels", max_pixels=max_pixels) from None
    except _DECODE_ERRORS:
        raise PhotoError("corrupt") from None


def _clean_rgb(im: Image.Image, icc: bytes | None, max_side: int) -> Image.Image:
    """Upright, at most max_side, sRGB, on white, and carrying no metadata at all."""
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except _DECODE_ERRORS:
        pass  # unreadable EXIF: keep the picture as stored rather than refuse it
    if im.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):
        im = im.convert("I").point(lambda v: v / 256).convert("L")  # 16-bit grey would clip to white
    if im.has_transparency_data:
        im = im.convert("RGBA")
    elif im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    # Resampling palette images is nearest-neighbour only, hence after the conversion above.
    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if icc:
        try:
            im = ImageCms.profileToProfile(
                im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB,
                outputMode="RGBA" if im.mode == "RGBA" else "RGB",
            )
        except (ImageCms.PyCMSError, *_DECODE_ERRORS):
            pass  # an unusable profile is dropped; browsers then assume sRGB
    if im.mode != "RGBA":
        im = im.convert("RGB")
    # A fresh image: nothing from the original's info (EXIF, XMP, text chunks...) can follow.
    clean = Image.new("RGB", im.size, (255, 255, 255))
    clean.paste(im, mask=im.getchannel("A") if im.mode == "RGBA" else None)
    return clean


def _encode(im: Image.Image) -> ProcessedPhoto:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
    data = buf.getvalue()
    return ProcessedPhoto(data=data, width=im.width, height=im.height, sha256=hashlib.sha256(data).hexdigest())


_SHA256 = re.compile(r"[0-9a-f]{64}")


class PhotoStore:
    """Processed photos on disk under their SHA-256: `<directory>/<aa>/<sha256>.jpg`.

    Content addressing makes a second save of the same photo free and lets files be cached
    forever. Every method refuses an id that is not 64 lowercase hex digits, so an id taken
    from a URL can never reach outside the directory.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def path(self, sha: str) -> Path:
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise ValueError("a photo id is 64 lowercase hexadecimal digits")
        return self.directory / sha[:2] / f"{sha}.jpg"

    def save(self, photo: ProcessedPhoto) -> str:
        sha = hashlib.sha256(photo.data).hexdigest()
        if sha != photo.sha256:
            raise ValueError("the photo's sha256 does not match its data")
        target = self.path(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target then renamed: a reader never sees half a file, and two
        # concurrent saves of the same photo both end with the same complete file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(photo.data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a front server sharing the files
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def open(self, sha: str) -> bytes:
        """The JPEG's bytes; FileNotFoundError if there is no such photo."""
        return self.path(sha).read_bytes()

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def delete(self, sha: str) -> bool:
        """Remove the photo; False if it was not there. Callers check nothing else uses it."""
        try:
            self.path(sha).unlink()
        except FileNotFoundError:
            return False
        return True
