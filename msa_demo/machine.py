"""What machine a measurement ran on: timings are only comparable between CPUs that share a model and
the instruction sets the kernels pick from (CTranslate2's int8 uses VNNI/AMX where they exist)."""

from __future__ import annotations

import platform
from pathlib import Path

CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8", "asimd")


def cpu_name() -> str:
    for line in _cpuinfo():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> list[str]:
    """Those of CPU_FLAGS this CPU has (x86 `flags`, ARM `Features`)."""
    for line in _cpuinfo():
        if line.startswith(("flags", "Features")):
            present = set(line.split(":", 1)[1].split())
            return [f for f in CPU_FLAGS if f in present]
    return []


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []
