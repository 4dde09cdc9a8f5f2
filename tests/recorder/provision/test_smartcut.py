"""Smart cut (#9): whole GOPs copied as recorded, boundary GOPs re-encoded, one clip that decodes cleanly."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from tests.recorder.provision.conftest import FPS, OPEN_GOP, RECORDER_A, RECORDER_B, START, segment

from yakuba.recorder.provision import ClipResult, ClipSource, decode_times, export_window
from yakuba.recorder.provision._avc import NotSpliceableError, annexb_units, parse_avcc


def _frames(path: Path) -> dict[dt.datetime, npt.NDArray[np.uint8]]:
    """Every decoded frame of a file by its wall time (creation_time + pts), in milliseconds."""
    with av.open(str(path)) as container:
        origin = dt.datetime.fromisoformat(container.metadata["creation_time"].replace("Z", "+00:00"))
        stream = container.streams.video[0]
        tb = stream.time_base or Fraction(1)
        return {
            origin + dt.timedelta(milliseconds=round(float(f.pts * tb) * 1000)): f.to_ndarray(format="rgb24")
            for f in container.decode(stream)
            if f.pts is not None
        }


def _psnr(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def _ffmpeg_errors(path: Path) -> str:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg (Debian package ffmpeg) is the independent decoder these tests check clips with"
    done = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True)
    assert done.returncode == 0
    return done.stderr


SHOW = "stream=codec_tag_string:frame=pts_time"


def _ffprobe_times(path: Path) -> tuple[str, list[float]]:
    """The sample entry's four-character code and every video frame's presentation time, as ffprobe reads them."""
    ffprobe = shutil.which("ffprobe")
    assert ffprobe
    done = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "v:0", "-of", "json", "-show_entries", SHOW, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    return report["streams"][0]["codec_tag_string"], [float(f["pts_time"]) for f in report["frames"]]


def _check_clip(
    clip: ClipResult, sources: list[ClipSource], *, start: dt.datetime, end: dt.datetime, spliced: bool = True
) -> None:
    """The clip holds exactly the frames of [start, end), each one the recorded picture (bit for bit where it was
    copied, close where it was re-encoded), and an independent decoder reads it without one error."""
    recorded: dict[dt.datetime, npt.NDArray[np.uint8]] = {}
    for source in sources:
        recorded.update(_frames(source.path))
    expected = sorted(t for t in recorded if start <= t < end)
    got = _frames(clip.path)
    assert sorted(got) == expected  # nothing outside the window, nothing inside missing
    assert decode_times(clip.path) == sorted(decode_times(clip.path))
    assert clip.frames == len(expected)
    assert clip.actual_first == expected[0]
    assert abs(clip.actual_last - expected[-1]) < dt.timedelta(milliseconds=1)
    identical = sum(np.array_equal(got[t], recorded[t]) for t in expected)
    assert identical >= clip.copied  # copied frames decode to exactly what the recorder stored
    assert min(_psnr(got[t], recorded[t]) for t in expected) > 30  # re-encoded ones stay faithful
    assert _ffmpeg_errors(clip.path) == ""
    tag, times = _ffprobe_times(clip.path)
    assert tag == ("avc3" if spliced else "avc1")  # in-band parameter sets are declared where pieces are spliced
    origin = clip.actual_first.replace(microsecond=0)
    assert abs(times[0] - (expected[0] - origin).total_seconds()) < 1 / FPS
    assert abs(times[-1] - (expected[-1] - origin).total_seconds()) < 1 / FPS
    assert len(times) == len(expected)


def test_a_window_across_segments_copies_whole_gops_and_reencodes_only_its_start(tmp_path: Path) -> None:
    sources = [
        segment(tmp_path / f"a{n}.mp4", start=START + dt.timedelta(seconds=6 * n), seconds=6, options=RECORDER_A)
        for n in range(3)
    ]
    start, end = START + dt.timedelta(seconds=2.55), START + dt.timedelta(seconds=15.3)
    clip = export_window(sources=sources, start=start, end=end, dest=tmp_path / "clip.mp4")
    _check_clip(clip, sources, start=start, end=end)
    assert clip.frames == 127  # 2.6 s ... 15.2 s
    assert clip.frames - clip.copied == 14  # 2.6 s up to the keyframe at 4.0 s; the rest is as recorded
    assert clip.sources == tuple(s.sha256 for s in sources)


@pytest.mark.parametrize(
    ("start_s", "end_s"),
    [(4.0, 8.0), (4.0, 4.1), (0.3, 0.5), (3.95, 4.05), (11.5, 12.35), (0.0, 18.0)],
    ids=["on-keyframes", "one-keyframe", "inside-one-gop", "one-frame-astride", "astride-segments", "everything"],
)
def test_boundaries_on_and_off_keyframes(tmp_path: Path, start_s: float, end_s: float) -> None:
    sources = [
        segment(tmp_path / f"a{n}.mp4", start=START + dt.timedelta(seconds=6 * n), seconds=6, options=RECORDER_A)
        for n in range(3)
    ]
    start, end = START + dt.timedelta(seconds=start_s), START + dt.timedelta(seconds=end_s)
    clip = export_window(sources=sources, start=start, end=end, dest=tmp_path / "clip.mp4")
    _check_clip(clip, sources, start=start, end=end)


def test_reordered_frames_and_another_recorders_parameter_sets_splice_cleanly(tmp_path: Path) -> None:
    """B-frames: a window that ends inside a GOP is re-encoded there too (a kept B-frame needs the P-frame after
    the end); the second recorder's different SPS/PPS travel in-band where the decoder must switch to them."""
    sources = [
        segment(tmp_path / "b0.mp4", start=START, seconds=6, options=RECORDER_B, tint=30),
        segment(tmp_path / "a1.mp4", start=START + dt.timedelta(seconds=6), seconds=6, options=RECORDER_A),
        segment(tmp_path / "b2.mp4", start=START + dt.timedelta(seconds=12), seconds=6, options=RECORDER_B),
    ]
    configs = [parse_avcc(av.open(str(s.path)).streams.video[0].codec_context.extradata) for s in sources]
    assert configs[0].sps != configs[1].sps
    start, end = START + dt.timedelta(seconds=0.75), START + dt.timedelta(seconds=16.25)
    clip = export_window(sources=sources, start=start, end=end, dest=tmp_path / "clip.mp4")
    _check_clip(clip, sources, start=start, end=end)
    assert 0 < clip.copied < clip.frames - 10
    with av.open(str(sources[0].path)) as container:
        packets = [p for p in container.demux(container.streams.video[0]) if p.pts is not None]
    assert any(p.pts != p.dts for p in packets)  # the source really stores frames out of order


