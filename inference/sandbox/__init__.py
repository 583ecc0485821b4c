"""Run untrusted Python (model-written code and model-written tests) in a sandbox.

`run_check(candidate, check)` runs the candidate module and one check against it and returns an
`Execution`: "passed" (the check ran to the end), "failed" (an AssertionError), "error" (any other
exception, or a crash) or "timeout" (the CPU or wall-clock limit). `run_checks` gives each check
an execution of its own, so one check's crash or hang never hides another's result. A check is
an `assert ...` statement (or several lines of them), or `def test_...():` functions, which are
called; with `entry_point`, a HumanEval-style `def check(candidate):` is called with the
candidate's function of that name.

One execution is one bubblewrap sandbox holding three processes (inference/sandbox/harness.py):
a supervisor (PID 1), the candidate's process and the check's process, each of the last two with
a uid of its own. The check calls the candidate's functions through proxies: the call (the name
and the arguments) goes down a pipe to the candidate's process as plain data, and the result, or
the exception, comes back as plain data (None, bool, int, float, str, and lists, tuples and dicts
of them, exact types). The check's process alone holds the status descriptor its verdict goes to,
and the supervisor alone the report descriptor that says how the check's process ended; the
parent takes "passed" only from both together: the word "passed" from the check's process and an
exit status 0 of that process from the supervisor.

Threat model. The candidate is hostile (written to be ranked first, or worse).
- It cannot forge the verdict: its process holds no descriptor of the status or the report
  (closed before its first line runs), cannot open them through /proc (another uid: ptrace
  access is denied, and ptrace, process_vm_* and pidfd_getfd are denied by seccomp), cannot signal
  the check's process or the supervisor (other uids, no capabilities), and cannot touch the check's
  memory: they share no address space. Nothing it does in its own process (replacing builtins,
  exec, os.write, callable; editing frames) reaches the check's process. No object crosses: an
  object whose __eq__ always answers True cannot be sent, only the plain values the check's own
  process builds from JSON, so `candidate(x) == expected` compares the check's own values.
- It can answer each call with any plain value or any exception, hang (the wall-clock limit),
  spend CPU and memory and processes up to the execution's limits, crash, or kill its own process:
  the check then fails or ends in "error" or "timeout". It cannot make another execution fail:
  each box (slot) has its own uids (RLIMIT_NPROC counts per uid) and its own cgroup.
- It cannot shadow what the check's names mean: a proxy (or a copy of a plain value, or the check's
  own import of a module) goes into the check's globals only under a name that is an identifier,
  no keyword, does not start with "_" and is not a builtin's (`dir(builtins)` in the check's
  process), decided there, since a raw "ready" message can announce any name. A candidate-defined
  `abs`, `len` or `range` stays the candidate's own; the check's `abs` is the builtin. A HumanEval
  check(candidate) is still given the entry point, whatever its name. With an entry point, that
  function is the only name of the candidate's the check gets: a helper or a value defined beside
  it is not (a check that calls a helper the problem meant to give, as HumanEval/38's
  encode_cyclic, would otherwise pass whatever the candidate made the helper); such a check ends
  in "error" (NameError) until the problem itself can give trusted helpers.
- It cannot read the check: the check's text travels in a descriptor of its own that neither the
  parent's job (on the supervisor's stdin) nor anything the supervisor reads before its forks
  holds, and that the candidate's process closes before its first line; only the check's process
  reads it, after both forks. The candidate's memory (its objects, its frames, raw through ctypes
  or /proc/self/mem) never held a byte of it. Nor can it read or rewrite what the check prints:
  see Output.
- It can see the check's process in /proc (its PID and command line, the harness), its box's
  cgroup name in /proc/self/cgroup (redline-sandbox-n, as its uid tells n anyway), and write to its
  own home and to nothing else.
The check is model-written too, and so hostile as well: it runs in the check's process, so it can
write any verdict for itself ("passed" included) and nothing more. A test that passes whatever the
candidate does is a useless test, not an escape: it cannot change another check's verdict (each
check has its own sandbox), the candidate's answers, the worker, or another execution.

Isolation (bwrap, the only one; `isolation_available()` returns "bwrap" or None):
- namespaces: network (only a loopback of its own: 127.0.0.1:5432 and :6379 are refused), PID
  (bwrap --as-pid-1: the harness is PID 1, so /proc/1/cmdline is the interpreter and the
  harness, not bwrap's command line with the host's paths), IPC, UTS, cgroup; no user namespace
  (the worker is root, and a user namespace would map only one uid);
- a root that is empty but for the interpreter and its standard library read-only at /python
  (site-packages hidden under an empty tmpfs), the system's shared libraries read-only, a private
  /proc of the sandbox's own processes, a minimal /dev, and /tmp, a tmpfs of file_size_mb with a
  home of mode 0700 for each process. No repository, /work, /root, /home, /etc, shell or programs.
  /proc/self/mountinfo still names the host directories that are mounted read-only (the
  interpreter's and the libraries'): nothing else of the host's paths is visible;
- capabilities: bwrap run by root keeps all of root's unless told, so it is told --cap-drop ALL;
  the supervisor keeps CAP_SETUID, CAP_SETGID and CAP_CHOWN to give the two processes their uids
  and homes, and setuid() clears them in both. no_new_privs;
- a seccomp filter (inference/sandbox/seccomp.py) that denies new namespaces (unshare, setns,
  clone with CLONE_NEW*, clone3), mount and the like, ptrace, bpf, perf_event_open, io_uring,
  keyctl, kexec and module loading. It takes the place of bwrap's --disable-userns, which needs
  --unshare-user and so, for root, a user namespace with a single uid;
- --die-with-parent, --new-session, a new session of the worker's, an empty environment (PATH,
  HOME, TMPDIR, LANG, LD_LIBRARY_PATH), no descriptor of the worker's; `python -I -S -B -u`.
Every execution confirms its isolation from inside (PID 1, the seccomp filter, no_new_privs,
the capability set, root in the sandbox, only a loopback, no /etc): if any point fails, or bwrap
cannot start, `SandboxUnavailable` is raised; nothing falls back to a weaker mode unless
allow_weak=True (REDLINE_SANDBOX_ALLOW_WEAK on the Django side), which runs the same harness
without bwrap ("none": limits, uids and a temporary directory; network and filesystem open).
bwrap needs a root worker here: as another user the sandbox refuses (the two uids need root).

Limits. Per process (rlimits, set before a line of the code runs): RLIMIT_CPU (SIGXCPU at
cpu_seconds rounded up, SIGKILL a second later), RLIMIT_AS (memory_mb), RLIMIT_NPROC (processes,
per uid, so per box), RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE=0. Per execution, children
included, where the worker's cgroups are writable (inference/sandbox/cgroup.py: cgroup v1 pids,
memory and cpuacct, or v2 with memory, pids and cpu delegated): pids.max (processes), the memory
of all processes together (memory_mb, swap included), and their CPU time, watched by the parent
every 0.1 s and killed past cpu_seconds. Where no cgroup is writable, the per-execution limits
are only these: processes per uid (RLIMIT_NPROC, per box), memory and CPU per process (so n
processes may hold n times memory_mb and spend n times cpu_seconds until the wall-clock limit);
teardown still waits, for the end of the sandbox's PID 1, which the kernel lets end only after
every other process of its PID namespace (in the weak mode, without a namespace, it does not wait
for orphans).

Boxes and teardown. An execution takes a free box, 0 to SLOTS - 1, with a lock file (flock) in
/run/redline-sandbox: box n runs the candidate as uid 60000 + 2n and the check as 60001 + 2n,
in the cgroup redline-sandbox-n. The parent puts the supervisor (bwrap's child, whose host PID
bwrap gives on --info-fd) into that cgroup while its interpreter starts, and the supervisor forks
nothing until the parent says so on a pipe, then checks /proc/self/cgroup: every process that runs
a line of the code starts in the cgroup (bwrap's own monitor process, which runs none, stays out;
what the supervisor's start-up allocated or spent before the move is not counted). When the
check's process ends (or at a limit), the namespace is killed; the call returns once the cgroup
holds no process and the sandbox's PID 1 has ended.

Output: stdout and stderr of each process go to an unnamed file in memory (memfd) of its own,
capped by RLIMIT_FSIZE, the check's shared with the supervisor and bwrap only: the candidate's
process holds no descriptor of the check's output, so it can neither read what the check printed
nor rewrite it. The parent reads back at most output_bytes: the check's output first, then, when
the candidate printed anything, the candidate's in what is left, each under a label.

Cost (bench/sandbox_overhead.py; the figures and where they go are in bench/README.md): on the
idle development VM (2 CPUs, load average 0.1), 17.7 ms per check one at a time against 7.1 ms
for a bare `python -I -S -c`: 10.6 ms of isolation (9.3 ms of it CPU time), and 11.8 ms two at a
time, within the 15 ms aimed at (a bare `python -c` with site-packages takes 18.6 ms). With both
CPUs busy with other work (load average 6.1) the isolation took 16.3 ms one at a time, mostly
waiting for the scheduler at each hand-over between processes. bwrap costs about 4 ms of CPU
(exec, clone with the namespaces, the mounts), the harness's load 1 ms, the two forks (their
copy-on-write faults) and the call over the channel 4 to 5 ms of wall time, the teardown 1.5 ms.
"""

