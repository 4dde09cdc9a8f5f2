"""The soak's judgement: which process keeps growing, from real samples of this process and from series."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image
from rich.console import Console

from yakuba.torture import (
    CheckReport,
    DriveResult,
    ProcessSeries,
    Sampler,
    TortureOptions,
    TortureReport,
    print_verdict,
    profile_named,
)
from yakuba.torture._verdict import CHART_NAME


def _series(rss: list[float], fds: list[int]) -> ProcessSeries:
    return ProcessSeries(
        name="p", pid=1, samples=[(float(i), r, f) for i, (r, f) in enumerate(zip(rss, fds, strict=True))]
    )


def test_a_flat_process_after_its_warm_up_is_not_growing() -> None:
    rss = [50.0, 120.0, 150.0] + [150.0 + (i % 3) for i in range(60)]  # start-up, then steady with noise
    assert not _series(rss, [20] * len(rss)).growing


def test_memory_that_keeps_rising_is_growing() -> None:
    rss = [150.0 + 2.0 * i for i in range(60)]
    assert _series(rss, [20] * len(rss)).growing


def test_descriptors_that_keep_rising_are_growing() -> None:
    fds = [20 + i for i in range(60)]
    assert _series([150.0] * len(fds), fds).growing


def test_too_few_samples_judge_nothing() -> None:
    assert not _series([100.0, 500.0, 900.0], [1, 100, 200]).growing


def test_the_sampler_reads_real_processes_and_starts_a_new_series_on_a_new_pid() -> None:
    pids = {"me": os.getpid()}
    sampler = Sampler(lambda: dict(pids), interval_s=0.01)
    sampler.start()
    time.sleep(0.2)
    pids["me"] = os.getppid()  # "restarted": another pid under the same name
    time.sleep(0.2)
    sampler.stop()
    assert [s.pid for s in sampler.series] == [os.getpid(), os.getppid()]
    first = sampler.series[0]
    assert first.samples
    assert all(rss > 1 and fds > 0 for _t, rss, fds in first.samples)


def _red_pixels(path: Path) -> int:
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 180) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum())


def test_the_soak_verdict_draws_memory_and_descriptors_and_marks_a_growing_process(tmp_path: Path) -> None:
    fleet = [  # as many processes as a torture deployment has, none growing
        ProcessSeries(
            name=f"role-{k}", pid=100 + k, samples=[(float(i), 150.0 + 5 * k + (i % 3), 20 + k) for i in range(60)]
        )
        for k in range(20)
    ]
    leaking = ProcessSeries(name="leaky", pid=2, samples=[(float(i), 150.0 + 3.0 * i, 20 + i) for i in range(60)])
    screens = []
    for name, series in (("flat", fleet), ("leaking", [*fleet, leaking])):
        folder = tmp_path / name
        folder.mkdir()
        report = TortureReport(
            options=TortureOptions(folder=folder, profile=profile_named("none"), requests=None, duration_s=60.0),
            drive=DriveResult(attempts=[], seconds=60.0),
            checks=CheckReport(),
            series=series,
        )
        screen = io.StringIO()
        print_verdict(report, Console(file=screen, width=200), soak=True)
        screens.append(screen.getvalue())
        with Image.open(folder / CHART_NAME) as image:
            assert image.format == "PNG"
            assert image.size == (1400, 900)
    assert CHART_NAME in screens[0]  # the verdict says where the picture is
    assert _red_pixels(tmp_path / "flat" / CHART_NAME) == 0  # nothing grows: no red line, whatever the colours
    assert _red_pixels(tmp_path / "leaking" / CHART_NAME) > 500  # the leaking process, drawn red
    assert "leaky" in screens[1]
