"""Limits on an execution as a whole, children included, through the worker's own cgroups.

Each sandbox slot (a box, see inference.sandbox) has a cgroup of its own under the worker's:
`redline-sandbox-<slot>` in the worker's pids, memory and cpuacct cgroups (cgroup v1), or in the
worker's cgroup when it is cgroup v2 with the memory and pids controllers delegated to it.
The sandbox's PID 1 (the supervisor) is put into it before it forks anything, so every process
that runs the execution's code starts in it and is counted: the number of processes (pids.max),
the memory of all of them together (memory.limit_in_bytes and memory.memsw.limit_in_bytes, or
memory.max and memory.swap.max), and their CPU time (cpuacct.usage or cpu.stat), which the parent
watches and kills on. `find()` returns None where
neither works (not root, no writable hierarchy): see inference.sandbox for what is enforced then.
"""

import os
import signal
import time
from pathlib import Path

V1_CONTROLLERS = ("pids", "memory", "cpuacct")


class Cgroup:
    """One slot's cgroups: the same few operations over v1 (three directories) and v2 (one)."""

    def __init__(self, version: int, dirs: dict[str, Path]):
        self.version = version
        self.dirs = dirs  # controller -> directory; on v2 every controller maps to the same one
        self._oom_before = 0

    def prepare(self, *, processes: int, memory_bytes: int) -> None:
        """Set the limits of the next execution; kill anything an earlier holder left behind."""
        self.kill_all()
        if self.version == 1:
            memory = self.dirs["memory"]
            memsw = memory / "memory.memsw.limit_in_bytes"
            if memsw.exists():  # memsw must stay >= the limit: lift it, set the limit, then lower it
                memsw.write_text("-1")
            (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            if memsw.exists():
                memsw.write_text(str(memory_bytes))
            (self.dirs["pids"] / "pids.max").write_text(str(processes))
            (self.dirs["cpuacct"] / "cpuacct.usage").write_text("0")
            self._cpu_before = 0
        else:
            group = self.dirs["memory"]
            (group / "memory.max").write_text(str(memory_bytes))
            if (group / "memory.swap.max").exists():
                (group / "memory.swap.max").write_text("0")
            (group / "pids.max").write_text(str(processes))
            self._cpu_before = self._cpu_ns()
        self._oom_before = self._oom_kills()

    def add(self, pid: int) -> None:
        for directory in set(self.dirs.values()):
            (directory / "cgroup.procs").write_text(str(pid))

    def membership(self) -> tuple[str, tuple[str, ...]]:
        """The slot's cgroup name and the controllers (as /proc/PID/cgroup names them) it is in."""
        return self.dirs["pids"].name, V1_CONTROLLERS if self.version == 1 else ("",)

    def cpu_seconds(self) -> float:
        return (self._cpu_ns() - self._cpu_before) / 1e9

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of this execution for the memory limit."""
        return self._oom_kills() > self._oom_before

    def pids(self) -> list[int]:
        return [int(line) for line in (self.dirs["pids"] / "cgroup.procs").read_text().split()]

    def kill_all(self, wait_s: float = 5.0) -> None:
        """SIGKILL every process in the cgroup until none is left (a fork bomb is bounded by pids.max)."""
        deadline = time.monotonic() + wait_s
        while pids := self.pids():
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox's processes {pids} outlived SIGKILL for {wait_s:g} s")
            time.sleep(0.001)

    def _cpu_ns(self) -> int:
        if self.version == 1:
            return int((self.dirs["cpuacct"] / "cpuacct.usage").read_text())
        for line in (self.dirs["memory"] / "cpu.stat").read_text().splitlines():
            key, value = line.split()
            if key == "usage_usec":
                return int(value) * 1000
        return 0

    def _oom_kills(self) -> int:
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        for line in (self.dirs["memory"] / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0


def find(slot: int) -> Cgroup | None:
    """The slot's cgroup, made on first use, or None where the machine gives none we can write."""
    if os.geteuid() != 0:
        return None
    own = _own_cgroups()
    mounts = _mounts()
    name = f"redline-sandbox-{slot}"
    if all(c in own and c in mounts for c in V1_CONTROLLERS):
        dirs = {c: mounts[c] / own[c].lstrip("/") / name for c in V1_CONTROLLERS}
        version = 1
    elif "" in own and "" in mounts:
        parent = mounts[""] / own[""].lstrip("/")
        try:
            delegated = set((parent / "cgroup.subtree_control").read_text().split())
        except OSError:
            return None
        if not {"memory", "pids", "cpu"} <= delegated:
            return None
        dirs = dict.fromkeys(V1_CONTROLLERS, parent / name)
        version = 2
    else:
        return None
    try:
        for directory in set(dirs.values()):
            directory.mkdir(exist_ok=True)
    except OSError:
        return None
    return Cgroup(version, dirs)


def _own_cgroups() -> dict[str, str]:
    """Controller -> this process's cgroup path (from /proc/self/cgroup; "" is cgroup v2)."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path
    return own


def _mounts() -> dict[str, Path]:
    """Controller -> where its hierarchy's root is mounted (mountinfo: a mount of a sub-cgroup
    does not count, since the paths in /proc/self/cgroup are from the hierarchy's root)."""
    mounts = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, _, tail = line.partition(" - ")
        fields, tail = fields.split(), tail.split()
        root, mount_point, fstype = fields[3], fields[4], tail[0]
        if root != "/" or not os.access(mount_point, os.W_OK):
            continue
        if fstype == "cgroup2":
            mounts.setdefault("", Path(mount_point))
        elif fstype == "cgroup":
            for option in tail[2].split(","):
                mounts.setdefault(option, Path(mount_point))
    return mounts
