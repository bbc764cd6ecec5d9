"""Plots and tables of soak and fault runs (PNG via matplotlib's Agg backend, rich tables)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.table import Table

from rollcall_tools.reliability.faults import ScenarioResult
from rollcall_tools.reliability.soak import P95_LIMIT_MS, Saturation, SoakReport
from rollcall_tools.stats import latency_stats


def plot_latency(report: SoakReport, path: Path, saturation: Saturation | None = None) -> None:
    """Latency (capture end -> result) of every clip over the run, with a rolling p95; and,
    with a saturation search, p95 against the number of devices."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if saturation is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(7 * panels, 4.5), squeeze=False)
    try:
        ax = axes[0][0]
        if report.timeline:
            t, ms = (np.asarray(v, dtype=float) for v in zip(*sorted(report.timeline), strict=True))
            ax.scatter(t, ms, s=6, alpha=0.5, label="clip")
            window = max(5, len(ms) // 30)
            rolling = [
                latency_stats(ms[max(0, i - window) : i + 1].tolist())["p95"]
                for i in range(len(ms))
            ]
            ax.plot(t, rolling, color="r", label=f"rolling p95 ({window} clips)")
        ax.axhline(P95_LIMIT_MS, color="k", linestyle="--", label="2 s target")
        ax.set_xlabel("capture end (s since start)")
        ax.set_ylabel("capture end -> result (ms)")
        ax.set_title(
            f"{report.devices} device{'s' if report.devices != 1 else ''} x "
            f"{report.clips_per_s_per_device:g} clips/s, "
            f"{report.workers} workers: {report.answered}/{report.sent} answered"
        )
        ax.legend(loc="best")
        if saturation is not None:
            ax2 = axes[0][1]
            devices = [s.devices for s in saturation.steps]
            p95 = [s.latency_ms["p95"] or np.nan for s in saturation.steps]
            med = [s.latency_ms["median"] or np.nan for s in saturation.steps]
            ax2.plot(devices, p95, "o-", label="p95")
            ax2.plot(devices, med, "s--", label="median")
            ax2.axhline(P95_LIMIT_MS, color="k", linestyle="--", label="2 s target")
            ax2.set_yscale("log")
            ax2.set_xticks(devices)
            ax2.set_xlabel("devices (2 clips/s each)")
            ax2.set_ylabel("latency (ms)")
            ax2.set_title(f"saturation: p95 > 2 s at {saturation.saturation_devices} devices")
            ax2.legend()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)


def soak_table(report: SoakReport) -> Table:
    """The soak figures as a rich table."""
    table = Table(title="soak", show_header=False)
    lat = report.latency_ms
    rows = [
        ("devices x clips/s", f"{report.devices} x {report.clips_per_s_per_device:g}"),
        ("seconds", f"{report.seconds:g}"),
        ("runner workers", str(report.workers)),
        ("sent / answered / lost", f"{report.sent} / {report.answered} / {report.lost}"),
        ("duplicates", str(report.duplicates)),
        ("latency median / p95 / max (ms)", f"{lat['median']} / {lat['p95']} / {lat['max']}"),
        ("throughput (clips/s)", str(report.throughput_clips_per_s)),
        ("drained after sending (s)", str(report.drained_after_s)),
        ("CPU busy (all cores, %)", str(report.cpu["busy_percent"])),
        ("runner cores used", str(report.cpu["runner_cores_used"])),
    ]
    table.add_column("what")
    table.add_column("value", justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def saturation_table(saturation: Saturation) -> Table:
    table = Table(title="saturation search (p95 limit 2000 ms)")
    for column in ("devices", "offered/s", "done/s", "lost", "median ms", "p95 ms"):
        table.add_column(column, justify="right")
    for s in saturation.steps:
        table.add_row(
            str(s.devices),
            f"{s.devices * s.clips_per_s_per_device:g}",
            str(s.throughput_clips_per_s),
            str(s.lost),
            str(s.latency_ms["median"]),
            str(s.latency_ms["p95"]),
        )
    return table


def faults_table(results: list[ScenarioResult]) -> Table:
    table = Table(title="faults")
    for column in ("scenario", "clips", "answered once", "lost", "duplicates", "s", "verdict"):
        table.add_column(
            column, justify="right" if column not in ("scenario", "verdict") else "left"
        )
    for r in results:
        v = r.verdict
        verdict = "[green]ok[/]" if r.ok else "[red]FAILED[/] " + "; ".join(r.problems)
        table.add_row(
            r.name,
            str(v.clips),
            str(v.answered_once),
            str(v.lost),
            str(v.duplicates),
            f"{r.seconds:.0f}",
            verdict,
        )
    return table
