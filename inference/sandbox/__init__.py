"""Run untrusted Python (model-written code and test cases) in a sandbox.

`run_check(candidate, check)` executes the candidate module, then one check in the same
namespace, in a fresh process, and returns an `Execution`: "passed" (the check ran to the end),
"failed" (an AssertionError), "error" (any other exception, or a crash) or "timeout" (the CPU or
wall-clock limit). `run_checks` runs each check in its own process, so one check's crash or hang
never hides another's result. A check is an `assert ...` statement (or several lines of them), or
`def test_...():` functions, which the harness calls; with `entry_point`, a HumanEval-style
`def check(candidate):` is called with the candidate's function of that name.

Every execution, whatever the isolation:
- starts as a new session (its own process group) with an empty environment: PATH, HOME, TMPDIR
  and LANG only (and LD_LIBRARY_PATH for libpython under bwrap), nothing of the worker's (no
  DATABASE_URL, CELERY_BROKER_URL, REDLINE_*), and no file descriptor of the worker's;
- runs `python -I -S -B -u` (no site-packages, no PYTHON* variables, no user site, no .pyc
  writes, unbuffered output) with the harness (harness.py), the job on stdin; the harness sets
  the resource limits before the candidate runs:
  RLIMIT_CPU (SIGXCPU at cpu_seconds, SIGKILL a second later), RLIMIT_AS (memory), RLIMIT_NPROC,
  RLIMIT_FSIZE, RLIMIT_NOFILE and RLIMIT_CORE=0;
- drops to uid/gid 65534 (nobody/nogroup) when the worker is root: RLIMIT_NPROC counts the
  processes of a real uid and does not apply to root, and nobody owns no file. The count is per
  uid, so executions running at the same moment share `processes`;
- is killed, its whole process group (and with a PID namespace everything inside it), when it
  outlives wall_seconds;
- writes stdout and stderr to an unnamed temporary file, capped by RLIMIT_FSIZE; the parent reads
  back at most output_bytes, so a flood cannot exhaust the worker's memory.

Isolation, the best available first (`isolation_available()`):
- "bwrap": bubblewrap with new network (only a loopback of its own: 127.0.0.1:5432 and :6379 are
  refused), PID, IPC and UTS namespaces, --die-with-parent, --new-session, no_new_privs. The
  root is empty but for: the interpreter and its standard library read-only at /python, with
  site-packages hidden under an empty read-only tmpfs; the system's shared libraries read-only;
  a private /proc and /dev; and the working directory, a private tmpfs at /tmp of file_size_mb.
  No repository, /work, /root, /home or /etc; no shell and no other programs. When the worker is
  not root, bwrap makes a user namespace instead and the code keeps the worker's uid.
- "netns": when bwrap is missing and the worker is root, `unshare --net --pid --fork` (under
  `setpriv --pdeathsig KILL`, so that it dies with the worker). No network, its own PID
  namespace, the same limits, uid and a private temporary directory; but the host filesystem is
  visible with nobody's permissions: world-readable files (the repository's settings.py) can be
  read, world-writable directories (/tmp) written, programs (/usr/bin/ls) run. It runs an
  interpreter of the worker's version that nobody can read (a pyenv build under /root is not:
  then /usr/bin/python3.X).
- "none": limits, uid and temporary directory only, network and filesystem open. Used only with
  allow_weak=True (REDLINE_SANDBOX_ALLOW_WEAK on the Django side); otherwise SandboxUnavailable.

What a sandbox cannot do: the candidate and the check share a process, so a candidate written
to deceive (an object equal to everything, a forged result) can make a check pass. It keeps code
from harming the machine; it does not prove the code right.
"""

import functools
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

SANDBOX_UID = 65534  # nobody
SANDBOX_GID = 65534  # nogroup
RESULTS = ("passed", "failed", "error")
STATUS_BYTES = 16384
_HARNESS = Path(__file__).with_name("harness.py").read_text()
_PYTHON_FLAGS = ("-I", "-S", "-B", "-u")
_INSIDE = "/python"  # where bwrap shows the interpreter


