"""The report's figures with matplotlib (Agg backend: no display on the device).

Every night figure shares one x axis, the clock time of the recording, so the hypnogram,
the hypnodensity, the spectrogram, the interventions and the signal quality line up.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter  # noqa: E402

from firmware_host.report.metrics import STAGES  # noqa: E402
from firmware_host.report.night import Night  # noqa: E402
from firmware_host.report.spectrum import Spectrogram  # noqa: E402

#: Hypnogram rows, top to bottom, as sleep physicians draw them (REM drawn above N1).
HYPNO_ORDER = ("W", "REM", "N1", "N2", "N3")
STAGE_COLOURS = {"W": "#e6a817", "N1": "#8fd3f4", "N2": "#3a7fc1", "N3": "#1b2f6b", "REM": "#d6416b"}
STATUS_COLOURS = {"ok": "#2a9d4b", "clamped": "#f08c00", "refused": "#c92a2a", "suppressed": "#868e96",
                  "alarm": "#c92a2a", "safe": "#7048e8", "fault": "#000000"}
BAD_CMAP = LinearSegmentedColormap.from_list("bad", ["#ffffff", "#c92a2a"])


def _clock_axis(ax: plt.Axes, start_unix: float, span_h: float) -> None:
    """Hours from the start labelled with local clock time."""
    ax.set_xlim(0, max(span_h, 1e-3))
    step_s = 3600 if span_h > 3 else 900 if span_h > 0.75 else 300
    first = (-start_unix - time.localtime(start_unix).tm_gmtoff) % step_s  # next round clock time
    ax.xaxis.set_major_locator(FixedLocator(np.arange(first, span_h * 3600 + 1, step_s) / 3600))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda h, _pos: time.strftime("%H:%M", time.localtime(start_unix + h * 3600))))


def night_figure(night: Night, spec: Spectrogram | None) -> Figure:
    """Hypnogram, hypnodensity (when the session was staged), spectrogram, interventions and
    quality on one time axis."""
    rows = sorted({m.row for m in night.marks})
    staged = bool(night.models) or night.stager_enabled
    heights = [2.2, 1.4][: 2 * staged] + [2.0, max(1.0, 0.28 * len(rows) + 0.5), 1.6]
    fig = Figure(figsize=(11.0, 10.5 if staged else 7.0), layout="constrained")
    axes = fig.subplots(len(heights), 1, sharex=True, height_ratios=heights)
    span_h = night.span_s / 3600
    if staged:
        _hypnogram(axes[0], night)
        _hypnodensity(axes[1], night)
    _spectrogram(axes[-3], spec, fig)
    _timeline(axes[-2], night, rows)
    _quality(axes[-1], night)
    for ax in axes:
        _clock_axis(ax, night.start_unix, span_h)
        for g0, dur in night.gaps:
            ax.axvspan(g0 / 3600, (g0 + dur) / 3600, color="#ff6b6b", alpha=0.25, lw=0)
        if night.lights_off_s > 0:
            ax.axvline(night.lights_off_s / 3600, color="k", ls=":", lw=1)
        if night.lights_on_s < night.span_s:
            ax.axvline(night.lights_on_s / 3600, color="k", ls=":", lw=1)
    axes[-1].set_xlabel("local clock time (gaps shaded red; dotted lines: lights off/on when marked)")
    return fig


def _steps(labels: Sequence[str | None], epoch_h: float, order: Sequence[str]
           ) -> tuple[np.ndarray, np.ndarray]:
    level = {s: i for i, s in enumerate(order)}
    y = np.array([level.get(lab, np.nan) if lab else np.nan for lab in labels], dtype=float)
    x = np.arange(len(labels) + 1) * epoch_h
    return x, np.append(y, y[-1] if y.size else np.nan)


def _hypnogram(ax: plt.Axes, night: Night) -> None:
    epoch_h = night.epoch_s / 3600
    x, y = _steps(night.labels, epoch_h, HYPNO_ORDER)
    ax.step(x, y, where="post", color="#222222", lw=1.2, label="somnoloop")
    if night.expert is not None:
        xe, ye = _steps(night.expert, epoch_h, HYPNO_ORDER)
        ax.step(xe, ye + 0.12, where="post", color="#c92a2a", lw=0.9, alpha=0.8, label="expert (+0.12)")
        ax.legend(loc="lower right", fontsize=7, ncols=2)
    rem = [i for i, lab in enumerate(night.labels) if lab == "REM"]
    ax.scatter(np.array(rem) * epoch_h + epoch_h / 2, np.full(len(rem), 1.0), marker="_", s=40,
               color=STAGE_COLOURS["REM"], lw=3, zorder=3)
    uns = [i for i, lab in enumerate(night.labels) if lab not in STAGES]
    for i in uns:
        ax.axvspan(i * epoch_h, (i + 1) * epoch_h, color="#adb5bd", alpha=0.5, lw=0)
    ax.set_yticks(range(len(HYPNO_ORDER)), HYPNO_ORDER)
    ax.set_ylim(len(HYPNO_ORDER) - 0.5, -0.5)
    ax.set_ylabel("stage")
    ax.set_title("Hypnogram (30-s epochs; grey = unscored)", loc="left", fontsize=10)


def _hypnodensity(ax: plt.Axes, night: Night) -> None:
    p = np.nan_to_num(night.probabilities, nan=0.0)
    if len(p):
        x = np.arange(len(p) + 1) * night.epoch_s / 3600
        bottom = np.zeros(len(p))
        for j, st in enumerate(STAGES):
            top = bottom + p[:, j]
            ax.fill_between(x, np.append(bottom, bottom[-1]), np.append(top, top[-1]), step="post",
                            color=STAGE_COLOURS[st], lw=0, label=st)
            bottom = top
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_title("Hypnodensity (stager's stage probabilities per epoch)", loc="left", fontsize=10)


def _spectrogram(ax: plt.Axes, spec: Spectrogram | None, fig: Figure) -> None:
    if spec is None or not spec.power_db.size or not np.isfinite(spec.power_db).any():
        ax.text(0.5, 0.5, "no EEG channel to show", transform=ax.transAxes, ha="center", va="center")
        ax.set_yticks([])
        return
    lo, hi = np.nanpercentile(spec.power_db, [2, 98])
    x = np.append(spec.t_s, spec.t_s[-1] + (spec.t_s[1] - spec.t_s[0] if len(spec.t_s) > 1 else 30)) / 3600
    df = spec.freqs[1] - spec.freqs[0] if len(spec.freqs) > 1 else 1.0
    y = np.append(spec.freqs - df / 2, spec.freqs[-1] + df / 2)
    mesh = ax.pcolormesh(x, y, spec.power_db, cmap="magma", vmin=lo, vmax=hi, shading="flat",
                         rasterized=True)
    fig.colorbar(mesh, ax=ax, label="dB µV²/Hz", pad=0.01, fraction=0.03)
    ax.set_ylabel("Hz")
    ax.set_title(f"Spectrogram of {spec.channel} (Welch, 4-s windows, per 30-s epoch)", loc="left",
                 fontsize=10)


def _timeline(ax: plt.Axes, night: Night, rows: list[str]) -> None:
    if not rows:
        ax.text(0.5, 0.5, "no interventions, alarms, safe states or faults", transform=ax.transAxes,
                ha="center", va="center")
        ax.set_yticks([])
    else:
        pos = {r: i for i, r in enumerate(rows)}
        for status, colour in STATUS_COLOURS.items():
            pts = [(m.t_s / 3600, pos[m.row]) for m in night.marks if m.status == status]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.scatter(xs, ys, marker="|", s=60, color=colour, lw=1.2, label=status)
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    ax.set_title("Interventions (commands asked, programme actions), alarms, safe states, faults",
                 loc="left", fontsize=10)


def _quality(ax: plt.Axes, night: Night) -> None:
    frac = night.quality["bad_fraction_per_min"]
    names = night.channel_names
    x = np.arange(frac.shape[1] + 1) / 60
    mesh = ax.pcolormesh(x, np.arange(len(names) + 1) - 0.5, 100 * frac, cmap=BAD_CMAP, vmin=0, vmax=100,
                         shading="flat", rasterized=True)
    ax.figure.colorbar(mesh, ax=ax, label="% bad", pad=0.01, fraction=0.03)
    ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_title("Signal quality: % of each minute flagged bad per channel (white = clean)", loc="left",
                 fontsize=10)


def confusion_figure(cm: np.ndarray, labels: Sequence[str]) -> Figure:
    """Confusion matrix, rows = expert, columns = somnoloop, counts and row %."""
    fig = Figure(figsize=(4.6, 4.0), layout="constrained")
    ax = fig.subplots()
    cm = np.asarray(cm)
    rows = cm.sum(axis=1, keepdims=True)
    pct = np.divide(100.0 * cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    ax.imshow(pct, cmap="Blues", vmin=0, vmax=100)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, f"{cm[i, j]}\n{pct[i, j]:.0f}%", ha="center", va="center", fontsize=7,
                    color="white" if pct[i, j] > 60 else "black")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("somnoloop")
    ax.set_ylabel("expert")
    ax.set_title("Epochs (row %); epochs somnoloop left unscored not shown", fontsize=8)
    return fig


def image_figure(png: bytes) -> Figure:
    """A PNG drawn on its own figure (a ready-made chart for the PDF)."""
    image = plt.imread(io.BytesIO(png), format="png")
    h, w = image.shape[:2]
    fig = Figure(figsize=(w / 100, h / 100))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image)
    ax.set_axis_off()
    return fig


def trend_figure(dates: Sequence[str], series: dict[str, Sequence[float | None]],
                 stage_pct: dict[str, Sequence[float | None]]) -> Figure:
    """Night-by-night panels: one per series, and stage % of TST stacked."""
    n = len(series) + 1
    fig = Figure(figsize=(10.0, 1.7 * n + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n, 1, sharex=True))
    x = np.arange(len(dates))
    for ax, (name, values) in zip(axes, series.items(), strict=False):
        y = np.array([np.nan if v is None else v for v in values], dtype=float)
        ax.plot(x, y, "o-", color="#1c7ed6")
        ax.set_ylabel(name, fontsize=8)
        ax.grid(alpha=0.3)
    bottom = np.zeros(len(dates))
    for st, values in stage_pct.items():
        y = np.array([0.0 if v is None else v for v in values])
        axes[-1].bar(x, y, bottom=bottom, color=STAGE_COLOURS[st], label=st)
        bottom += y
    axes[-1].set_ylabel("% of TST", fontsize=8)
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    axes[-1].set_xticks(x, dates, rotation=30, ha="right", fontsize=7)
    return fig


def to_png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
