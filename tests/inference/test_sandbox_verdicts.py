"""The sandbox's verdicts cannot be forged, and its hardening holds (inference/sandbox docstring).

The forged-pass corpus: a wrong candidate, plus one trick that made a failing check come back
"passed" when the candidate and the check shared a process. Each must now come back failed or
error, for the reason given. Then: what crosses the channel, a hostile test, fairness between
executions running at the same moment, limits on an execution's processes together, the seccomp
filter, /proc, exit codes and signals, teardown, and failing closed.
"""

import threading
from pathlib import Path

import pytest

from inference import sandbox
from inference.sandbox import Limits, SandboxUnavailable, run_check, run_checks

LIMITS = Limits(cpu_seconds=1, wall_seconds=3, memory_mb=256, open_files=62)
WRONG_ADD = "def add(a, b):\n    return a - b\n"
ADD = "def add(a, b):\n    return a + b\n"
CHECK = "assert add(1, 2) == 3"
BOX_UIDS = range(sandbox.UID_BASE, sandbox.UID_BASE + 2 * sandbox.SLOTS)


@pytest.fixture(autouse=True)
def bwrap() -> None:
    if sandbox.isolation_available() != "bwrap":
        pytest.fail(f"bubblewrap does not work here ({sandbox._probe()}): apt-get install -y bubblewrap")


# --- forged passes ----------------------------------------------------------------------------

# name: (the trick, added to WRONG_ADD; the status it must get; a reason its traceback must give)
FORGERIES = {
    "write-passed-to-every-descriptor": (  # its only ones are its channel's: the check hears garbage
        "import os\n"
        "for fd in range(3, 64):\n"
        "    try:\n        os.write(fd, b'passed\\n')\n    except OSError:\n        pass\n",
        "error",
        "the candidate's process sent a malformed message",
    ),
    "write-passed-through-proc-fd": (  # the check's and the supervisor's descriptors, by path
        "import os\n"
        "opened = []\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit() and int(pid) != os.getpid():\n"
        "        try:\n"
        "            for fd in os.listdir(f'/proc/{pid}/fd'):\n"
        "                opened.append(os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY))\n"
        "        except OSError:\n"
        "            pass\n"
        "for fd in opened:\n    os.write(fd, b'passed\\n')\n",
        "failed",
        "assert add(1, 2) == 3",
    ),
    "edit-the-harness-frames": (
        "import sys\n"
        "def add(a, b):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        for name in ('status', 'word', 'result'):\n"
        "            frame.f_locals[name] = 'passed'\n"
        "        frame.f_globals['run_check'] = lambda *args: ('passed', None)\n"
        "        frame = frame.f_back\n"
        "    return a - b\n",
        "failed",
        "assert add(1, 2) == 3",
    ),
    "replace-builtins-exec": ("import builtins\nbuiltins.exec = lambda *args, **kwargs: None\n", "failed", "add(1, 2)"),
    "replace-os-write": (  # the harness writes with posix.write: the check hears the real answers
        "import os\nreal = os.write\nos.write = lambda fd, data: real(fd, b'passed\\n')\n",
        "failed",
        "assert add(1, 2) == 3",
    ),
    "replace-posix-write": (
        "import posix\nreal = posix.write\nposix.write = lambda fd, data: real(fd, b'passed\\n')\n",
        "error",
        "the candidate's process sent a malformed message",
    ),
    "callable-lies": (  # its own process announces no function; the check's calls the tests anyway
        "import builtins\nbuiltins.callable = lambda obj: False\n",
        "error",
        "NameError: name 'add' is not defined",
    ),
    "always-equal-object": (
        "class Yes:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Yes()\n",
        "error",
        "add() returned a value that cannot cross to the check's process: Yes is not plain data",
    ),
    "always-equal-int-subclass": (
        "class Three(int):\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Three(0)\n",
        "error",
        "Three is not plain data",
    ),
    "exit-0-before-the-check": ("import os\nos._exit(0)\n", "error", "ended before it ran"),
    "kill-the-supervisor": ("import os, signal\nos.kill(1, signal.SIGKILL)\n", "error", "PermissionError"),
    "kill-every-process": (  # all it may signal: its own uid, which the check's process has not
        "import os, signal\ndef add(a, b):\n    os.kill(-1, signal.SIGKILL)\n",
        "failed",
        "assert add(1, 2) == 3",
    ),
    "kill-itself-during-the-call": (
        "import os, signal\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
        "error",
        "ended during the call to add()",
    ),
    "sigstop-the-check": (
        "import os, signal\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit() and int(pid) not in (1, os.getpid()):\n"
        "        os.kill(int(pid), signal.SIGSTOP)\n",
        "error",
        "PermissionError",
    ),
    "raise-a-systemexit": (
        "def add(a, b):\n    raise SystemExit(0)\n",
        "error",
        "CandidateError: SystemExit: 0",
    ),
    "flood-the-channel": (  # answers for calls not made yet, and garbage
        "import os\n"
        "for fd in range(3, 10):\n"
        '    try:\n        os.write(fd, b\'["return",1,3]\\n{"x": 1}\\n\' * 100)\n    except OSError:\n        pass\n',
        "error",
        "did not announce its functions",
    ),
}


