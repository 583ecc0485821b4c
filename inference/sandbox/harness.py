"""The program that runs inside the sandbox: a supervisor, the candidate's process, the check's.

The parent (inference.sandbox) starts it under bwrap as PID 1 of a new PID namespace,
`python -I -S -B -u -c <a loader>`, with this file compiled and then the job, a marshal'ed
dict, on stdin: the loader executes the first, this program reads the second. The job holds no
text of the check's: that is in a descriptor of its own (check_fd), which only the check's process
reads, after both forks, so that no memory the candidate's process inherits ever held it. It uses
the standard library only (no site-packages are visible in the sandbox) and imports little
(not even json: `_json`'s C scanner, which needs no `re`; not even os, whose import is 0.9 ms of
`_collections_abc` and the like under -I -S: `posix`, the C module under it, is loaded already),
because its start-up is paid on every execution.

The supervisor (PID 1, root of the sandbox with CAP_SETUID, CAP_SETGID and CAP_CHOWN only)
confirms the isolation it runs in, waits until the parent has put it into the box's cgroup (a
byte on the go descriptor; its start-up overlaps the move) and confirms that too, then forks:
- the candidate's process: it makes its own output file its stdout and stderr, closes every
  descriptor but its two channel pipes (the check's text and output among them), takes its limits
  and the box's candidate uid, runs the candidate module, sends the names it defined and then
  answers calls: a function name and arguments in, a return value or an exception out;
- the check's process: the box's other uid, the channel's other ends, the status descriptor and
  the check's text, which it reads then. Its namespace holds a proxy for each of the candidate's
  functions (a call over the channel) and copies of its plain-data globals, each only under a name
  that is an identifier, no keyword, no builtin's and does not start with "_" (`global_names`);
  it runs the check and writes the verdict, one word on the first line ("passed", "failed",
  "error") and the traceback after it, to the status descriptor.
The supervisor reaps every process (orphans are reparented to it), and when the check's process
has exited it writes its report (whether the isolation was confirmed, and the real wait status
of the check's and, if it has ended, the candidate's process) to the report descriptor, which
only it holds, and exits: the kernel then kills what is left in the namespace.

The channel carries plain data only: None, bool, int, float, str, and lists, tuples and dicts
of them, of those exact types (no subclasses), as one line of JSON per message, tuples as
{"t": [...]} and dicts as {"d": [[key, value], ...]} so that `(1, 2)` and `{1: "a"}` arrive as
they left. Whatever the candidate's process sends, the check's process only ever builds those
types from it: no object of the candidate's crosses.
"""

import _json
import builtins
import marshal
import posix
import resource
import sys

CANDIDATE = "candidate.py"
CHECK = "check.py"
TRACEBACK_CHARS = 4000
MESSAGE_BYTES = 16 * 2**20  # the largest message the check's process reads from the candidate's
CAPABILITIES = 1 << 0 | 1 << 6 | 1 << 7  # CAP_CHOWN, CAP_SETGID, CAP_SETUID: the supervisor's only ones
PLAIN = "None, bool, int, float, str, and lists, tuples and dicts of them"


class ChannelError(BaseException):
    """A call that could not cross between the processes. Not an Exception, so that a check's
    `except Exception` does not turn "the call never happened" into a pass."""


class CandidateError(Exception):
    """An exception the candidate raised whose type is not a built-in one."""


# --- the channel ------------------------------------------------------------------------------


