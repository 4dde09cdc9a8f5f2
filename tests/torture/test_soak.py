"""The soak's judgement: which process keeps growing, from real samples of this process and from series."""

from __future__ import annotations

import os
import time

from yakuba.torture import ProcessSeries, Sampler


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
