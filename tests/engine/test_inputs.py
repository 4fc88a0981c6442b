"""Images of every mode become RGB; bad images and parameters are clear errors."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from image_to_video.engine import InvalidImage, InvalidParameter, MotionParams, load_image, render_video
from image_to_video.engine.source import probe_image


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size; the pixel data is a tiny stub."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def _jpeg_bytes(image, **save):
    buf = io.BytesIO()
    image.save(buf, "JPEG", **save)
    return buf.getvalue()


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (80, 40), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = _jpeg_bytes(image, exif=exif.tobytes())
    assert load_image(data).shape == (80, 40, 3)
    assert probe_image(data).oriented_size == (40, 80)


@pytest.mark.parametrize(
    "image,expected",
    [
        (Image.new("RGBA", (8, 8), (0, 0, 0, 0)), (255, 255, 255)),  # transparent flattens to white
        (Image.new("RGBA", (8, 8), (10, 20, 30, 255)), (10, 20, 30)),
        (Image.new("LA", (8, 8), (100, 255)), (100, 100, 100)),
        (Image.new("L", (8, 8), 77), (77, 77, 77)),
        (Image.new("1", (8, 8), 1), (255, 255, 255)),
        (Image.new("RGB", (8, 8), (1, 2, 3)).quantize(), (1, 2, 3)),
    ],
)
def test_modes_become_rgb(image, expected):
    buf = io.BytesIO()
    image.save(buf, "PNG")
    rgb = load_image(buf.getvalue())
    assert rgb.dtype == np.uint8 and rgb.shape == (8, 8, 3)
    assert tuple(rgb[4, 4]) == expected


def test_palette_with_transparency_is_flattened():
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.info["transparency"] = 0
    buf = io.BytesIO()
    image.save(buf, "PNG", transparency=0)
    assert tuple(load_image(buf.getvalue())[0, 0]) == (255, 255, 255)


def test_sixteen_bit_grey_keeps_its_range():
    values = np.full((8, 8), 0xC000, np.uint16)
    buf = io.BytesIO()
    Image.fromarray(values).save(buf, "PNG")
    assert tuple(load_image(buf.getvalue())[0, 0]) == (0xC0, 0xC0, 0xC0)


def test_cmyk_jpeg_and_webp_are_read():
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # red
    r, g, b = load_image(_jpeg_bytes(cmyk))[8, 8]
    assert r > 200 and g < 60 and b < 60
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 128, 255)).save(buf, "WEBP", lossless=True)
    assert tuple(load_image(buf.getvalue())[8, 8]) == (0, 128, 255)


def test_large_jpeg_is_decoded_at_a_reduced_scale_when_asked():
    data = _jpeg_bytes(Image.new("RGB", (2000, 1600), (90, 90, 90)))
    assert load_image(data, min_size=(400, 300)).shape == (400, 500, 3), "1/4 scale still covers 400x300"
    assert load_image(data, min_size=(1800, 1000)).shape == (1600, 2000, 3), "1/2 scale would be too small"


def test_reduced_decoding_respects_exif_rotation():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 2000x1000, shown 1000x2000
    data = _jpeg_bytes(Image.new("RGB", (2000, 1000), (90, 90, 90)), exif=exif.tobytes())
    assert load_image(data, min_size=(250, 500)).shape == (500, 250, 3), "upright, at 1/4 scale"
    assert load_image(data, min_size=(400, 900)).shape == (1000, 500, 3), "900 tall upright needs 1/2 scale"
    assert load_image(data, min_size=(600, 500)).shape == (2000, 1000, 3), "600 wide upright needs it all"


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "empty"),
        (b"hello, I am a text file\n" * 10, "not an image"),
        (_png_header_only(20000, 100), "12000 px"),
        (_png_header_only(7000, 7000), "40 megapixels"),
        (_png_header_only(100000, 100000), "too large"),
    ],
)
def test_bad_images_are_named(data, message, tmp_path):
    with pytest.raises(InvalidImage, match=message):
        load_image(data)
    path = tmp_path / "bad.png"
    path.write_bytes(data)
    with pytest.raises(InvalidImage, match=message):
        render_video(path, tmp_path / "o.mp4", MotionParams(width=64, height=64, duration=1))
    assert not (tmp_path / "o.mp4").exists()


def test_truncated_images_are_corrupt_not_a_crash():
    full = _jpeg_bytes(Image.effect_noise((256, 256), 60).convert("RGB"), quality=95)
    with pytest.raises(InvalidImage, match="truncated or corrupt"):
        load_image(full[: len(full) // 2])
    buf = io.BytesIO()
    Image.effect_noise((128, 128), 60).save(buf, "PNG")
    with pytest.raises(InvalidImage):
        load_image(buf.getvalue()[:300])


def test_other_formats_are_refused():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "BMP")
    with pytest.raises(InvalidImage, match="BMP"):
        load_image(buf.getvalue())


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"motion_type": "wobble"}, "motionType"),
        ({"motion_type": "zoom", "motion_direction": "left"}, "motionDirection"),
        ({"motion_type": "rotation", "motion_direction": "up"}, "motionDirection"),
        ({"motion_strength": 0}, "motionStrength"),
        ({"motion_strength": 101}, "motionStrength"),
        ({"motion_strength": 5.5}, "motionStrength"),
        ({"duration": 0.5}, "duration"),
        ({"duration": 10.5}, "duration"),
        ({"duration": float("nan")}, "duration"),
        ({"width": 63}, "width"),
        ({"height": 1921}, "height"),
        ({"width": 101}, "width"),
        ({"output_format": "avi"}, "outputFormat"),
        ({"fps": 0}, "fps"),
        ({"fps": 61}, "fps"),
        ({"crf": 52}, "crf"),
        ({"preset": "ludicrous"}, "preset"),
    ],
)
def test_out_of_range_parameters_name_the_parameter(kwargs, param):
    with pytest.raises(InvalidParameter) as info:
        MotionParams(**kwargs).validate()
    assert info.value.param == param and param in str(info.value)


def test_odd_sizes_are_fine_for_gif(tmp_path, photo):
    out = tmp_path / "odd.gif"
    render_video(photo, out, MotionParams.for_output(out, width=65, height=67, duration=1))
    assert Image.open(out).size == (65, 67)