class SandboxUnavailable(RuntimeError):
    """No isolation on this machine, and the weak mode was not allowed."""


@dataclass(frozen=True)
class Limits:
    """Per execution. cpu_seconds is rounded up to whole seconds (RLIMIT_CPU counts seconds)."""

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
    exit_code: int | None
    signal: int | None
    output: str  # stdout and stderr, the first output_bytes, marked when truncated
    traceback: str  # the last traceback from the candidate or check lines on ("" when passed)
    duration_s: float
    truncated: bool
    isolation: str  # "bwrap" | "netns" | "none"


def isolation_available() -> str | None:
    """The best isolation this machine gives: "bwrap", "netns" or None (each tried once per process)."""
    for isolation in ("bwrap", "netns"):
        if _works(isolation):
            return isolation
    return None


def run_check(
    candidate_code: str,
    check_code: str,
    limits: Limits = Limits(),
    *,
    allow_weak: bool = False,
    entry_point: str | None = None,
) -> Execution:
    """Run the candidate and then one check in a fresh sandboxed process."""
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
    """One Execution per check, in order; each check runs in its own process, `workers` at a time."""
    isolation = _isolation(allow_weak)

    def one(check: str) -> Execution:
        return _execute(isolation, candidate_code, check, limits, entry_point)

    if workers <= 1:
        return [one(check) for check in checks]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, checks))


def _isolation(allow_weak: bool) -> str:
    isolation = isolation_available()
    if isolation is not None:
        return isolation
    if allow_weak:
        return "none"
    raise SandboxUnavailable(
        "No sandbox isolation on this machine: neither bubblewrap (bwrap) nor, as root, "
        "`unshare --net` works. Install bubblewrap (apt-get install -y bubblewrap, which ./dev up "
        "does), or set REDLINE_SANDBOX_ALLOW_WEAK=1 to run code with resource limits only."
    )