import fcntl
import functools
import json
import marshal
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from inference.sandbox import cgroup as cgroups
from inference.sandbox.seccomp import filter_program

UID_BASE = 60000  # box n: candidate 60000 + 2n, check 60001 + 2n (isolate's boxes start at 60000 too)
SLOTS = 32
LOCK_DIR = Path("/run/redline-sandbox")
RESULTS = ("passed", "failed", "error")
STATUS_BYTES = 16384
CHECK_LABEL, CANDIDATE_LABEL = "[the check's output]", "[the candidate's output]"
CPU_POLL_S = 0.1
# The harness goes in compiled, on stdin before the job: compiling its text costs about 5 ms a start.
_HARNESS_CODE = marshal.dumps(compile(Path(__file__).with_name("harness.py").read_text(), "harness.py", "exec"))
_LOADER = "import marshal, sys; exec(marshal.load(sys.stdin.buffer))"
_PYTHON_FLAGS = ("-I", "-S", "-B", "-u")
_INSIDE = "/python"  # where bwrap shows the interpreter
_HOST_MARKER = "/etc/passwd"  # on every host, never in the sandbox


class SandboxUnavailable(RuntimeError):
    """No confirmed isolation on this machine, and the weak mode was not allowed."""


@dataclass(frozen=True)
class Limits:
    """Per execution. cpu_seconds is rounded up to whole seconds for RLIMIT_CPU (it counts seconds)."""

    cpu_seconds: float = 2
    wall_seconds: float = 5
    memory_mb: int = 512
    processes: int = 32
    file_size_mb: int = 8
    open_files: int = 64
    output_bytes: int = 8192