@pytest.mark.parametrize("name", FORGERIES)
def test_a_wrong_candidate_cannot_forge_a_pass(name):
    trick, status, reason = FORGERIES[name]
    check = "def test_add():\n    assert add(1, 2) == 3\n" if name == "callable-lies" else CHECK
    result = run_check(WRONG_ADD + trick, check, LIMITS)
    assert result.status == status, result
    assert reason in result.traceback, result.traceback


def test_tricks_in_its_own_process_do_not_stop_a_correct_candidate_from_passing():
    checks = [CHECK, "def test_add():\n    assert add(2, 2) == 4\n"]
    for name in ("replace-builtins-exec", "edit-the-harness-frames"):
        candidate = FORGERIES[name][0].replace("a - b", "a + b") + ADD
        assert [r.status for r in run_checks(candidate, checks, LIMITS)] == ["passed", "passed"]


# --- what the check's names mean -------------------------------------------------------------

# A raw "ready" message: the candidate's process answers for itself, naming what its own loop skips.
RAW_READY = (
    "import os, sys\n"
    "frame = sys._getframe()\n"
    "while 'channel' not in frame.f_locals:\n    frame = frame.f_back\n"
    "channel = frame.f_locals['channel']\n"
    "channel.send(['ready', ['add', 'abs', 'if', '_hidden'], {'__name__': '__main__', 'len': 3}, {'print': 'os'}])\n"
    "while (message := channel.receive()) is not None:\n    channel.send(['return', message[1], 0])\n"
    "os._exit(0)\n"
)
SHADOWS = {  # a wrong candidate and a check that a builtin of the candidate's would have passed
    "abs": (WRONG_ADD + "def abs(x):\n    return 0\n", "assert abs(add(1, 2) - 3) < 1e-9"),
    "range": (WRONG_ADD + "def range(*args):\n    return []\n", "for i in range(5):\n    assert add(i, i) == 2 * i"),
    "len": (WRONG_ADD + "def len(x):\n    return 3\n", "def test_len():\n    assert len(str(add(50, 50))) == 3"),
    "raw-ready-abs": (RAW_READY, "assert abs(add(1, 2) - 3) < 1e-9"),
    "raw-ready-dunder": (RAW_READY, "assert __name__ == '__main__' or add(1, 2) == 3"),
}


@pytest.mark.parametrize("name", SHADOWS)
def test_a_candidate_cannot_replace_a_builtin_or_a_dunder_in_the_check(name):
    candidate, check = SHADOWS[name]
    result = run_check(candidate, check, LIMITS)
    assert result.status == "failed", result
    assert 'File "check.py"' in result.traceback, result.traceback


def test_only_names_that_are_no_builtins_keywords_or_private_reach_the_checks_globals():
    check = "assert sorted(k for k in globals() if k != '__builtins__') == ['__name__', 'add']\nassert add(1, 2) == 0"
    assert run_check(RAW_READY, check, LIMITS).status == "passed"


def test_the_entry_point_reaches_check_even_under_a_builtins_name():
    candidate = "def max(items):\n    return 7\n"
    check = "def check(candidate):\n    assert candidate([1, 2]) == 7\n    assert max([1, 2]) == 2\n"
    assert run_check(candidate, check, LIMITS, entry_point="max").status == "passed"


HELPER_CHECK = (
    "def check(candidate):\n"
    "    for s in ('abcdefghij', 'redline flywheel'):\n"
    "        assert candidate(encode_cyclic(s)) == s\n"
)