def test_recorders_with_other_time_bases_are_spliced_in_the_clips_ticks(tmp_path: Path) -> None:
    sources = [
        segment(tmp_path / "a0.mp4", start=START, seconds=6, options=RECORDER_A),
        segment(
            tmp_path / "b1.mp4",
            start=START + dt.timedelta(seconds=6),
            seconds=6,
            options=RECORDER_B,
            time_base=Fraction(1, 90_000),
        ),
    ]
    time_bases = [av.open(str(s.path)).streams.video[0].time_base for s in sources]
    assert time_bases[0] != time_bases[1] == Fraction(1, 90_000)
    start, end = START + dt.timedelta(seconds=3.35), START + dt.timedelta(seconds=11.05)
    clip = export_window(sources=sources, start=start, end=end, dest=tmp_path / "clip.mp4")
    assert 0 < clip.copied < clip.frames
    _check_clip(clip, sources, start=start, end=end)


def test_a_picture_size_that_changes_between_files_is_reencoded_at_the_first_size(tmp_path: Path) -> None:
    sources = [
        segment(tmp_path / "a0.mp4", start=START, seconds=4, options=RECORDER_A),
        segment(
            tmp_path / "a1.mp4", start=START + dt.timedelta(seconds=4), seconds=4, options=RECORDER_A, size=(96, 64)
        ),
    ]
    start, end = START + dt.timedelta(seconds=1), START + dt.timedelta(seconds=7)
    clip = export_window(sources=sources, start=start, end=end, dest=tmp_path / "clip.mp4")
    assert clip.copied == 0
    assert clip.frames == len(decode_times(clip.path)) == 60
    with av.open(str(clip.path)) as container:
        assert {(f.width, f.height) for f in container.decode(video=0)} == {(160, 96)}
    assert _ffmpeg_errors(clip.path) == ""


