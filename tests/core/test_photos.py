"""Photo uploads: what is accepted, what is refused and why, what survives (pixels) and what
does not (metadata, hidden payloads), and the content-addressed store."""
from __future__ import annotations

import hashlib
import io
import os
import random
import struct
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin
from werkzeug.datastructures import FileStorage

from participation.core.photos import PhotoError, PhotoStore, ProcessedPhoto, process_photo, thumbnail

from ..conftest import make_app

MB = 1024 * 1024
RED, BLUE, GREEN, WHITE = (220, 20, 20), (20, 20, 220), (0, 160, 0), (255, 255, 255)


# --- building real pictures in memory ------------------------------------------------------

def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def halves(size=(300, 200), left=RED, right=BLUE, mode="RGB") -> Image.Image:
    """Left half one colour, right half another: shows which way a picture was turned."""
    im = Image.new(mode, size, right)
    im.paste(left, (0, 0, size[0] // 2, size[1]))
    return im


def noisy_jpeg(size=(256, 256)) -> bytes:
    return encode(Image.effect_noise(size, 60).convert("RGB"), "JPEG", quality=95)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height; the pixel data is a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def opened(photo: ProcessedPhoto) -> Image.Image:
    return Image.open(io.BytesIO(photo.data))


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def process(data, **kwargs) -> ProcessedPhoto:
    kwargs.setdefault("max_bytes", 10 * MB)
    return process_photo(data, **kwargs)


def refusal(data, **kwargs) -> PhotoError:
    with pytest.raises(PhotoError) as caught:
        process(data, **kwargs)
    return caught.value


@pytest.fixture
def never_decoded(monkeypatch):
    """Fail the test if any pixel data is decoded."""

    def decode(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)


# --- metadata ----------------------------------------------------------------------------------

def phone_jpeg(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
           b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(halves(), "JPEG", exif=exif, xmp=xmp, comment=b"secret comment", icc_profile=icc)


def test_phone_metadata_gps_included_is_stripped():
    original = phone_jpeg()
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really carries a location
    assert {"exif", "xmp", "comment", "icc_profile"} <= source.info.keys()

    photo = process(original)

    out = opened(photo)
    assert len(out.getexif()) == 0
    assert not {"exif", "xmp", "comment", "icc_profile"} & out.info.keys()
    for trace in (b"Exif", b"GPS", b"PhoneMaker", b"http://ns.adobe.com/xap", b"secret comment", b"ICC_PROFILE"):
        assert trace not in photo.data


@pytest.mark.parametrize(
    "orientation, size, top_left, bottom_right",
    [
        (1, (300, 200), RED, BLUE),
        (3, (300, 200), BLUE, RED),  # upside down
        (6, (200, 300), RED, BLUE),  # turned a quarter clockwise to display: left edge on top
        (8, (200, 300), BLUE, RED),  # a quarter anticlockwise: left edge at the bottom
    ],
)
def test_exif_orientation_is_applied_before_it_is_dropped(orientation, size, top_left, bottom_right):
    photo = process(phone_jpeg(orientation))

    out = opened(photo).convert("RGB")
    assert (photo.width, photo.height) == out.size == size
    assert near(out.getpixel((10, 10)), top_left)
    assert near(out.getpixel((size[0] - 10, size[1] - 10)), bottom_right)


def test_png_text_chunks_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Author")
    info.add_text("Comment", "zipped secret", zip=True)
    info.add_itxt("Description", "international secret")
    original = encode(halves(), "PNG", pnginfo=info)
    assert Image.open(io.BytesIO(original)).text["Author"] == "Secret Author"

    photo = process(original)

    for secret in (b"Secret Author", b"zipped secret", b"international secret", b"tEXt", b"zTXt", b"iTXt"):
        assert secret not in photo.data
    assert opened(photo).format == "JPEG"


def transparent_left(fmt: str) -> bytes:
    im = Image.new("RGBA", (100, 80), GREEN + (255,))
    im.paste((0, 0, 0, 0), (0, 0, 50, 80))
    if fmt == "GIF":
        return encode(im.convert("RGB").quantize(4), "GIF", transparency=_index_of_black(im))
    return encode(im, fmt, **({"lossless": True} if fmt == "WEBP" else {}))


def _index_of_black(im: Image.Image) -> int:
    palette = im.convert("RGB").quantize(4).getpalette()[:12]
    return [tuple(palette[i:i + 3]) for i in range(0, 12, 3)].index((0, 0, 0))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_transparency_is_flattened_on_white(fmt):
    photo = process(transparent_left(fmt))

    out = opened(photo)
    assert out.mode == "RGB"
    assert near(out.getpixel((10, 40)), WHITE, 10)
    assert near(out.getpixel((90, 40)), GREEN)


# --- what is accepted, and what comes out -------------------------------------------------------

ACCEPTED = {
    "JPEG": lambda: encode(halves(), "JPEG"),
    "PNG": lambda: encode(halves(), "PNG"),
    "WebP": lambda: encode(halves(), "WEBP"),
    "GIF": lambda: encode(halves(), "GIF"),
    "multi-picture JPEG (MPO)": lambda: encode(halves(), "MPO", save_all=True, append_images=[halves(left=GREEN)]),
    "grey JPEG": lambda: encode(halves(mode="L", left=30, right=200), "JPEG"),
    "CMYK JPEG": lambda: encode(halves(mode="CMYK", left=(0, 255, 255, 0), right=(255, 255, 0, 0)), "JPEG"),
}


@pytest.mark.parametrize("kind", ACCEPTED)
def test_accepted_types_come_out_as_rgb_jpeg(kind):
    photo = process(ACCEPTED[kind]())

    out = opened(photo)
    assert out.format == "JPEG" and out.mode == "RGB"
    assert photo.content_type == "image/jpeg"
    assert out.size == (photo.width, photo.height) == (300, 200)


def test_output_is_progressive_and_hashed():
    photo = process(encode(halves(), "PNG"))

    assert opened(photo).info.get("progressive") == 1
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()


def test_same_upload_gives_same_photo():
    original = noisy_jpeg()
    assert process(original).sha256 == process(original).sha256


def test_animated_gif_keeps_its_first_frame():
    frames = [Image.new("RGB", (60, 40), RED), Image.new("RGB", (60, 40), BLUE)]
    original = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(original)).n_frames == 2

    out = opened(process(original)).convert("RGB")
    assert near(out.getpixel((30, 20)), RED)


def test_sixteen_bit_grey_png_keeps_its_tones():
    im = Image.new("I;16", (40, 40), 32768)  # mid-grey on 16 bits
    out = opened(process(encode(im, "PNG")))
    assert near(out.getpixel((20, 20)), (128, 128, 128), 5)


def test_unusable_colour_profile_is_dropped_not_refused():
    photo = process(encode(halves(), "JPEG", icc_profile=b"not a colour profile"))

    out = opened(photo)
    assert "icc_profile" not in out.info
    assert near(out.getpixel((10, 10)), RED)


@pytest.mark.filterwarnings("error")
def test_unreadable_exif_does_not_refuse_the_photo():
    photo = process(encode(halves(), "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\xff\xff\xff\xff"))
    assert (photo.width, photo.height) == (300, 200)
    assert b"Exif" not in photo.data


@pytest.mark.parametrize("size, expected", [((3000, 1000), (1600, 533)), ((1000, 3000), (533, 1600))])
def test_longest_side_is_capped(size, expected):
    photo = process(encode(halves(size), "JPEG"))
    assert (photo.width, photo.height) == opened(photo).size == expected


def test_big_jpeg_is_downscaled_with_its_colours():
    photo = process(encode(halves((6000, 4000)), "JPEG"), max_side=800)
    out = opened(photo)
    assert out.size == (800, 533)
    assert near(out.getpixel((10, 10)), RED) and near(out.getpixel((790, 520)), BLUE)


def test_small_photo_is_not_enlarged():
    photo = process(encode(halves((120, 90)), "PNG"))
    assert (photo.width, photo.height) == (120, 90)


def test_thumbnail_of_a_processed_photo():
    photo = process(encode(halves((3000, 2000)), "JPEG"))
    small = thumbnail(photo)
    assert (small.width, small.height) == opened(small).size == (400, 267)
    assert small.sha256 == hashlib.sha256(small.data).hexdigest()


def test_thumbnail_of_upload_bytes_is_cleaned_too():
    small = thumbnail(phone_jpeg(6), max_side=100)
    assert (small.width, small.height) == (67, 100)
    assert b"Exif" not in small.data and b"PhoneMaker" not in small.data


# --- refusals -----------------------------------------------------------------------------------

REFUSED = {
    "empty": (b"", "empty"),
    "SVG": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "unsupported_type"),
    "SVG with prolog": (b'<?xml version="1.0"?>\n<!-- x -->\n<svg width="10" height="10"/>', "unsupported_type"),
    "PDF": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n", "not_an_image"),
    "HTML": (b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>", "not_an_image"),
    "HTML then a JPEG": (b"<html><script>alert(1)</script></html>" + encode(halves(), "JPEG"), "not_an_image"),
    "random bytes": (random.Random(20240501).randbytes(4096), "not_an_image"),
    "HEIC": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "unsupported_type"),
    "AVIF": (encode(halves(), "AVIF"), "unsupported_type"),
    "TIFF": (encode(halves(), "TIFF"), "unsupported_type"),
    "BMP": (encode(halves(), "BMP"), "unsupported_type"),
    "JPEG cut in the middle": (noisy_jpeg()[: len(noisy_jpeg()) // 2], "corrupt"),
    "JPEG cut in its header": (noisy_jpeg()[:20], "corrupt"),
    "PNG cut in the middle": (encode(Image.effect_noise((128, 128), 60), "PNG")[:2000], "corrupt"),
    "GIF header then a script": (b"GIF89a=1;alert(document.domain)//", "corrupt"),
}


@pytest.mark.parametrize("kind", REFUSED)
def test_refused_content_gets_its_code(kind):
    data, code = REFUSED[kind]
    assert refusal(data).code == code


def test_file_name_and_content_type_are_not_trusted():
    html = b"<html><body><img src=x onerror=alert(1)></body></html>"
    upload = FileStorage(io.BytesIO(html), filename="photo.jpg", content_type="image/jpeg")
    assert refusal(upload).code == "not_an_image"

    real = FileStorage(io.BytesIO(encode(halves(), "PNG")), filename="notes.pdf", content_type="application/pdf")
    assert process(real).width == 300


def test_payload_after_a_real_jpeg_is_not_kept():
    payload = b"<script>alert(1)</script>PK\x03\x04hidden.zip"
    photo = process(encode(halves(), "JPEG", comment=b"<?php system($_GET[c]); ?>") + payload)
    assert b"<script>" not in photo.data and b"hidden.zip" not in photo.data and b"<?php" not in photo.data


def test_over_max_bytes_is_refused():
    data = encode(halves(), "PNG")
    error = refusal(data, max_bytes=len(data) - 1)
    assert error.code == "too_large"
    assert error.params["max_bytes"] == len(data) - 1
    assert process(data, max_bytes=len(data)).width == 300  # the limit itself is allowed


def test_a_stream_is_not_read_past_the_limit():
    class Counting(io.RawIOBase):
        """Four megabytes, handed out as asked, counting what was taken."""

        given = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), 4 * MB - self.given)
            buffer[:n] = b"\xff" * n
            self.given += n
            return n

    stream = Counting()
    assert refusal(stream, max_bytes=MB).code == "too_large"
    assert stream.given <= MB + 1


@pytest.mark.parametrize("pillow_guard", [True, False], ids=["pillow guard on", "pillow guard off"])
def test_huge_declared_size_is_refused_before_decoding(pillow_guard, never_decoded, monkeypatch):
    if not pillow_guard:
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    data = png_claiming(50_000, 50_000)
    assert len(data) < 200
    assert refusal(data).code == "too_many_pixels"


def test_declared_size_over_max_pixels_is_refused_before_decoding(never_decoded):
    error = refusal(png_claiming(8000, 6000))  # 48 MP: under Pillow's guard, over ours
    assert error.code == "too_many_pixels"
    assert (error.params["width"], error.params["height"]) == (8000, 6000)


def test_pillow_bomb_warning_is_a_refusal(never_decoded):
    assert 10_000 * 10_000 > Image.MAX_IMAGE_PIXELS  # Pillow warns but would go on
    assert refusal(png_claiming(10_000, 10_000), max_pixels=10**9).code == "too_many_pixels"


def test_max_pixels_applies_to_real_pictures():
    assert refusal(encode(halves((100, 100)), "PNG"), max_pixels=9_999).code == "too_many_pixels"


# --- messages -----------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["empty", "not_an_image", "unsupported_type", "too_many_pixels", "corrupt"])
def test_every_code_has_a_plain_message(code):
    message = PhotoError(code).message
    assert isinstance(message, str) and message.endswith(".") and "%" not in message


def test_too_large_message_states_the_limit():
    error = refusal(b"x" * (10 * MB + 1), max_bytes=10 * MB)
    assert error.message == "This photo is too large: the limit is 10 MB. Send a smaller photo."


def test_too_large_limit_is_written_the_local_way():
    app = make_app("sqlite://")
    with app.test_request_context("/?lang=fr"):
        assert "2,5" in PhotoError("too_large", max_mb=2.5).message


def test_unknown_code_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown photo error code"):
        PhotoError("too_blue")


# --- the store ----------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path):
    return PhotoStore(tmp_path / "uploads")


@pytest.fixture
def photo():
    return process(encode(halves(), "PNG"))


def test_store_round_trip(store, photo):
    sha = store.save(photo)

    assert sha == photo.sha256
    assert store.path(sha) == store.directory / sha[:2] / f"{sha}.jpg"
    assert store.exists(sha)
    assert store.open(sha) == photo.data


def test_saving_the_same_photo_twice_changes_nothing(store, photo):
    store.save(photo)
    first = store.path(photo.sha256).stat()

    assert store.save(photo) == photo.sha256
    again = store.path(photo.sha256).stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert os.listdir(store.path(photo.sha256).parent) == [f"{photo.sha256}.jpg"]


def test_failed_write_leaves_no_partial_file(store, photo, monkeypatch):
    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.save(photo)
    assert not store.exists(photo.sha256)
    assert os.listdir(store.path(photo.sha256).parent) == []


def test_store_refuses_a_photo_whose_hash_lies(store, photo):
    forged = ProcessedPhoto(data=photo.data, width=photo.width, height=photo.height, sha256="0" * 64)
    with pytest.raises(ValueError, match="does not match"):
        store.save(forged)
    assert not store.exists("0" * 64)


def test_delete(store, photo):
    store.save(photo)

    assert store.delete(photo.sha256) is True
    assert not store.exists(photo.sha256)
    assert store.delete(photo.sha256) is False
    with pytest.raises(FileNotFoundError):
        store.open(photo.sha256)


BAD_IDS = {
    "parent directory": "../x",
    "traversal padded to 64": "../" + "a" * 61,
    "absolute path": "/" + "a" * 63,
    "uppercase": "A" * 64,
    "too short": "a" * 63,
    "too long": "a" * 65,
    "trailing newline": "a" * 64 + "\n",
    "not hex": "g" * 64,
    "empty": "",
    "not a string": None,
}


@pytest.mark.parametrize("method", ["path", "open", "exists", "delete"])
@pytest.mark.parametrize("bad", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_store_refuses_ids_that_are_not_sha256(store, method, bad):
    with pytest.raises(ValueError, match="64 lowercase hexadecimal"):
        getattr(store, method)(bad)