@dataclass(frozen=True)
class Execution:
    status: str  # "passed" | "failed" | "error" | "timeout"
    exit_code: int | None  # of the check's process
    signal: int | None  # that killed the check's process
    output: str  # the check's stdout and stderr, then the candidate's (labelled), output_bytes in all
    traceback: str  # the last traceback from the candidate or check lines on ("" when passed)
    duration_s: float
    truncated: bool
    isolation: str  # "bwrap" | "none"


def isolation_available() -> str | None:
    """ "bwrap" when a probe execution confirms the isolation (a success is remembered), else None."""
    return "bwrap" if _probe() is None else None


def run_check(
    candidate_code: str,
    check_code: str,
    limits: Limits = Limits(),
    *,
    allow_weak: bool = False,
    entry_point: str | None = None,
) -> Execution:
    """Run the candidate and one check, each in a sandboxed process of its own."""
    return _execute(_isolation(allow_weak), candidate_code, check_code, limits, entry_point)


def run_checks(
    candidate_code: str,
    checks: list[str],
    limits: Limits = Limits(),
    *,
    allow_weak: bool = False,
    entry_point: str | None = None,
    workers: int = 1,
) -> list[Execution]:
    """One Execution per check, in order; each check has its own sandbox, `workers` at a time."""
    isolation = _isolation(allow_weak)

    def one(check: str) -> Execution:
        return _execute(isolation, candidate_code, check, limits, entry_point)

    if workers <= 1:
        return [one(check) for check in checks]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, checks))