def test_with_an_entry_point_a_check_gets_no_helper_the_candidate_defines():
    # HumanEval/38's trap: the check calls a helper the problem gave; a wrong candidate that defines
    # the helper as the identity, and its decoder too, would pass. Only the entry point reaches the check.
    identity = "def encode_cyclic(s):\n    return s\n\ndef decode_cyclic(s):\n    return s\n"
    forged = run_check(identity, HELPER_CHECK, LIMITS, entry_point="decode_cyclic")
    assert forged.status == "error" and "encode_cyclic" in forged.traceback
    values = run_check("EXPECTED = 0\ndef f(x):\n    return 0\n", "assert f(1) == EXPECTED", LIMITS, entry_point="f")
    assert values.status == "error" and "EXPECTED" in values.traceback
    # The entry point itself still reaches the check, by name and as `candidate`.
    by_name = run_check("def f(x):\n    return x + 1\n", "assert f(1) == 2", LIMITS, entry_point="f")
    assert by_name.status == "passed"


# --- what the candidate can see of the check ------------------------------------------------

# Every place in its own process it can look: its objects, the frames above it, its raw memory.
# It returns what follows each occurrence of PREFIX (its search string, so there is at least one:
# its own): the check fails if one of them is MARKER, which only the check's text holds.
PREFIX = "REDLINE_CHECK_ONLY_"
MARKER = PREFIX + "swordfish"
SCAN = (
    "import ctypes, gc, sys\n"
    "def scan(prefix):\n"
    "    found = []\n"
    "    for thing in gc.get_objects():\n"
    "        if type(thing) is dict:\n"
    "            found += [v for v in thing.values() if type(v) is str and prefix in v]\n"
    "    frame = sys._getframe()\n"
    "    while frame is not None:\n"
    "        for value in [*frame.f_locals.values(), *frame.f_globals.values(), *frame.f_code.co_consts]:\n"
    "            if type(value) is str and prefix in value:\n"
    "                found.append(value)\n"
    "            elif type(value) is dict:\n"
    "                found += [v for v in value.values() if type(v) is str and prefix in v]\n"
    "        frame = frame.f_back\n"
    "    needle = prefix.encode()\n"
    "    with open('/proc/self/maps') as maps:\n"  # /proc/self/mem is root's: setuid made it undumpable
    "        for line in maps:\n"
    "            span, perms, *rest = line.split()\n"
    "            low, high = (int(x, 16) for x in span.split('-'))\n"
    "            if perms[0] != 'r' or rest[-1].startswith('[v') or high - low > 64 << 20:\n"
    "                continue\n"
    "            data = ctypes.string_at(low, high - low)\n"
    "            at = data.find(needle)\n"
    "            while at >= 0:\n"
    "                found.append(data[at : at + 60].decode('latin-1'))\n"
    "                at = data.find(needle, at + 1)\n"
    "    return found\n"
)
SEEN_CHECK = (
    f"found = scan({PREFIX!r})\nassert found, 'the scan did not even find its own search string'\n"
    f"assert not any({MARKER!r} in each for each in found), found\n"
)


@pytest.mark.parametrize(
    "check",
    [
        SEEN_CHECK,
        f"def check(candidate):\n    found = candidate({PREFIX!r})\n"
        f"    assert found and not any({MARKER!r} in each for each in found), found\n",
    ],
    ids=["assert", "humaneval"],
)
def test_the_candidate_finds_nothing_of_the_checks_text_in_its_memory(check):
    result = run_check(SCAN, check, LIMITS, entry_point="scan")
    assert result.status == "passed", result


def test_the_memory_scan_finds_a_marker_that_is_in_the_candidate():
    # The control: the same scan, with the marker in the candidate's own text, makes the check fail.
    result = run_check(SCAN + f"MINE = {MARKER!r}\n", SEEN_CHECK, LIMITS)
    assert result.status == "failed" and MARKER in result.traceback, result


def test_the_candidate_can_neither_read_nor_rewrite_the_checks_output():
    candidate = (
        "import os\n"
        "def add(a, b):\n"
        "    seen = [os.pread(fd, 4096, 0).decode() for fd in (1, 2)]\n"
        "    for fd in (1, 2):\n"
        "        os.ftruncate(fd, 0)\n"
        "        os.pwrite(fd, b'FORGED: every test passed\\n', 0)\n"
        "    return seen\n"
    )
    check = "print('the check says 3')\nseen = add(1, 2)\nprint('the candidate saw', seen)\nassert seen == ['', '']\n"
    result = run_check(candidate, check, LIMITS)
    assert result.status == "passed", result
    check_output, _, candidate_output = result.output.partition(sandbox.CANDIDATE_LABEL)
    assert check_output == f"{sandbox.CHECK_LABEL}\nthe check says 3\nthe candidate saw ['', '']\n\n"
    assert candidate_output == "\nFORGED: every test passed\n"


