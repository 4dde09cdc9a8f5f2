"""The soak's picture: every process's resident memory and open descriptors over the run, growth marked."""

from __future__ import annotations

from pathlib import Path

from yakuba.torture._soak import ProcessSeries

__all__ = ["write_soak_chart"]

_MIN_SAMPLES = 2


def write_soak_chart(path: Path, series: list[ProcessSeries], *, title: str) -> None:
    """Two panels over the run's seconds, one line per process series (a restarted process starts a new line):
    resident memory in MB and open file descriptors. A process judged growing is drawn thick and red and
    named in the legend as such; the others thin, so a flat fleet reads as a flat band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (memory, descriptors) = plt.subplots(2, 1, figsize=(14, 9), sharex=True)
    drawn = [s for s in series if len(s.samples) >= _MIN_SAMPLES]
    palette = plt.get_cmap("viridis")  # no red in it: red is kept for growth
    seen: set[str] = set()
    for index, s in enumerate(drawn):
        seconds = [t for t, _rss, _fds in s.samples]
        flat = {"color": palette(0.9 * index / max(1, len(drawn) - 1)), "linewidth": 1.0, "alpha": 0.8}
        style = {"color": "#c22", "linewidth": 2.5} if s.growing else flat
        label = s.name + (" (restarted)" if s.name in seen else "") + (" (growing)" if s.growing else "")
        seen.add(s.name)
        memory.plot(seconds, [rss for _t, rss, _fds in s.samples], label=label, **style)
        descriptors.plot(seconds, [fds for _t, _rss, fds in s.samples], **style)
    memory.set(title="resident memory per process", ylabel="MB")
    descriptors.set(title="open file descriptors per process", ylabel="descriptors", xlabel="second of the run")
    memory.legend(fontsize="x-small", ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
