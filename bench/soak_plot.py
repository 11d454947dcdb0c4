"""The soak's plot: server memory and open descriptors over time, and every request's latency.

matplotlib (it comes with mediapipe; the app's own charts are plotly, which needs kaleido for a
static image) with the Agg backend: no display needed.
"""

from __future__ import annotations

from pathlib import Path


def plot(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples, records = report["raw"]["samples"], report["raw"]["records"]
    fig, (mem, lat) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, constrained_layout=True)
    minutes = [s["t"] / 60 for s in samples]
    mem.plot(minutes, [s["rss_mb"] for s in samples], color="tab:blue", label="RSS (MiB)")
    mem.set_ylabel("server RSS (MiB)")
    fds = mem.twinx()
    fds.plot(minutes, [s["fds"] for s in samples], color="tab:orange", linewidth=1, label="open fds")
    fds.set_ylabel("open file descriptors")
    mem.legend(handles=mem.get_lines() + fds.get_lines(), loc="lower right")
    kinds = sorted({r["kind"].split("/")[0] for r in records})
    for kind in kinds:
        mine = [r for r in records if r["kind"].split("/")[0] == kind and "latency" in r]
        lat.scatter([r["t"] / 60 for r in mine], [r["latency"] for r in mine], s=6, label=kind)
    bad = [r for r in records if r.get("problem")]
    if bad:
        lat.scatter([r["t"] / 60 for r in bad], [r.get("latency", 0) for r in bad], s=40, marker="x",
                    color="red", label="failed")
    lat.set_yscale("log")
    lat.set_ylabel("latency (s)")
    lat.set_xlabel("minutes")
    lat.legend(fontsize=7, ncol=4, loc="upper right")
    fig.suptitle(f"{report.get('command', 'bench.soak')}\n{report['minutes']} min: {report['requests']} requests, "
                 f"{report['failures']} failed, p50 {report['latency_s'].get('p50')} s, "
                 f"p95 {report['latency_s'].get('p95')} s", fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
