"""Sandbox overhead: the same small check through inference.sandbox and through a bare
`python -c` subprocess, one at a time on one core and then `--workers` at a time on as many cores.

Not a test; needs no database. Prints ms per execution (median, p95), executions per second per
core, the CPU time per execution one at a time (rusage of this process and its children) and the
ratio sandbox / bare. A third row, `python -I -S -c` without a sandbox, is the
interpreter start-up the sandbox uses (no site-packages): the difference to it is the isolation,
all of it: bwrap and its namespaces, the seccomp filter, the box's lock and cgroup, the
supervisor, the fork of the candidate's and the check's processes, and the call over the channel
between them (one interpreter start-up per check: the two processes are forks of it).

    .venv/bin/python bench/sandbox_overhead.py [--n 200] [--workers 2]
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.sandbox import Limits, isolation_available, run_check

CANDIDATE = "def add(a, b):\n    return a + b\n"
CHECK = "assert add(2, 3) == 5"


def bare() -> None:
    """What a harness without a sandbox does: one interpreter per check, candidate and check together."""
    subprocess.run([sys.executable, "-c", CANDIDATE + CHECK], check=True, stdout=subprocess.DEVNULL)


def bare_no_site() -> None:
    subprocess.run([sys.executable, "-I", "-S", "-c", CANDIDATE + CHECK], check=True, stdout=subprocess.DEVNULL)


def sandboxed() -> None:
    result = run_check(CANDIDATE, CHECK, Limits())
    if result.status != "passed":
        raise SystemExit(f"the check did not pass in the sandbox: {result}")


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


RUNS = {"bare": bare, "bare -I -S": bare_no_site, "sandbox": sandboxed}


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have been reaped (the sandbox's all are)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def sequential(n: int) -> tuple[dict[str, list[float]], dict[str, float]]:
    """The runs in turn, so that all see the same load on a busy machine; wall times, and the
    CPU time per execution (which other work on the machine does not inflate)."""
    times: dict[str, list[float]] = {name: [] for name in RUNS}
    cpu = dict.fromkeys(RUNS, 0.0)
    for _ in range(n):
        for name, run in RUNS.items():
            before = cpu_seconds()
            times[name].append(timed(run))
            cpu[name] += cpu_seconds() - before
    return times, {name: total / n for name, total in cpu.items()}


def parallel(run, n: int, workers: int) -> tuple[list[float], float]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        started = time.perf_counter()
        times = list(pool.map(lambda _: timed(run), range(n)))
        return times, time.perf_counter() - started


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="executions per measurement")
    parser.add_argument("--workers", type=int, default=2, help="executions at a time in the parallel run")
    args = parser.parse_args()

    cores = sorted(os.sched_getaffinity(0))
    print(
        f"isolation: {isolation_available() or 'none (the sandbox would refuse)'}; python {sys.version.split()[0]}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    for _ in range(5):  # warm-up: page cache, the isolation probe
        for run in RUNS.values():
            run()

    os.sched_setaffinity(0, {cores[0]})  # children inherit it
    times, cpu = sequential(args.n)
    print(f"\none at a time, pinned to CPU {cores[0]}, {args.n} executions each:")
    print(f"{'':12} {'median':>9} {'p95':>9} {'exec/s/core':>12} {'CPU/exec':>9}")
    for name, t in times.items():
        print(f"{name:12} {ms(statistics.median(t))} {ms(p95(t))} {len(t) / sum(t):12.1f} {ms(cpu[name])}")
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"overhead sandbox / bare: x{medians['sandbox'] / medians['bare']:.2f}; "
        f"isolation alone (sandbox - bare -I -S): {ms(medians['sandbox'] - medians['bare -I -S']).strip()}, "
        f"CPU time {ms(cpu['sandbox'] - cpu['bare -I -S']).strip()}"
    )

    used = cores[: args.workers]
    os.sched_setaffinity(0, set(used))
    print(f"\n{args.workers} at a time on CPUs {used}, {args.n} executions each:")
    print(f"{'':12} {'median':>9} {'p95':>9} {'exec/s':>9} {'exec/s/core':>12}")
    rates = {}
    for name, run in RUNS.items():
        t, elapsed = parallel(run, args.n, args.workers)
        rates[name] = args.n / elapsed
        print(f"{name:12} {ms(statistics.median(t))} {ms(p95(t))} {rates[name]:9.1f} {rates[name] / len(used):12.1f}")
    print(f"overhead sandbox / bare (time per execution at full load): x{rates['bare'] / rates['sandbox']:.2f}")
    per_check = len(used) / rates["sandbox"] - len(used) / rates["bare -I -S"]
    print(
        f"isolation alone at full load (cores / rate, sandbox - bare -I -S): {ms(per_check).strip()}; "
        "where other work holds part of the CPUs this counts more than the CPU time above"
    )


if __name__ == "__main__":
    main()