@functools.cache
def _works(isolation: str) -> bool:
    if isolation == "bwrap" and shutil.which("bwrap") is None:
        return False
    if isolation == "netns" and (os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv"))):
        return False
    try:
        probe = _execute(isolation, "import json, math, socket", "", Limits(wall_seconds=10), None)
    except OSError:
        return False
    return probe.status == "passed"


# --- one execution -------------------------------------------------------------------------


def _execute(
    isolation: str, candidate_code: str, check_code: str, limits: Limits, entry_point: str | None
) -> Execution:
    root = os.geteuid() == 0
    workdir = "/tmp" if isolation == "bwrap" else tempfile.mkdtemp(prefix="redline-sandbox-")
    try:
        if isolation != "bwrap" and root:
            os.chown(workdir, SANDBOX_UID, SANDBOX_GID)
        with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as record:
            job = {
                "candidate": candidate_code,
                "check": check_code,
                "entry_point": entry_point,
                "workdir": workdir,
                "uid": SANDBOX_UID if root else None,
                "gid": SANDBOX_GID,
                "status_fd": record.fileno(),
                "cpu_seconds": max(1, math.ceil(limits.cpu_seconds)),
                "memory_mb": limits.memory_mb,
                "processes": limits.processes,
                "file_size_mb": limits.file_size_mb,
                "open_files": limits.open_files,
            }
            stdin.write(marshal.dumps(job))
            stdin.seek(0)
            started = time.monotonic()
            proc = subprocess.Popen(
                _command(isolation, limits, root),
                stdin=stdin,
                stdout=output,
                stderr=subprocess.STDOUT,
                pass_fds=(record.fileno(),),
                env=_environment(isolation, workdir),
                start_new_session=True,
            )
            try:
                timed_out = not _exits_within(proc.pid, limits.wall_seconds)
            finally:  # also when the worker is interrupted (a task's soft time limit)
                _kill_group(proc.pid)  # on time-out, and what a candidate left running
                _, wait_status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(wait_status)
            duration = time.monotonic() - started
            word, _, traceback = _read(record, STATUS_BYTES).partition("\n")
            text, truncated = _output(output, limits.output_bytes)
    finally:
        if workdir != "/tmp":
            shutil.rmtree(workdir, ignore_errors=True)

    code = proc.returncode
    exit_code, signum = (code, None) if code >= 0 else (None, -code)
    if isolation != "none" and code > 128 and word not in RESULTS:  # bwrap's or the harness' init: 128 + signal
        exit_code, signum = None, code - 128
    # The CPU time of the tree; under bwrap only in part (the process we wait for does not reap
    # bwrap's init), so there SIGXCPU is the sign, and a SIGKILL may be the CPU limit's hard stop.
    cpu = usage.ru_utime + usage.ru_stime
    if timed_out:
        status = "timeout"
        traceback = f"Timeout: still running after the wall-clock limit of {limits.wall_seconds:g} s"
        exit_code, signum = None, signal.SIGKILL
    elif word in RESULTS and code == 0:
        status = word
    elif signum == signal.SIGXCPU or cpu >= job["cpu_seconds"]:
        status, traceback = "timeout", f"Timeout: used up the CPU time limit of {job['cpu_seconds']} s"
    elif signum == signal.SIGKILL:
        status, traceback = "error", "Killed by SIGKILL (the memory or CPU limit, or the program itself)"
    elif signum is not None:
        status, traceback = "error", f"Killed by signal {_signal_name(signum)} before the check finished"
    else:
        status, traceback = "error", f"The process exited with code {code} before the check finished"
    return Execution(status, exit_code, signum, text, traceback, duration, truncated, isolation)


def _exits_within(pid: int, seconds: float) -> bool:
    pidfd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        return bool(poller.poll(seconds * 1000))
    finally:
        os.close(pidfd)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read(file, limit: int) -> str:
    file.seek(0)
    return file.read(limit).decode("utf-8", "replace")


def _output(file, limit: int) -> tuple[str, bool]:
    size = os.fstat(file.fileno()).st_size
    text = _read(file, limit)
    if size <= limit:
        return text, False
    return f"{text}\n[output truncated: the first {limit} of {size} bytes]", True


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def _environment(isolation: str, workdir: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8"}
    if isolation == "bwrap":
        env["LD_LIBRARY_PATH"] = f"{_INSIDE}/lib"  # libpython, when the interpreter is a shared build
    return env


# --- the command line of each isolation --------------------------------------------------------


def _command(isolation: str, limits: Limits, root: bool) -> list[str]:
    if isolation == "bwrap":
        python = [f"{_INSIDE}/bin/python3", *_PYTHON_FLAGS, "-c", _HARNESS]
        tmp = [
            "--perms",
            "1777",
            "--size",
            str(limits.file_size_mb * 1024 * 1024),
            "--tmpfs",
            "/tmp",
            "--chdir",
            "/tmp",
        ]
        return [*_bwrap_base(root), *tmp, *python]
    python = [_host_python(), *_PYTHON_FLAGS, "-c", _HARNESS]
    if isolation == "netns":  # setpriv: unshare dies with the worker, and --kill-child takes the rest along
        return ["setpriv", "--pdeathsig", "KILL", "unshare", "--net", "--pid", "--fork", "--kill-child", "--", *python]
    return python


@functools.cache
def _host_python() -> str:
    """The interpreter for "netns" and "none": the first of the worker's Python version whose
    program and standard library the sandbox's uid can read (a pyenv build under /root is not)."""
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
def _bwrap_base(root: bool) -> tuple[str, ...]:
    """bwrap's options up to the working directory: namespaces, then a root with little in it."""
    args = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    args += ["--die-with-parent", "--new-session"]
    if root:  # bwrap drops every capability of root; the harness needs these two to become nobody
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]

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
    for _, inside in binds:  # bwrap would make the missing parents 0700, unreadable by nobody
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
