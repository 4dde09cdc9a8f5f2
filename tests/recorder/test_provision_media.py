"""Provision media: blurring only detected regions, the Haar detector on a synthetic face, audio kept or removed."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from yakuba.recorder.provision import Blurrer, ClipSource, Detector, Region, blur_regions, decode_times, export_window

START = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def _face_frame() -> npt.NDArray[np.uint8]:
    """A plain street-grey frame with one drawn face (skin oval, brows, eyes, nose, mouth) that a frontal-face
    Haar cascade recognises; nothing is downloaded."""
    image = np.full((360, 640, 3), 90, np.uint8)
    cx, cy, s = 200, 180, 140
    cv2.ellipse(image, (cx, cy), (int(s * 0.42), int(s * 0.55)), 0, 0, 360, (150, 170, 200), -1)
    for dx in (-1, 1):
        eye = (cx + dx * int(s * 0.17), cy - int(s * 0.12))
        cv2.ellipse(image, eye, (int(s * 0.09), int(s * 0.05)), 0, 0, 360, (30, 30, 30), -1)
        brow = ((cx + dx * int(s * 0.08), cy - int(s * 0.22)), (cx + dx * int(s * 0.28), cy - int(s * 0.22)))
        cv2.line(image, brow[0], brow[1], (40, 40, 40), 5)
    cv2.line(image, (cx, cy - int(s * 0.05)), (cx, cy + int(s * 0.12)), (110, 120, 150), 4)
    cv2.ellipse(image, (cx, cy + int(s * 0.27)), (int(s * 0.14), int(s * 0.04)), 0, 0, 360, (60, 60, 120), -1)
    return cv2.GaussianBlur(image, (5, 5), 0)


def _inside(regions: list[Region], shape: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(shape[:2], bool)
    for r in regions:
        mask[r.y : r.y + r.h, r.x : r.x + r.w] = True
    return mask


def test_blurring_changes_only_the_given_regions() -> None:
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    regions = [Region(x=10, y=20, w=50, h=40, kind="plate"), Region(x=150, y=80, w=80, h=80, kind="face")]
    original = image.copy()
    out = blur_regions(image, regions)
    assert np.array_equal(image, original)  # the caller's frame is left as it was
    mask = _inside(regions, image.shape)
    assert np.array_equal(out[~mask], image[~mask])
    assert np.mean(out[mask] != image[mask]) > 0.9  # noise inside is smeared almost everywhere


def test_the_face_cascade_finds_a_drawn_face_and_only_it_is_blurred() -> None:
    image = _face_frame()
    blurred, regions = Blurrer(detector=Detector.from_opencv(plates=False)).process(image)
    assert [r.kind for r in regions] == ["face"]
    (face,) = regions
    assert face.x < 200 < face.x + face.w
    assert face.y < 180 < face.y + face.h
    mask = _inside(regions, image.shape)
    assert np.array_equal(blurred[~mask], image[~mask])
    assert not np.array_equal(blurred[mask], image[mask])
    assert Detector.from_opencv(plates=False).detect(np.full((360, 640, 3), 90, np.uint8)) == []


def _segment_with_audio(path: Path, *, seconds: int, fps: int = 10) -> None:
    with av.open(str(path), "w", format="mp4") as out:
        out.metadata["creation_time"] = START.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 160, 96, "yuv420p"
        video.options = {"preset": "ultrafast", "g": str(fps * 2)}
        audio = out.add_stream("aac", rate=16000)
        audio.layout = "mono"  # type: ignore[attr-defined]
        for n in range(seconds * fps):
            frame = av.VideoFrame.from_ndarray(np.full((96, 160, 3), n * 4 % 256, np.uint8), format="rgb24")
            frame.pts = n
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        samples = 1024
        for n in range(seconds * 16000 // samples):
            tone = (np.sin(np.arange(samples) / 8) * 0.2).astype(np.float32).reshape(1, -1)
            chunk = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts, chunk.time_base = 16000, n * samples, Fraction(1, 16000)
            for packet in audio.encode(chunk):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode():
                out.mux(packet)


@pytest.mark.parametrize("keep_audio", [True, False])
def test_audio_is_kept_or_removed_as_decided(tmp_path: Path, keep_audio: bool) -> None:
    source = tmp_path / "seg.mp4"
    _segment_with_audio(source, seconds=4)
    clip = export_window(
        sources=[ClipSource(path=source, sha256="0" * 64, start=START)],
        start=START + dt.timedelta(seconds=1.05),
        end=START + dt.timedelta(seconds=2.5),
        dest=tmp_path / "clip.mp4",
        keep_audio=keep_audio,
    )
    with av.open(str(clip.path)) as container:
        assert len(container.streams.audio) == (1 if keep_audio else 0)
    assert clip.audio is keep_audio
    times = decode_times(clip.path)
    assert len(times) == 14  # 1.1 s ... 2.4 s at 10 fps
    assert abs(times[0] - (START + dt.timedelta(seconds=1.1))) < dt.timedelta(milliseconds=1)