def test_the_output_is_the_checks_then_the_candidates_within_the_limit():
    candidate = "def shout():\n    print('c' * 5000)\n"
    result = run_check(candidate, "print('k' * 5000)\nshout()", Limits(output_bytes=6000))
    assert result.status == "passed" and result.truncated
    check_output, _, candidate_output = result.output.partition(sandbox.CANDIDATE_LABEL)
    assert "k" * 5000 in check_output and "c" * 10 not in check_output
    assert candidate_output.startswith("\n" + "c" * 999) and "c" * 1000 not in candidate_output
    assert candidate_output.endswith("[output truncated: the first 999 of 5001 bytes]")


# --- the channel ------------------------------------------------------------------------------


def test_plain_values_cross_the_channel_as_they_left():
    candidate = (
        "BASE = 10\nimport math\n"
        "def echo(*args, **kwargs):\n    return [args, kwargs]\n"
        "def pair(n):\n    return (n, {n: 'a', (1, 2): None}, [1.5, float('inf'), True])\n"
    )
    check = (
        "assert pair(3) == (3, {3: 'a', (1, 2): None}, [1.5, float('inf'), True])\n"
        "assert type(pair(3)[2][2]) is bool and type(pair(3)[0]) is int\n"
        "assert echo(1, (2,), k='v') == [(1, (2,)), {'k': 'v'}]\n"
        "assert BASE == 10 and math.sqrt(4) == 2\n"
    )
    assert run_check(candidate, check, LIMITS).status == "passed"


@pytest.mark.parametrize(
    "check, reason",
    [
        ("add({1}, 2)", "the check passed a value to add() that cannot cross to the candidate's process: set"),
        ("add(lambda: 1, 2)", "function is not plain data"),
        # ChannelError is no Exception: `except Exception` cannot turn a call that never happened into a pass
        ("try:\n    add(object(), 1)\nexcept Exception:\n    pass\n", "object is not plain data"),
    ],
    ids=["set", "lambda", "caught"],
)
def test_a_check_that_passes_objects_is_an_error_with_the_reason(check, reason):
    result = run_check(ADD, check, LIMITS)
    assert result.status == "error" and reason in result.traceback, result


def test_exceptions_cross_as_the_builtin_type_with_the_candidates_traceback():
    candidate = "class Odd(ValueError):\n    pass\ndef f(x):\n    raise Odd(f'bad {x}')\n"
    check = "try:\n    f(1)\nexcept ValueError as exc:\n    assert str(exc) == 'bad 1'\nelse:\n    assert False\n"
    assert run_check(candidate, check, LIMITS).status == "passed"
    result = run_check(candidate, "f(2)", LIMITS)
    assert result.status == "error" and "ValueError: bad 2" in result.traceback
    assert "Raised in the candidate's process" in result.traceback and 'File "candidate.py", line 4' in result.traceback


def test_each_process_has_its_own_uid_home_and_no_inherited_descriptor():
    candidate = "import os\ndef who():\n    return [os.getuid(), os.getcwd(), sorted(os.listdir('/proc/self/fd'))]\n"
    check = (
        "import os\n"
        "uid, home, fds = who()\n"
        "assert os.getuid() == uid + 1 and os.getuid() in range(60000, 60064), (uid, os.getuid())\n"
        "assert home == '/tmp/candidate' and os.getcwd() == '/tmp/check'\n"
        "assert len(fds) == 6, fds  # 0, 1, 2, the two channel pipes, and the listing itself\n"
        "try:\n    os.listdir('/tmp/candidate')\nexcept PermissionError:\n    pass\nelse:\n    assert False\n"
    )
    result = run_check(candidate, check, LIMITS)
    assert result.status == "passed", result


# --- a hostile test ---------------------------------------------------------------------------

WRITE_EVERY_DESCRIPTOR = (
    "import os\nfor fd in range(3, 64):\n"
    "    try:\n        os.write(fd, b'passed\\n')\n    except OSError:\n        pass\n"
)
HOSTILE_TESTS = [
    "import os, signal\nos.kill(-1, signal.SIGKILL)",  # everything it may signal: its own uid only
    "import os\nwhile True:\n    os.fork()",
    "blocks = []\nwhile True:\n    blocks.append(bytearray(10**7))",
    WRITE_EVERY_DESCRIPTOR.replace("passed", "failed"),
]