def test_audio_across_segments_is_kept_inside_the_window_only(tmp_path: Path) -> None:
    sources = [
        segment(
            tmp_path / f"a{n}.mp4", start=START + dt.timedelta(seconds=4 * n), seconds=4, options=RECORDER_A, audio=True
        )
        for n in range(2)
    ]
    start, end = START + dt.timedelta(seconds=1.25), START + dt.timedelta(seconds=6.55)
    clip = export_window(sources=sources, start=start, end=end, dest=tmp_path / "clip.mp4", keep_audio=True)
    assert clip.audio
    assert 0 < clip.copied < clip.frames
    _check_clip(clip, sources, start=start, end=end)
    origin = clip.actual_first.replace(microsecond=0)
    with av.open(str(clip.path)) as container:
        stream = container.streams.audio[0]
        tb = stream.time_base or Fraction(1)
        heard = [origin + dt.timedelta(seconds=float(p.pts * tb)) for p in container.demux(stream) if p.pts is not None]
    assert heard == sorted(heard)
    assert start <= heard[0] < start + dt.timedelta(seconds=0.1)  # one AAC packet is 64 ms here
    assert end - dt.timedelta(seconds=0.1) < heard[-1] < end
    assert len(heard) == pytest.approx((end - start).total_seconds() * 16_000 / 1024, abs=2)


def test_overlapping_files_show_no_moment_twice(tmp_path: Path) -> None:
    sources = [
        segment(tmp_path / "a0.mp4", start=START, seconds=6, options=RECORDER_A),
        segment(tmp_path / "a1.mp4", start=START + dt.timedelta(seconds=5), seconds=6, options=RECORDER_A),
    ]
    start, end = START + dt.timedelta(seconds=1), START + dt.timedelta(seconds=10)
    clip = export_window(sources=sources, start=start, end=end, dest=tmp_path / "clip.mp4")
    times = decode_times(clip.path)
    assert len(times) == len(set(times)) == clip.frames == 90
    assert _ffmpeg_errors(clip.path) == ""


@pytest.mark.parametrize(("options", "codec"), [(OPEN_GOP, "libx264"), ({}, "mpeg4")], ids=["open-gop", "mpeg4"])
def test_sources_that_cannot_be_spliced_are_reencoded_whole(
    tmp_path: Path, options: dict[str, str], codec: str
) -> None:
    sources = [segment(tmp_path / "s.mp4", start=START, seconds=6, options=options, codec=codec)]
    start, end = START + dt.timedelta(seconds=0.55), START + dt.timedelta(seconds=5.05)
    clip = export_window(sources=sources, start=start, end=end, dest=tmp_path / "clip.mp4")
    assert clip.copied == 0
    _check_clip(clip, sources, start=start, end=end, spliced=False)


def test_annex_b_units_and_avcc_records() -> None:
    stream = b"\x00\x00\x00\x01\x67\x42\x00\x1e\x00\x00\x01\x68\xce\x3c\x80\x00\x00\x00\x01\x65\x88\x84\x00"
    assert annexb_units(stream) == [b"\x67\x42\x00\x1e", b"\x68\xce\x3c\x80", b"\x65\x88\x84"]
    record = bytes([1, 0x42, 0, 0x1E, 0xFF, 0xE1, 0, 4]) + b"\x67\x42\x00\x1e" + bytes([1, 0, 4]) + b"\x68\xce\x3c\x80"
    config = parse_avcc(record)
    assert (config.length_size, config.sps, config.pps, config.x264_level) == (
        4,
        (b"\x67\x42\x00\x1e",),
        (b"\x68\xce\x3c\x80",),
        "3.0",
    )
    for broken in (b"", stream, record[:-2], bytes([1, 0x42, 0, 0x1E, 0xFF, 0xE0, 0])):
        with pytest.raises(NotSpliceableError):
            parse_avcc(broken)