def _isolation(allow_weak: bool) -> str:
    if isolation_available() is not None:
        return "bwrap"
    if allow_weak:
        return "none"
    raise SandboxUnavailable(
        f"No confirmed sandbox isolation on this machine: {_probe() or 'the probe failed'}. Install "
        "bubblewrap (apt-get install -y bubblewrap, which ./dev up does) and run the worker as root, or "
        "set REDLINE_SANDBOX_ALLOW_WEAK=1 to run code with resource limits only."
    )


_confirmed = False


def _probe() -> str | None:
    """Why bwrap isolation is not available, or None. Only a success is remembered."""
    global _confirmed
    if _confirmed:
        return None
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    if os.geteuid() != 0:
        return "the worker is not root, and the sandbox needs root to give its processes uids of their own"
    try:
        probe = _execute("bwrap", "import math", "assert math.pi > 3", Limits(wall_seconds=10), None)
    except (OSError, SandboxUnavailable) as exc:
        return str(exc)
    if probe.status != "passed":
        return f"a probe check came back {probe.status}: {probe.traceback or probe.output}"
    _confirmed = True
    return None


# --- one execution -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    slot: int
    uids: tuple[int, int] | None  # candidate, check; None when the worker is not root
    cgroup: cgroups.Cgroup | None


class _TakenBox:
    """A free box, held with an exclusive flock on its lock file for the execution."""

    def __enter__(self) -> _Box:
        root = os.geteuid() == 0
        directory = LOCK_DIR if root else Path(tempfile.gettempdir()) / f"redline-sandbox-{os.geteuid()}"
        directory.mkdir(mode=0o700, exist_ok=True)
        while True:
            for slot in range(SLOTS):
                fd = os.open(directory / f"box-{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                self.fd = fd
                uids = (UID_BASE + 2 * slot, UID_BASE + 2 * slot + 1) if root else None
                return _Box(slot, uids, _cgroup(slot))
            time.sleep(0.01)  # every box busy: more workers than SLOTS

    def __exit__(self, *_) -> None:
        os.close(self.fd)


@functools.cache
def _null_separated(arguments: tuple[str, ...]) -> bytes:
    return "".join(argument + "\0" for argument in arguments).encode()


@functools.cache
def _seccomp_filter() -> bytes:
    return filter_program()


@functools.cache
def _cgroup(slot: int) -> cgroups.Cgroup | None:
    return cgroups.find(slot)


def _execute(
    isolation: str, candidate_code: str, check_code: str, limits: Limits, entry_point: str | None
) -> Execution:
    bwrap = isolation == "bwrap"
    with _TakenBox() as box:
        group = box.cgroup
        if group is not None:
            group.prepare(processes=limits.processes, memory_bytes=limits.memory_mb * 1024 * 1024)
        workdir = "/tmp" if bwrap else tempfile.mkdtemp(prefix="redline-sandbox-")
        try:
            if not bwrap:
                os.chmod(workdir, 0o711)  # the two processes reach their homes, and list nothing
            go_read, go_write = os.pipe()  # the supervisor forks nothing before a byte comes down it
            with (
                _memory_file("stdin") as stdin,
                _memory_file("output") as output,  # the check's (and the supervisor's and bwrap's)
                _memory_file("candidate-output") as candidate_output,
                _memory_file("check") as check,  # its text: never in the job, which the candidate inherits
                _memory_file("status") as status,
                _memory_file("report") as report,
                open(go_read, "rb", buffering=0),
                open(go_write, "wb", buffering=0) as go,
            ):
                job = {
                    "candidate": candidate_code,
                    "entry_point": entry_point,
                    "workdir": workdir,
                    "isolated": bwrap,
                    "host_marker": _HOST_MARKER,
                    "uids": box.uids,
                    "status_fd": status.fileno(),
                    "report_fd": report.fileno(),
                    "check_fd": check.fileno(),
                    "candidate_output_fd": candidate_output.fileno(),
                    "go_fd": go_read,
                    "cgroup": group.membership() if group is not None else None,
                    "cpu_seconds": max(1, math.ceil(limits.cpu_seconds)),
                    "memory_mb": limits.memory_mb,
                    "processes": limits.processes,
                    "file_size_mb": limits.file_size_mb,
                    "open_files": limits.open_files,
                }
                stdin.write(_HARNESS_CODE + marshal.dumps(job))
                stdin.seek(0)
                check.write(check_code.encode("utf-8", "surrogatepass"))
                check.seek(0)
                started = time.monotonic()
                fds = (status.fileno(), report.fileno(), go_read, check.fileno(), candidate_output.fileno())
                outcome = _run(bwrap, limits, group, stdin, output, fds, go, workdir)
                duration = time.monotonic() - started
                word, _, traceback = _read(status, STATUS_BYTES).partition("\n")
                report.seek(0)
                raw_report = report.read()
                text, truncated = _outputs(output, candidate_output, limits.output_bytes)
        finally:
            if not bwrap:
                shutil.rmtree(workdir, ignore_errors=True)
        oom = group is not None and group.oom_killed()
        cpu_used = group.cpu_seconds() if group is not None else 0.0
    supervisor = marshal.loads(raw_report) if raw_report else None
    if supervisor and supervisor["isolation"]:
        raise SandboxUnavailable(f"The sandbox's isolation could not be confirmed: {supervisor['isolation']}")
    return _judge(isolation, limits, outcome, supervisor, word, traceback, text, truncated, duration, oom, cpu_used)


def _memory_file(name: str):
    """An unnamed file in memory (memfd, not sealable): a quarter of the CPU of a file on the disk's
    /tmp, whose journal records its creation and its end. RLIMIT_FSIZE caps writes to it alike."""
    return open(os.memfd_create(f"redline-sandbox-{name}", os.MFD_CLOEXEC), "w+b")


def _run(bwrap: bool, limits: Limits, group, stdin, output, fds: tuple[int, ...], go, workdir: str) -> str:
    """Start the sandbox, wait for it: "exited", "cpu" or "wall"; return once none of it runs."""
    pipes = [os.pipe(), os.pipe()] if bwrap else []  # bwrap's arguments, the seccomp filter
    info = os.pipe() if bwrap else None  # bwrap writes the host PID of the sandbox's PID 1 to it
    if bwrap:
        # bwrap reads its options from the pipe before it forks (the command must be on its command line)
        command = ["bwrap", "--args", str(pipes[0][0]), f"{_INSIDE}/bin/python3", *_PYTHON_FLAGS, "-c", _LOADER]
        pass_fds = (*fds, pipes[0][0], pipes[1][0], info[1])
    else:
        command = [_host_python(), *_PYTHON_FLAGS, "-c", _LOADER]
        pass_fds = fds
    try:
        proc = subprocess.Popen(
            command,
            stdin=stdin,
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=pass_fds,
            env=_environment(workdir),
            start_new_session=True,
        )
    finally:
        for read_end, _ in pipes:
            os.close(read_end)
        if info is not None:
            os.close(info[1])
    outcome = "exited"
    supervisor = None  # (a pidfd, the PID) of the supervisor: the sandbox's PID 1
    try:
        if bwrap:
            tail = ["--info-fd", str(info[1]), "--seccomp", str(pipes[1][0]), *_bwrap_tail(limits)]
            arguments = _null_separated(tuple(_bwrap_base())) + "".join(f"{arg}\0" for arg in tail).encode()
            for (_, write_end), data in zip(pipes, (arguments, _seccomp_filter())):
                try:
                    os.write(write_end, data)  # < a pipe's 64 KiB
                except BrokenPipeError:
                    pass  # bwrap is gone: its output says why
                finally:
                    os.close(write_end)
            supervisor = _sandbox_init(info[0], proc.pid)
        else:
            supervisor = os.pidfd_open(proc.pid), proc.pid
        if supervisor is not None and _join(group, *supervisor):
            go.write(b"g")  # it waited for this before its first fork: all that runs code is counted
            outcome = _wait(proc.pid, limits, group)
        else:  # bwrap failed (its output says why), or the supervisor is gone: nothing ran
            _kill(proc.pid, group, supervisor)
    finally:  # also when the worker is interrupted (a task's soft time limit)
        if info is not None:
            os.close(info[0])
        if outcome != "exited" or sys.exc_info()[0] is not None:
            _kill(proc.pid, group, supervisor)
        os.wait4(proc.pid, 0)
        proc.returncode = 0  # reaped: Popen must not wait for it again
        if group is not None:
            group.kill_all()  # returns once every process of the execution is gone
        if supervisor is not None:
            _reaped(supervisor[0])
    return outcome


def _sandbox_init(info_fd: int, bwrap_pid: int) -> tuple[int, int] | None:
    """A pidfd and the PID of the sandbox's PID 1 (bwrap's child) from bwrap's --info-fd; None if
    bwrap failed."""
    data = b""
    while chunk := os.read(info_fd, 4096):  # bwrap writes it after its clone, then closes it
        data += chunk
    try:
        pid = json.loads(data)["child-pid"]
        pidfd = os.pidfd_open(pid)
    except (ValueError, KeyError, TypeError, OSError):
        return None  # bwrap exited before its clone: its output says why
    # The pidfd holds the process: if it is still running once its parent is seen to be bwrap, it is
    # bwrap's child (a PID is not reused before its process is reaped, and bwrap reaps it only at its end).
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            parent = int(stat.read().rpartition(b")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        parent = None
    if parent != bwrap_pid or _exited(pidfd):
        os.close(pidfd)
        return None
    return pidfd, pid


def _join(group, pidfd: int, pid: int) -> bool:
    """Put the supervisor into the box's cgroup while its interpreter starts (a cgroup v1 migration
    waits for an RCU grace period, some ms); False if it is gone."""
    if group is not None:
        try:
            group.add(pid)
        except ProcessLookupError:
            return False
    return not _exited(pidfd)


def _exited(pidfd: int, timeout_s: float = 0) -> bool:
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(1000 * timeout_s))


def _reaped(pidfd: int, wait_s: float = 5.0) -> None:
    """Wait for the end of the sandbox's PID 1: the kernel ends it only after every other process of
    its PID namespace is gone, so then none of the execution is left, with or without a cgroup."""
    try:
        if not _exited(pidfd, wait_s):
            raise RuntimeError(f"the sandbox's PID 1 outlived SIGKILL for {wait_s:g} s")
    finally:
        os.close(pidfd)


def _wait(pid: int, limits: Limits, group) -> str:
    pidfd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        deadline = time.monotonic() + limits.wall_seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "wall"
            if poller.poll(1000 * (min(left, CPU_POLL_S) if group is not None else left)):
                return "exited"
            if group is not None and group.cpu_seconds() > limits.cpu_seconds:
                return "cpu"
    finally:
        os.close(pidfd)


def _kill(pid: int, group, supervisor: tuple[int, int] | None) -> None:
    """Kill the sandbox: every process in its cgroup, its PID 1 (whose end kills the namespace), bwrap."""
    if supervisor is not None:
        try:
            signal.pidfd_send_signal(supervisor[0], signal.SIGKILL)
        except ProcessLookupError:
            pass
    if group is not None:
        for member in group.pids():
            try:
                os.kill(member, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        os.kill(pid, signal.SIGKILL)
        os.killpg(pid, signal.SIGKILL)  # the weak mode: the harness' process group
    except (ProcessLookupError, PermissionError):
        pass


def _judge(
    isolation: str,
    limits: Limits,
    outcome: str,
    supervisor: dict | None,
    word: str,
    traceback: str,
    text: str,
    truncated: bool,
    duration: float,
    oom: bool,
    cpu_used: float,
) -> Execution:
    """The status from the check's verdict, and from how each process ended (their real wait status)."""
    check = _wait_status(supervisor and supervisor["check"])
    candidate = _wait_status(supervisor and supervisor["candidate"])
    exit_code, signum = check
    signals = {check[1], candidate[1]}
    cpu_limit = max(1, math.ceil(limits.cpu_seconds))

    def done(status: str, why: str = traceback, code=exit_code, sig=signum) -> Execution:
        return Execution(status, code, sig, text, why, duration, truncated, isolation)

    if outcome == "wall":
        why = f"Timeout: still running after the wall-clock limit of {limits.wall_seconds:g} s"
        return done("timeout", why, None, signal.SIGKILL)
    if word == "passed" and exit_code == 0:
        return done("passed", "")
    if outcome == "cpu" or signal.SIGXCPU in signals or cpu_used >= limits.cpu_seconds:
        limit = limits.cpu_seconds if outcome == "cpu" or cpu_used >= limits.cpu_seconds else cpu_limit
        return done("timeout", f"Timeout: used up the CPU time limit of {limit:g} s")
    memory = f" (the memory limit of {limits.memory_mb} MB)" if oom else ""
    if word in RESULTS and exit_code == 0:
        if candidate[1] is not None:
            traceback += f"\nThe candidate's process was killed by {_signal_name(candidate[1])}{memory}."
        return done(word)
    if oom:
        return done("error", f"Killed for the memory limit of {limits.memory_mb} MB (all processes together)")
    if signum is not None:
        return done("error", f"The check's process was killed by {_signal_name(signum)} before the check finished")
    if exit_code is not None:
        return done("error", f"The check's process exited with code {exit_code} before the check finished")
    if supervisor and supervisor.get("failure"):
        return done("error", f"The sandbox could not start the check: {supervisor['failure']}")
    if isolation == "bwrap":
        raise SandboxUnavailable(f"bubblewrap did not start the sandbox: {text.strip()[-2000:] or 'no output'}")
    return done("error", "The harness ended without a report")


def _wait_status(raw: int | None) -> tuple[int | None, int | None]:
    """(exit code, None) or (None, signal): an exit code of 152 is not a SIGXCPU."""
    if raw is None:
        return None, None
    if os.WIFSIGNALED(raw):
        return None, os.WTERMSIG(raw)
    return os.WEXITSTATUS(raw), None


def _read(file, limit: int) -> str:
    file.seek(0)
    return file.read(limit).decode("utf-8", "replace")


def _output(file, limit: int) -> tuple[str, bool]:
    size = os.fstat(file.fileno()).st_size
    text = _read(file, limit) if limit else ""
    if size <= limit:
        return text, False
    return f"{text}\n[output truncated: the first {limit} of {size} bytes]", True


def _outputs(check_file, candidate_file, limit: int) -> tuple[str, bool]:
    """The check's output, then the candidate's, labelled when the candidate printed anything; the
    check's comes first and takes what it needs of the limit, the candidate's what is left."""
    text, truncated = _output(check_file, limit)
    if not os.fstat(candidate_file.fileno()).st_size:
        return text, truncated
    left = max(0, limit - len(text.encode("utf-8", "replace")))
    candidate, candidate_truncated = _output(candidate_file, left)
    return f"{CHECK_LABEL}\n{text}\n{CANDIDATE_LABEL}\n{candidate}", truncated or candidate_truncated


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def _environment(workdir: str) -> dict[str, str]:
    # bwrap adds LD_LIBRARY_PATH for the interpreter (--setenv): in bwrap's own environment it would
    # send bwrap's dynamic loader looking for each of its libraries in a directory it does not have
    return {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8"}


# --- bwrap's command line -------------------------------------------------------------------


def _bwrap_tail(limits: Limits) -> list[str]:
    """After the root: the private /tmp of this execution's size."""
    size = str(limits.file_size_mb * 1024 * 1024)
    return ["--perms", "0755", "--size", size, "--tmpfs", "/tmp", "--chdir", "/tmp"]


@functools.cache
def _host_python() -> str:
    """The interpreter for the weak mode: the first of the worker's Python version whose program
    and standard library the boxes' uids can read (a pyenv build under /root is not)."""
    ours = os.path.realpath(sys.executable)
    if os.geteuid() != 0:
        return ours
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for exe, stdlib in (
        (ours, sysconfig.get_path("stdlib")),
        (f"/usr/bin/{version}", f"/usr/lib/{version}"),
        (f"/usr/local/bin/{version}", f"/usr/local/lib/{version}"),
    ):
        if os.path.isfile(exe) and _world_readable(exe) and _world_readable(os.path.join(stdlib, "os.py")):
            return exe
    return ours


def _world_readable(path: str) -> bool:
    """Whether any uid can read the file: it is o+r and every directory above it o+x."""
    path = os.path.realpath(path)
    if not os.path.exists(path) or not os.stat(path).st_mode & 0o004:
        return False
    return all(os.stat(parent).st_mode & 0o001 for parent in Path(path).parents)


@functools.cache
def _bwrap_base() -> tuple[str, ...]:
    """bwrap's options up to the working directory: namespaces, then a root with little in it."""
    args = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup"]
    args += ["--die-with-parent", "--new-session", "--as-pid-1"]
    # bwrap run by root keeps all of root's capabilities unless told; the supervisor needs these three
    args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_CHOWN"]
    args += ["--setenv", "LD_LIBRARY_PATH", f"{_INSIDE}/lib"]  # libpython, when the interpreter is a shared build

    binds: list[tuple[str, str]] = []  # (host path, sandbox path), read-only
    symlinks: list[tuple[str, str]] = []
    multiarch = sysconfig.get_config_var("MULTIARCH")
    for path in ("/lib", "/lib64", "/usr/lib64", f"/usr/lib/{multiarch}" if multiarch else "/usr/lib"):
        if os.path.islink(path):
            symlinks.append((os.readlink(path), path))
        elif os.path.isdir(path):
            binds.append((path, path))
    stdlib = sysconfig.get_path("stdlib")
    inside_stdlib = f"{_INSIDE}/{sys.platlibdir}/{os.path.basename(stdlib)}"
    binds.append((os.path.realpath(sys.executable), f"{_INSIDE}/bin/python3"))
    binds.append((stdlib, inside_stdlib))
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        soname = sysconfig.get_config_var("INSTSONAME")
        binds.append((os.path.join(sysconfig.get_config_var("LIBDIR"), soname), f"{_INSIDE}/lib/{soname}"))

    made: set[str] = set()
    for _, inside in binds:  # bwrap would make the missing parents 0700, unreadable by the boxes' uids
        for parent in reversed(Path(inside).parents[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
    for host, inside in binds:
        args += ["--ro-bind", host, inside]
    for target, inside in symlinks:
        args += ["--symlink", target, inside]
    site_packages = f"{inside_stdlib}/site-packages"
    if os.path.isdir(os.path.join(stdlib, "site-packages")):
        args += ["--tmpfs", site_packages, "--remount-ro", site_packages]
    args += ["--proc", "/proc", "--dev", "/dev"]
    return tuple(args)