def encode(value) -> str:
    """JSON of plain data; anything else raises TypeError naming what it met."""
    kind = type(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    if kind is str:
        return _json.encode_basestring_ascii(value)
    if kind is list:
        return "[" + ",".join(map(encode, value)) + "]"
    if kind is tuple:
        return '{"t":[' + ",".join(map(encode, value)) + "]}"
    if kind is dict:
        return '{"d":[' + ",".join(f"[{encode(k)},{encode(v)}]" for k, v in value.items()) + "]}"
    raise TypeError(f"{kind.__qualname__} is not plain data ({PLAIN})")


class _Decoding:
    """The settings `_json.make_scanner` reads: strict JSON, objects through `pairs`."""

    strict = True
    object_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.__getitem__

    @staticmethod
    def object_pairs_hook(pairs):
        if len(pairs) == 1 and type(pairs[0][1]) is list:
            tag, items = pairs[0]
            if tag == "t":
                return tuple(items)
            if tag == "d" and all(type(item) is list and len(item) == 2 for item in items):
                return dict(items)  # an unhashable key raises TypeError: a malformed message
        raise ValueError("an object that is neither a tuple nor a dict")


_scan = _json.make_scanner(_Decoding)


def decode(line: str):
    try:
        value, end = _scan(line, 0)
    except StopIteration:  # how the C scanner says "not JSON here"
        raise ValueError("not JSON") from None
    if end != len(line):
        raise ValueError("trailing data")
    return value


class Channel:
    """Messages, one encoded value a line, over a pair of pipes."""

    def __init__(self, read_fd: int, write_fd: int, limit: int = MESSAGE_BYTES):
        self.read_fd, self.write_fd, self.limit = read_fd, write_fd, limit
        self.buffer = b""

    def send(self, message: list) -> None:
        self.send_raw(encode(message))

    def send_raw(self, line: str) -> None:
        data = (line + "\n").encode("ascii")
        while data:
            data = data[posix.write(self.write_fd, data) :]

    def receive(self):
        """The next message, or None at the end of the stream. Anything malformed raises ValueError."""
        while b"\n" not in self.buffer:
            if len(self.buffer) > self.limit:
                raise ValueError(f"a message over {self.limit} bytes")
            chunk = posix.read(self.read_fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return decode(line.decode("ascii"))


# --- the candidate's process ----------------------------------------------------------------


def serve_candidate(job: dict, channel: Channel) -> None:
    """Run the candidate module, announce what it defines, then answer calls until the check ends."""
    namespace: dict = {"__name__": "candidate", "__builtins__": builtins}
    try:
        exec(compile(job["candidate"], CANDIDATE, "exec"), namespace)  # noqa: S102 - what the sandbox is for
    except BaseException as exc:  # noqa: BLE001 - SystemExit too
        channel.send(["crashed", excerpt(exc, {CANDIDATE: job["candidate"]})])
        return
    functions, values, modules = [], {}, {}
    for name, value in namespace.items():
        if name.startswith("__"):
            continue
        if type(value) is type(posix):
            modules[name] = value.__name__
        elif callable(value):
            functions.append(name)
        else:
            try:
                encode(value)
                values[name] = value
            except (TypeError, ValueError, RecursionError):
                pass  # an object: the check cannot have it
    channel.send(["ready", functions, values, modules])
    while (message := channel.receive()) is not None:
        _, call_id, name, args, kwargs = message
        try:
            result = namespace[name](*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - the check decides what an exception means
            names = [kind.__name__ for kind in type(exc).__mro__]
            channel.send(["raise", call_id, names, _text(exc), excerpt(exc, {CANDIDATE: job["candidate"]})])
            continue
        try:
            line = encode(["return", call_id, result])
        except (TypeError, ValueError, RecursionError) as exc:
            line = encode(["unsendable", call_id, str(exc)])
        channel.send_raw(line)


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a __str__ that raises
        return ""


# --- the check's process ----------------------------------------------------------------------


class Candidate:
    """The check's side of the channel: calls by name, results and exceptions as plain data."""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.calls = 0

    def start(self) -> list:
        message = self._receive("the candidate's process ended before it ran")
        if message[0] == "crashed" and len(message) == 2:
            raise CandidateError(f"the candidate module raised an exception:\n{message[1]}")
        if message[0] != "ready" or len(message) != 4 or [type(part) for part in message[1:]] != [list, dict, dict]:
            raise ChannelError("the candidate's process did not announce its functions")
        functions, values, modules = message[1:]
        if not all(type(name) is str for name in [*functions, *values, *modules]):
            raise ChannelError("the candidate's process announced a name that is not a string")
        return [functions, values, {k: v for k, v in modules.items() if type(v) is str}]

    def proxy(self, name: str):
        def call(*args, **kwargs):
            return self.call(name, args, kwargs)

        call.__name__ = call.__qualname__ = name
        return call

    def call(self, name: str, args: tuple, kwargs: dict):
        self.calls += 1
        try:
            request = encode(["call", self.calls, name, list(args), kwargs])
        except (TypeError, ValueError, RecursionError) as exc:
            raise ChannelError(
                f"the check passed a value to {name}() that cannot cross to the candidate's process: {exc}"
            ) from None
        self.channel.send_raw(request)
        reply = self._receive(f"the candidate's process ended during the call to {name}()")
        kind, call_id = reply[0], reply[1]
        if call_id != self.calls:
            raise ChannelError(f"the candidate's process answered call {call_id!r} instead of {self.calls}")
        if kind == "return" and len(reply) == 3:
            return reply[2]
        if kind == "unsendable" and len(reply) == 3:
            raise ChannelError(f"{name}() returned a value that cannot cross to the check's process: {reply[2]}")
        if kind == "raise" and len(reply) == 5:
            raise candidate_exception(*reply[2:])
        raise ChannelError(f"the candidate's process answered with {kind!r}")

    def _receive(self, ended: str) -> list:
        try:
            message = self.channel.receive()
        except (ValueError, TypeError, RecursionError, UnicodeDecodeError) as exc:
            raise ChannelError(f"the candidate's process sent a malformed message: {exc}") from None
        if message is None:
            raise ChannelError(ended)
        if type(message) is not list or not message:
            raise ChannelError("the candidate's process sent a malformed message")
        return message


def candidate_exception(names, message, traceback) -> BaseException:
    """The first built-in Exception type among the names the candidate gave, with its message."""
    exc: BaseException | None = None
    for name in names if type(names) is list else []:
        kind = getattr(builtins, name, None) if type(name) is str else None
        if isinstance(kind, type) and issubclass(kind, Exception) and kind not in (StopIteration, StopAsyncIteration):
            try:
                exc = kind(message)
            except Exception:  # noqa: BLE001 - a type that wants other arguments
                continue
            break
    if exc is None:
        exc = CandidateError(f"{names[0] if names else 'an exception'}: {message}")
    if type(traceback) is str and traceback:
        exc.add_note(f"Raised in the candidate's process:\n{traceback.rstrip()}")
    return exc


def global_names(announced) -> list[str]:
    """The announced names the check's globals may take: identifiers that are no keyword, do not
    start with "_" and name no builtin of this process. The candidate's announcement is untrusted
    (a raw "ready" message can name anything): a candidate-defined `abs` or `len` must not replace
    the builtin a check relies on, nor a `__name__` the check's own."""
    import keyword

    taken = set(dir(builtins))
    return [
        name
        for name in announced
        if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_") and name not in taken
    ]


def run_check(job: dict, candidate: Candidate) -> tuple[str, BaseException | None]:
    """Run the check against the candidate's proxies, then the tests the check defines."""
    namespace: dict = {"__name__": "check", "__builtins__": builtins}
    try:
        functions, values, modules = candidate.start()
        for name in global_names(modules):
            try:
                namespace[name] = __import__(modules[name], fromlist=["_"])  # the check's own copy
            except ImportError:
                pass
        entry_point = job["entry_point"]
        if entry_point:
            # A problem with an entry point: only that function is under test. A helper or a value
            # the candidate defines beside it is not given to the check, since a check that relied
            # on one (HumanEval/38's encode_cyclic, say) would pass whatever the candidate made it.
            values = {}
            functions = [entry_point] if entry_point in functions else []
        namespace.update((name, values[name]) for name in global_names(values))
        namespace.update((name, candidate.proxy(name)) for name in global_names(functions))
        if entry_point and entry_point not in functions:
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
            namespace["check"](candidate.proxy(entry_point))  # even where its name is refused as a global
    except AssertionError as exc:
        return "failed", exc
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: the check did not run to the end
        return "error", exc
    finally:
        namespace.clear()  # frees what a memory bomb holds before the traceback is formatted
    return "passed", None


def excerpt(exc: BaseException, sources: dict[str, str]) -> str:
    """The traceback of the candidate's or the check's lines only (no frame of this harness), its tail."""
    import linecache
    import traceback

    for filename, source in sources.items():
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        report = traceback.TracebackException.from_exception(exc)
        for each in _chain(report):
            each.stack = traceback.StackSummary.from_list([f for f in each.stack if f.filename in sources])
        text = "".join(report.format())
    except MemoryError:
        text = f"{type(exc).__name__} (no memory left to format the traceback)"
    return text if len(text) <= TRACEBACK_CHARS else "...\n" + text[-TRACEBACK_CHARS:]


def _chain(report):
    seen = []
    while report is not None and report not in seen:
        seen.append(report)
        report = report.__cause__ or report.__context__
    return seen


# --- the supervisor -------------------------------------------------------------------------


def confirm_isolation(job: dict) -> str | None:
    """What is wrong with the isolation, or None: each point the parent asked bwrap for, seen from inside."""
    if not job["isolated"]:
        return None
    status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
    problems = []
    if posix.getpid() != 1:
        problems.append(f"not PID 1 of a namespace of its own (PID {posix.getpid()})")
    if status.get("Seccomp", "").strip() != "2":
        problems.append(f"no seccomp filter (Seccomp: {status.get('Seccomp', '?').strip()})")
    if status.get("NoNewPrivs", "").strip() != "1":
        problems.append("no_new_privs is not set")
    for capabilities in ("CapInh", "CapPrm", "CapEff", "CapAmb"):  # the bounding set matters not: no_new_privs
        if int(status.get(capabilities, "0"), 16) & ~CAPABILITIES:
            problems.append(f"capabilities beyond setuid, setgid and chown ({capabilities}: {status[capabilities]})")
    if posix.getuid() != 0:
        problems.append(f"not root in the sandbox (uid {posix.getuid()}): it cannot give each process a uid")
    interfaces = [line.split(":")[0].strip() for line in open("/proc/self/net/dev").read().splitlines()[2:]]
    if interfaces != ["lo"]:
        problems.append(f"network interfaces other than loopback: {interfaces}")
    if _exists(job["host_marker"]):
        problems.append(f"the host's {job['host_marker']} is visible")
    return "; ".join(problems) or None


def released(job: dict) -> str | None:
    """Wait until the parent has put this process into the box's cgroup (it starts there, so
    nothing is forked before), then confirm it from inside; what is wrong, or None."""
    go_fd = job["go_fd"]
    word = posix.read(go_fd, 1)
    posix.close(go_fd)
    if word != b"g":
        return "the parent did not release the sandbox"
    if not job["cgroup"]:
        return None
    name, controllers = job["cgroup"]
    for line in open("/proc/self/cgroup").read().splitlines():
        _, names, path = line.split(":", 2)
        if set(names.split(",") if names else [""]) & set(controllers) and not path.endswith("/" + name):
            return f"not in the box's cgroup {name} ({line})"
    return None


def _exists(path: str) -> bool:
    try:
        posix.stat(path)
    except (OSError, ValueError):
        return False
    return True


def become(job: dict, uid: int | None, home: str, keep: tuple[int, ...], output: int | None = None) -> None:
    """Close every descriptor but `keep`, take the limits, the uid and a home (only root can switch).
    With `output`, that descriptor becomes stdout and stderr: the candidate's process then holds
    none of the check's output."""
    null = posix.open("/dev/null", posix.O_RDONLY)  # the job has been read: the code's stdin is empty
    posix.dup2(null, 0)
    if output is not None:
        posix.dup2(output, 1)
        posix.dup2(output, 2)
    low = 3
    for fd in sorted(keep):
        posix.closerange(low, fd)
        low = fd + 1
    posix.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    mb = 1024 * 1024
    limits = {
        resource.RLIMIT_CPU: (job["cpu_seconds"], job["cpu_seconds"] + 1),  # SIGXCPU, then SIGKILL
        resource.RLIMIT_AS: (job["memory_mb"] * mb,) * 2,
        resource.RLIMIT_NPROC: (job["processes"],) * 2,
        resource.RLIMIT_FSIZE: (job["file_size_mb"] * mb,) * 2,
        resource.RLIMIT_NOFILE: (job["open_files"],) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    for which, soft_hard in limits.items():
        resource.setrlimit(which, soft_hard)
    if uid is not None:
        posix.setgroups([])
        posix.setgid(uid)
        posix.setuid(uid)  # real, effective and saved uid, and every capability gone: no way back
    posix.chdir(home)
    for name in ("HOME", "TMPDIR"):  # what os.environ.update does; os.environ reads posix.environ
        posix.environ[name.encode()] = home.encode()
        posix.putenv(name, home)


def home(job: dict, name: str, uid: int | None) -> str:
    path = f"{job['workdir'].rstrip('/')}/{name}"
    posix.mkdir(path, 0o700)
    if uid is not None:
        posix.chown(path, uid, uid)
    return path


def supervise(job: dict) -> dict:
    """Fork the candidate's and the check's processes, reap everything, report how the check ended."""
    problem = confirm_isolation(job)
    if problem:
        return {"isolation": problem}
    uids = job["uids"] or (None, None)
    homes = home(job, "candidate", uids[0]), home(job, "check", uids[1])
    to_candidate, to_check = posix.pipe(), posix.pipe()  # (read, write) each
    report: dict = {"isolation": None, "check": None, "candidate": None}
    problem = released(job)
    if problem:
        return {"isolation": problem}
    candidate = posix.fork()
    if candidate == 0:  # the check's descriptor is closed before a line of the candidate runs
        become(job, uids[0], homes[0], keep=(to_candidate[0], to_check[1]), output=job["candidate_output_fd"])
        serve_candidate(job, Channel(to_candidate[0], to_check[1]))
        posix._exit(0)
    for fd in (to_candidate[0], to_check[1], job["candidate_output_fd"]):
        posix.close(fd)
    check = posix.fork()
    if check == 0:
        status_fd, check_fd = job["status_fd"], job["check_fd"]
        become(job, uids[1], homes[1], keep=(to_check[0], to_candidate[1], status_fd, check_fd))
        job["check"] = read_all(check_fd).decode("utf-8", "surrogatepass")  # only here, after the forks
        posix.close(check_fd)
        checked = run_check(job, Candidate(Channel(to_check[0], to_candidate[1])))
        finish(job, status_fd, *checked)
    for fd in (to_candidate[1], to_check[0], job["status_fd"], job["check_fd"]):
        posix.close(fd)
    while report["check"] is None:
        try:
            pid, wait_status = posix.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == check:
            report["check"] = wait_status
        elif pid == candidate:
            report["candidate"] = wait_status
    return report


def read_all(fd: int) -> bytes:
    chunks = []
    while chunk := posix.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def finish(job: dict, status_fd: int, status: str, exc: BaseException | None) -> None:
    text = "" if exc is None else excerpt(exc, {CANDIDATE: job["candidate"], CHECK: job["check"]})
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # the output file is full or closed: the parent reports the output it has
    posix.write(status_fd, f"{status}\n{text}".encode("utf-8", "replace"))
    posix._exit(0)  # threads the check left running do not keep the process alive


def main() -> None:
    job = marshal.load(sys.stdin.buffer)  # after this program's own code, which the loader read
    try:
        report = supervise(job)
    except Exception as exc:  # noqa: BLE001 - a fork that failed: the parent reports it
        report = {"isolation": None, "check": None, "candidate": None, "failure": f"{type(exc).__name__}: {exc}"}
    posix.write(job["report_fd"], marshal.dumps(report))
    posix._exit(0)


if __name__ == "__main__":  # the loader runs it as __main__
    main()
