"""CPU accounting shared by the benchmarks (Linux /proc): a process's CPU, its children, the machine's.

On a shared 2-core machine a throughput ratio alone cannot tell a slow consumer from a busy
machine; printing the consumer's CPU and the share of the machine that was busy beside it can.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def children(pid: int) -> list[int]:
    """Processes started by `pid` (parse workers, multiprocessing's resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) memory of a process in MiB (/proc/<pid>/status VmRSS, VmHWM)."""
    values = {}
    for line in open(f"/proc/{pid}/status"):
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat; idle and iowait count as idle)."""
    ticks = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    total = sum(ticks[:8])
    return (total - ticks[3] - ticks[4]) / _TICK, total / _TICK


@dataclass
class Window:
    """CPU of some processes and of the machine between `start()` and `stop()`."""

    pids: list[int]
    _before: list[float] | None = None
    _machine: tuple[float, float] | None = None
    process_s: float = 0.0  # CPU seconds of `pids` together
    busy_share: float = 0.0  # of the whole machine's CPU

    def start(self) -> "Window":
        self._before = [cpu_seconds(pid) for pid in self.pids]
        self._machine = machine_busy()
        return self

    def stop(self) -> "Window":
        assert self._before is not None and self._machine is not None
        self.process_s = sum(cpu_seconds(pid) - before for pid, before in zip(self.pids, self._before))
        busy, total = machine_busy()
        self.busy_share = (busy - self._machine[0]) / max(1e-9, total - self._machine[1])
        return self


def elasticsearch_pid() -> int | None:
    """The local Elasticsearch node's process (its Java main class on the command line), if any."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if b"org.elasticsearch.bootstrap.Elasticsearch" in open(f"/proc/{entry}/cmdline", "rb").read():
                    return int(entry)
            except OSError:
                pass
    return None
