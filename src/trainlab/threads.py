"""How many CPU threads torch uses: ``--threads N``, else ``$TRAINLAB_THREADS``, else as many as
the machine has free right now.

With more OpenMP threads than free cores, every parallel op waits for a thread the OS has
preempted: on a 2-core machine beside one CPU-bound process, torch's default of 2 threads made
the labs many times slower than 1 thread does (``bench/busy.py``). So the default counts the
cores that are idle — the CPU time others used over a short window (``/proc/stat``), and the
1-minute load average, whichever says fewer cores are free — and never uses more threads than
that, nor more than torch's own default (one per physical core).

An explicit ``$OMP_NUM_THREADS`` is honoured like ``$TRAINLAB_THREADS``. The CLI calls
:func:`configure` once per command; the library itself never changes the thread
count (a program that imports trainlab keeps its own setting).
"""

from __future__ import annotations

import math
import os
import time

from trainlab.errors import ConfigError

ENV = "TRAINLAB_THREADS"
_torch_default: int | None = None


def __getattr__(name: str) -> int:
    """``TORCH_DEFAULT``: torch's own choice (physical cores), read when first asked for, which
    the CLI does before it sets any count. Lazy so that ``trainlab --help`` and a bad argument
    do not wait a second for torch to import."""
    global _torch_default
    if name == "TORCH_DEFAULT":
        if _torch_default is None:
            import torch

            _torch_default = torch.get_num_threads()
        return _torch_default
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
WINDOW = 0.2  # seconds of /proc/stat sampling
SLACK = 0.25  # a core counts as free when at most 75% of it is used by others


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies over every CPU, from /proc/stat (None where there is none)."""
    try:
        with open("/proc/stat") as fh:
            fields = [float(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return total - idle, total


def busy_cores(window: float = WINDOW) -> float:
    """How many cores others keep busy: the larger of the CPU time used over ``window`` seconds
    (this process sleeps meanwhile) and the 1-minute load average (which lags by a minute, so
    it catches a machine that is busy in bursts). Both count the whole machine."""
    estimates = []
    a = _cpu_times()
    if a is not None:
        time.sleep(window)
        b = _cpu_times()
        if b is not None and b[1] > a[1]:
            estimates.append((b[0] - a[0]) / (b[1] - a[1]) * (os.cpu_count() or 1))
    try:
        estimates.append(os.getloadavg()[0])
    except (AttributeError, OSError):
        pass
    return max(estimates, default=0.0)


def auto_threads(n_cores: int | None = None, busy: float | None = None) -> int:
    """Threads for the cores that are free: ``floor(cores - busy + SLACK)``, between 1 and cores.
    With ``os.cpu_count()`` larger than the affinity set, the others' load is spread evenly."""
    n = cores() if n_cores is None else n_cores
    busy = busy_cores() if busy is None else busy
    total = os.cpu_count() or n
    mine = busy * n / total if total > n else busy  # the share of the load that falls on our cores
    return max(1, min(n, math.floor(n - mine + SLACK)))


def parse(value, what: str) -> int | None:
    """A positive integer, or None for ``auto``/empty; else a one-line error naming ``what``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if n < 1 or (isinstance(value, float) and value != n):
        raise ConfigError(f"{what}: expected a positive integer or 'auto', got {value!r}")
    return n


def choose(requested=None) -> tuple[int, str]:
    """(threads, why): ``requested`` (``--threads``), else $TRAINLAB_THREADS, else
    $OMP_NUM_THREADS (torch already follows it), else auto."""
    n = parse(requested, "--threads")
    if n is not None:
        return n, "--threads"
    n = parse(os.environ.get(ENV), ENV)
    if n is not None:
        return n, ENV
    if os.environ.get("OMP_NUM_THREADS", "").strip().isdigit() and int(os.environ["OMP_NUM_THREADS"]) > 0:
        return int(os.environ["OMP_NUM_THREADS"]), "OMP_NUM_THREADS"
    busy = busy_cores()
    return min(auto_threads(busy=busy), __getattr__("TORCH_DEFAULT")), f"auto: {cores()} cores, {busy:.1f} busy"


def configure(requested=None) -> tuple[int, str]:
    """Set torch's intra-op thread count as :func:`choose` says; returns (threads, why)."""
    import torch

    n, why = choose(requested)
    torch.set_num_threads(n)
    return n, why