def test_a_hostile_test_decides_only_its_own_verdict():
    # It can pass itself (the threat model: a useless test, not an escape) ...
    forge = WRITE_EVERY_DESCRIPTOR + "os._exit(0)\n"
    assert run_check(WRONG_ADD, forge, LIMITS).status == "passed"
    # ... and nothing else: the checks beside it, two at a time, get their own verdicts.
    results = run_checks(WRONG_ADD, [*HOSTILE_TESTS, CHECK, "assert add(2, 2) == 0"], LIMITS, workers=2)
    assert [r.status for r in results[-2:]] == ["failed", "passed"]
    assert results[1].status in ("error", "timeout") and results[2].status in ("error", "timeout")


# --- fairness and limits on the whole execution -------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        "import os\nfor _ in range(3):\n    if os.fork() == 0:\n        break\nblocks = []\n"
        "while True:\n    blocks.append(bytearray(10**7))",
    ],
    ids=["fork-bomb", "memory-filling-processes"],
)
def test_a_hostile_candidate_beside_a_correct_one_cannot_make_it_fail(hostile):
    results = {}

    def bomb():
        results["hostile"] = run_check(hostile, CHECK, Limits(cpu_seconds=2, wall_seconds=3, memory_mb=256))

    attacker = threading.Thread(target=bomb)
    attacker.start()
    correct = [run_check(ADD, CHECK, LIMITS) for _ in range(4)]
    attacker.join()
    assert [r.status for r in correct] == ["passed"] * 4, correct
    assert results["hostile"].status in ("error", "timeout")


def test_several_processes_together_cannot_exceed_the_memory_limit():
    check = (
        "import os, time\n"
        "children = []\n"
        "for _ in range(3):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        block = bytearray(120 * 2**20)\n"  # each under the 256 MB of RLIMIT_AS, 360 MB together
        "        time.sleep(0.5)\n"
        "        os._exit(0)\n"
        "    children.append(pid)\n"
        "assert all(os.waitpid(pid, 0)[1] == 0 for pid in children), 'a child was killed'\n"
    )
    result = run_check("", check, LIMITS)
    assert result.status in ("failed", "error"), result
    assert "a child was killed" in result.traceback or "memory limit of 256 MB" in result.traceback


def test_the_cpu_time_of_children_counts():
    check = (
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        end = time.process_time() + 0.7\n"  # each under its own 1 s of RLIMIT_CPU, 2.1 s together
        "        while time.process_time() < end:\n"
        "            pass\n"
        "        os._exit(0)\n"
        "while True:\n"
        "    try:\n        os.wait()\n    except ChildProcessError:\n        break\n"
    )
    result = run_check("", check, Limits(cpu_seconds=1, wall_seconds=10, memory_mb=256, open_files=62))
    assert result.status == "timeout" and "CPU time limit of 1 s" in result.traceback, result
    assert result.duration_s < 5


def test_the_candidate_and_the_check_start_inside_the_box_cgroup():
    # The machines this runs on have writable cgroups (the memory and CPU totals above need them too).
    group = sandbox._cgroup(0)
    assert group is not None, "no writable cgroup: the per-execution limits would be per process only"
    candidate = "CGROUP = open('/proc/self/cgroup').read()\n" + ADD  # read before any line of the check
    check = (
        "import re\n"
        "for text in (CGROUP, open('/proc/self/cgroup').read()):\n"
        "    for line in text.splitlines():\n"
        "        _, names, path = line.split(':', 2)\n"
        f"        if {set(group.membership()[1])!r} & set(names.split(',')):\n"
        "            assert re.fullmatch(r'.*/redline-sandbox-[0-9]+', path), line\n"
    )
    result = run_check(candidate, check, LIMITS)
    assert result.status == "passed", result


def test_nothing_of_an_execution_outlives_the_call():
    candidate = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(60)\n"
        "    os._exit(0)\n" + ADD
    )
    assert run_check(candidate, CHECK, LIMITS).status == "passed"
    assert box_processes() == []  # at once, not within a while
    timed_out = run_check(candidate, "import time\ntime.sleep(60)", Limits(wall_seconds=1, open_files=62))
    assert timed_out.status == "timeout" and box_processes() == []


