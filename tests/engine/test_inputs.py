"""Images of every mode become RGB; bad images and parameters are clear errors."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from image_to_video.engine import (
    InvalidImage,
    InvalidParameter,
    MotionParams,
    load_image,
    plan_video,
    render_video,
)
from image_to_video.engine.source import probe_image
from tests.colour_profiles import DISPLAY_P3, P3_PRIMARIES
from tests.videos import decode_frames


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


def _srgb_reference(rgb, red, green, blue, gamma: float = 2.2) -> np.ndarray:
    """The same conversion worked by hand: the photo's primaries to XYZ (D50), then to sRGB's."""
    to_xyz = np.array([red, green, blue]).T
    srgb_to_xyz = np.array([(0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)]).T
    linear = np.linalg.solve(srgb_to_xyz, to_xyz @ (np.asarray(rgb, float) / 255) ** gamma)
    linear = np.clip(linear, 0, 1)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255)


@pytest.mark.parametrize(
    "fmt,save", [("PNG", {}), ("JPEG", {"quality": 100, "subsampling": 0}), ("WEBP", {"lossless": True})]
)
def test_a_display_p3_photo_is_brought_to_srgb(fmt, save):
    colours = [(200, 100, 50), (40, 160, 90), (128, 128, 128), (30, 60, 220)]
    pixels = np.repeat(np.array(colours, np.uint8), 16, axis=0).reshape(4, 16, 3).repeat(16, axis=0)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, icc_profile=DISPLAY_P3, **save)
    decoded = load_image(buf.getvalue())
    for row, colour in enumerate(colours):
        got = decoded[row * 16 + 8, 8].astype(int)
        expected = _srgb_reference(colour, *P3_PRIMARIES)
        assert np.abs(got - expected).max() <= 2, (colour, got, expected)
    assert decoded[8, 8, 0] - decoded[8, 8, 2] > 200 - 50 + 20, "the P3 orange is more saturated in sRGB numbers"
    grey = decoded[40, 8].astype(int)
    assert grey.max() - grey.min() <= 1, "neutral stays neutral"


def test_srgb_untagged_and_broken_profiles_leave_the_pixels_as_they_are():
    from PIL import ImageCms

    pixels = np.full((16, 16, 3), (200, 100, 50), np.uint8)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for profile in (None, srgb, b"not a profile" * 10, DISPLAY_P3[:200]):
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "PNG", **({"icc_profile": profile} if profile else {}))
        assert (load_image(buf.getvalue())[8, 8] == (200, 100, 50)).all(), profile


def test_the_video_shows_the_photo_in_srgb(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 100, 50)).save(buf, "PNG", icc_profile=DISPLAY_P3)
    out = tmp_path / "p3.mp4"
    render_video(buf.getvalue(), out, MotionParams(width=64, height=64, duration=1))
    middle = decode_frames(out)[0][32, 32].astype(int)
    assert np.abs(middle - _srgb_reference((200, 100, 50), *P3_PRIMARIES)).max() <= 6, middle


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
        (_png_header_only(1, 1), "1×1; at least 8 px"),
        (_png_header_only(4000, 4), "4000×4; at least 8 px"),
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


@pytest.mark.parametrize("size", [(8, 8), (8, 600), (3000, 8)])
def test_the_smallest_photos_take_every_move(size, tmp_path):
    """8 px on a side is the least accepted, and enough for every move at any output shape."""
    buf = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buf, "PNG")
    moves = [("zoom", "in"), ("zoom", "out"), ("pan", "left"), ("pan", "up"), ("rotation", "right"), ("complex", "in")]
    for motion_type, direction in moves:
        for width, height in [(64, 64), (1920, 1080), (1080, 1920)]:
            params = MotionParams(motion_type=motion_type, motion_direction=direction, width=width, height=height)
            assert len(plan_video(buf.getvalue(), params).camera_path) >= 2
    out = tmp_path / "o.mp4"
    render_video(buf.getvalue(), out, MotionParams(motion_type="complex", width=64, height=64, duration=1, fps=4))
    assert out.stat().st_size > 0


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


def _webp(image, **save):
    buf = io.BytesIO()
    image.save(buf, "WEBP", **save)
    return buf.getvalue()


@pytest.mark.parametrize(
    "image,save,expected,tolerance",
    [
        (Image.new("RGB", (64, 48), (0, 128, 255)), {"lossless": True}, (0, 128, 255), 0),
        (Image.new("RGB", (64, 48), (200, 60, 30)), {"quality": 90}, (200, 60, 30), 6),
        (Image.new("RGBA", (64, 48), (0, 0, 0, 0)), {"lossless": True}, (255, 255, 255), 0),
        (Image.new("RGBA", (64, 48), (0, 0, 200, 0)), {"quality": 90}, (255, 255, 255), 3),
        (Image.new("RGBA", (64, 48), (10, 20, 30, 255)), {"quality": 90}, (10, 20, 30), 6),
    ],
)
def test_webp_of_every_kind_becomes_rgb(image, save, expected, tolerance):
    rgb = load_image(_webp(image, **save))
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    assert np.abs(rgb[24, 32].astype(int) - expected).max() <= tolerance, rgb[24, 32]


def test_webp_is_scaled_while_decoding_and_turned_per_exif():
    image = Image.new("RGB", (400, 200), (255, 0, 0))
    image.paste((0, 0, 255), (0, 0, 200, 200))  # left half blue, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise: the blue half ends on top
    data = _webp(image, lossless=True, exif=exif.tobytes())
    assert probe_image(data).oriented_size == (200, 400)
    full = load_image(data)
    assert full.shape == (400, 200, 3)
    assert tuple(full[50, 100]) == (0, 0, 255) and tuple(full[350, 100]) == (255, 0, 0)
    quarter = load_image(data, min_size=(50, 100))
    assert quarter.shape == (100, 50, 3), "a whole factor of 4 still covers 50x100 upright"
    assert tuple(quarter[10, 25]) == (0, 0, 255) and tuple(quarter[90, 25]) == (255, 0, 0)


def test_animated_webp_gives_its_first_frame_up_to_a_size_then_a_named_refusal(monkeypatch):
    from image_to_video.engine import source

    frames = [Image.new("RGB", (32, 32), color) for color in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert tuple(load_image(buf.getvalue())[16, 16]) == (255, 0, 0)
    monkeypatch.setattr(source, "PILLOW_WEBP_PIXELS", 32 * 32 - 1)  # the rule, at a size a test can afford
    with pytest.raises(InvalidImage, match="animated WebP is read up to"):
        load_image(buf.getvalue())


def test_a_truncated_webp_is_corrupt_not_a_crash():
    data = _webp(Image.effect_noise((256, 256), 60).convert("RGB"), quality=90)
    for cut in (len(data) // 2, len(data) - 8):
        with pytest.raises(InvalidImage, match="not an image we can read|truncated|corrupt"):
            load_image(data[:cut])


def test_large_sixteen_bit_and_palette_pngs_are_reduced_like_the_rest():
    buf = io.BytesIO()
    Image.fromarray(np.full((1200, 1600), 0x8000, np.uint16)).save(buf, "PNG")
    grey = load_image(buf.getvalue(), min_size=(400, 300))
    assert grey.shape == (300, 400, 3) and tuple(grey[0, 0]) == (0x80, 0x80, 0x80)
    buf = io.BytesIO()
    Image.new("RGB", (1600, 1200), (1, 2, 3)).quantize().save(buf, "PNG")
    assert load_image(buf.getvalue(), min_size=(400, 300)).shape == (300, 400, 3)


def test_decode_cost_reads_the_header():
    from image_to_video.engine.source import _open, decode_cost

    photo = Image.new("RGB", (1000, 800), (90, 90, 90))
    baseline = _open(_jpeg_bytes(photo))
    progressive = _open(_jpeg_bytes(photo, progressive=True, subsampling=0))
    subsampled = _open(_jpeg_bytes(photo, progressive=True, subsampling=2))
    assert decode_cost(progressive) - decode_cost(baseline) == 1000 * 800 * 2 * 3, "every coefficient, 3 components"
    assert decode_cost(subsampled) - decode_cost(baseline) == 1000 * 800 * 2 * 3 // 2, "chroma at a quarter"
    assert decode_cost(baseline, (250, 200)) == 1000 * 800 * 10 // 16, "decoded at 1/4 scale"
    assert decode_cost(progressive, (250, 200)) - decode_cost(baseline, (250, 200)) == 1000 * 800 * 6, "all kept"


def test_the_decode_budget_makes_a_decode_wait_until_its_cost_fits():
    import threading

    from image_to_video.engine.source import DecodeBudget

    budget = DecodeBudget(100)
    order: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first():
        with budget.spend(70):
            order.append("first in")
            first_in.set()
            release_first.wait(10)
            order.append("first out")

    def second():
        first_in.wait(10)
        with budget.spend(70):
            order.append("second in")

    def small():
        first_in.wait(10)
        with budget.spend(20):
            order.append("small in")

    threads = [threading.Thread(target=f) for f in (first, second, small)]
    for t in threads:
        t.start()
    threads[2].join(10)
    assert order == ["first in", "small in"], "a cost that fits goes at once; one that does not waits"
    release_first.set()
    for t in threads:
        t.join(10)
    assert order == ["first in", "small in", "first out", "second in"]
    with budget.spend(10**12):  # costlier than the whole budget: runs alone rather than never
        assert budget._in_use == 100
