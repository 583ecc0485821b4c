"""The program that runs inside the sandbox: confine itself, run the candidate and one check.

The parent (inference.sandbox) starts it as `python -I -S -B -u -c <this file's text>` with the
job, a marshal'ed dict, on stdin. It uses the standard library only (no site-packages are
visible in the sandbox) and imports little, because its start-up is paid on every execution.

Order matters: the resource limits and the switch to the unprivileged uid happen before a line
of the candidate runs. The result goes to the status file descriptor as one word ("passed",
"failed", "error") on the first line and the traceback excerpt after it. A process that dies
before writing it (killed by a limit, a signal, os._exit) leaves the parent to judge from the
exit status.
"""

import marshal
import os
import resource
import sys

CANDIDATE = "candidate.py"
CHECK = "check.py"
TRACEBACK_CHARS = 4000


def confine(job: dict) -> None:
    """Resource limits, the working directory, then the unprivileged uid (only root can switch)."""
    mb = 1024 * 1024
    limits = {
        resource.RLIMIT_CPU: (job["cpu_seconds"], job["cpu_seconds"] + 1),  # SIGXCPU, then SIGKILL
        resource.RLIMIT_AS: (job["memory_mb"] * mb,) * 2,
        resource.RLIMIT_NPROC: (job["processes"],) * 2,
        resource.RLIMIT_FSIZE: (job["file_size_mb"] * mb,) * 2,
        resource.RLIMIT_NOFILE: (job["open_files"],) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    for which, (soft, hard) in limits.items():
        resource.setrlimit(which, (soft, hard))
    os.chdir(job["workdir"])
    if job["uid"] is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(job["gid"])
        os.setuid(job["uid"])  # real, effective and saved uid: no way back to root
    null = os.open("/dev/null", os.O_RDONLY)  # the job has been read: the candidate's stdin is empty
    os.dup2(null, 0)
    os.close(null)


def run(job: dict) -> tuple[str, BaseException | None]:
    """Execute the candidate, then the check in the same namespace, then the tests the check defines."""
    namespace: dict = {"__name__": "candidate", "__builtins__": __builtins__}
    try:
        exec(compile(job["candidate"], CANDIDATE, "exec"), namespace)  # noqa: S102 - what the sandbox is for
        entry_point = job["entry_point"]
        if entry_point and not callable(namespace.get(entry_point)):
            raise NameError(f"the candidate does not define the function {entry_point!r}")
        before = dict(namespace)
        exec(compile(job["check"], CHECK, "exec"), namespace)  # noqa: S102
        defined = [k for k, v in namespace.items() if callable(v) and before.get(k) is not v]
        for name in defined:
            if name.startswith("test_"):
                namespace[name]()
        if "check" in defined:  # HumanEval style: def check(candidate): assert ...
            if not entry_point:
                raise TypeError("the check defines check(candidate): give the entry_point it is called with")
            namespace["check"](namespace[entry_point])
    except AssertionError as exc:
        return "failed", exc
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: the check did not run to the end
        return "error", exc
    finally:
        namespace.clear()  # frees what a memory bomb holds before the traceback is formatted
    return "passed", None


def excerpt(exc: BaseException, sources: dict[str, str]) -> str:
    """The traceback from the first candidate or check frame on (none of this harness), its tail."""
    import linecache
    import traceback

    for filename, source in sources.items():
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename not in sources:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return text if len(text) <= TRACEBACK_CHARS else "...\n" + text[-TRACEBACK_CHARS:]


def init() -> None:
    """As PID 1 of a namespace (`unshare --pid --fork`), run the job in a child and wait for it.

    PID 1 ignores the signals it has no handler for, SIGXCPU and those it sends itself; and
    this init, staying root, is the one process left for the host to reap after a kill.
    """
    child = os.fork()
    if child == 0:
        return
    _, wait_status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(wait_status)
    os._exit(code if code >= 0 else 128 - code)  # like bwrap: 128 + the signal


def main() -> None:
    job = marshal.loads(sys.stdin.buffer.read())
    if os.getpid() == 1:
        init()
    me = os.getpid()
    confine(job)
    status, exc = run(job)
    if os.getpid() != me:  # a process the candidate forked: only the harness reports
        os._exit(1)
    text = ""
    if exc is not None:
        try:
            text = excerpt(exc, {CANDIDATE: job["candidate"], CHECK: job["check"]})
        except MemoryError:
            text = f"{type(exc).__name__} (no memory left to format the traceback)"
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # the output file is full or closed: the parent reports the output it has
    os.write(job["status_fd"], f"{status}\n{text}".encode("utf-8", "replace"))
    os._exit(0)  # threads the candidate left running do not keep the process alive


if __name__ == "__main__":
    main()