def box_processes() -> list[int]:
    """This module's sandboxed processes: a box's uid, open files limited to 62."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid in BOX_UIDS:
                if "Max open files            62" in (entry / "limits").read_text():
                    pids.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return pids


# --- the kernel's side: seccomp, /proc, exit codes --------------------------------------------


def test_the_seccomp_filter_denies_namespaces_mounts_and_kernel_interfaces():
    check = (
        "import ctypes, errno, os, subprocess, threading\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def denied(number, *args, expected=errno.EPERM):\n"
        "    assert libc.syscall(number, *args) == -1 and ctypes.get_errno() == expected, number\n"
        "denied(272, 0x10000000)  # unshare(CLONE_NEWUSER)\n"
        "denied(56, 0x10000000 | 17, 0, 0, 0, 0)  # clone(CLONE_NEWUSER | SIGCHLD)\n"
        "denied(435, 0, 0, expected=errno.ENOSYS)  # clone3\n"
        "denied(308, 0, 0)  # setns\n"
        "denied(165, b'none', b'/tmp', b'tmpfs', 0, 0)  # mount\n"
        "denied(161, b'/tmp')  # chroot\n"
        "denied(101, 16, 1, 0, 0)  # ptrace(PTRACE_ATTACH, 1)\n"
        "denied(321, 0, 0, 0)  # bpf\n"
        "denied(298, 0, 0, -1, -1, 0)  # perf_event_open\n"
        "denied(425, 8, 0)  # io_uring_setup\n"
        "denied(250, 0, 0)  # keyctl\n"
        "denied(175, 0, 0, 0)  # init_module\n"
        "threading.Thread(target=print).start()\n"  # what the standard library needs still works
        "pid = os.fork()\n"
        "if pid == 0:\n    os._exit(7)\n"
        "assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 7\n"
        "status = open('/proc/self/status').read()\n"
        "assert 'Seccomp:\\t2' in status and 'NoNewPrivs:\\t1' in status and 'CapEff:\\t0000000000000000' in status\n"
    )
    result = run_check("", check, LIMITS)
    assert result.status == "passed", result


def test_proc_shows_only_the_sandbox_and_no_host_path():
    check = (
        "import os\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "assert pids[0] == 1 and len(pids) == 3, pids  # the supervisor, the candidate's process, this one\n"
        "cmdline = open('/proc/1/cmdline').read()\n"
        "assert cmdline.startswith('/python/bin/python3\\0-I\\0-S') and '--ro-bind' not in cmdline\n"  # not bwrap's
        "for text in (cmdline, open('/proc/self/cgroup').read(), str(os.environ)):\n"
        "    assert '/root' not in text and '/work' not in text and 'process_api' not in text, text\n"
        "try:\n    open('/proc/1/environ').read()\nexcept PermissionError:\n    pass\nelse:\n    assert False\n"
    )
    result = run_check("", check, LIMITS)
    assert result.status == "passed", result


@pytest.mark.parametrize(
    "check, exit_code, signal, reason",
    [
        ("import os\nos._exit(152)", 152, None, "exited with code 152"),  # not SIGXCPU (128 + 24)
        ("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)", None, 15, "killed by SIGTERM"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", None, 9, "killed by SIGKILL"),
    ],
    ids=["exit-152", "sigterm", "sigkill"],
)
def test_exit_codes_and_signals_are_told_apart(check, exit_code, signal, reason):
    result = run_check(ADD, check, LIMITS)
    assert (result.status, result.exit_code, result.signal) == ("error", exit_code, signal)
    assert reason in result.traceback


# --- failing closed ---------------------------------------------------------------------------


def test_an_execution_whose_isolation_cannot_be_confirmed_raises(monkeypatch):
    base = [arg for arg in sandbox._bwrap_base() if arg != "--as-pid-1"]  # bwrap's init would be PID 1
    monkeypatch.setattr(sandbox, "_bwrap_base", lambda: base)
    with pytest.raises(SandboxUnavailable, match="not PID 1"):
        run_check(ADD, CHECK, LIMITS)


def test_a_sandbox_that_does_not_start_raises_and_the_probe_retries(monkeypatch):
    base = [*sandbox._bwrap_base(), "--no-such-option"]
    monkeypatch.setattr(sandbox, "_bwrap_base", lambda: base)
    with pytest.raises(SandboxUnavailable, match="bubblewrap did not start"):
        run_check(ADD, CHECK, LIMITS)
    monkeypatch.setattr(sandbox, "_confirmed", False)  # a failed probe is not remembered: no weaker mode
    assert sandbox.isolation_available() is None
    with pytest.raises(SandboxUnavailable, match="No confirmed sandbox isolation"):
        run_check(ADD, CHECK, LIMITS)
    monkeypatch.undo()
    monkeypatch.setattr(sandbox, "_confirmed", False)
    assert sandbox.isolation_available() == "bwrap"
