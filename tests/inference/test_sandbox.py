"""The sandbox: what correct, wrong, crashing and hanging code gets, and a corpus of hostile
programs that must not get out. Everything runs under bubblewrap, the only isolation. No database
needed; where Postgres and Redis answer on 127.0.0.1 the hostile corpus also checks that they
still do and that a Redis key is unchanged. Forged verdicts, the hardening and the limits on an
execution as a whole are in test_sandbox_verdicts.py."""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from inference import sandbox
from inference.sandbox import Limits, SandboxUnavailable, run_check, run_checks

REPO = Path(__file__).resolve().parents[2]
# open_files=61 marks this module's sandboxes in /proc: other test runs may have theirs running.
LIMITS = Limits(cpu_seconds=1, wall_seconds=2, memory_mb=256, open_files=61)
ADD = "def add(a, b):\n    return a + b\n"
WRONG_ADD = "def add(a, b):\n    return a - b\n"
CHECKS = [
    "assert add(1, 2) == 3",
    "def test_zero():\n    assert add(0, 0) == 0\n\ndef test_negative():\n    assert add(-1, 1) == 0\n",
]
NOT_PASSED = {"failed", "error", "timeout"}
BOX_UIDS = range(sandbox.UID_BASE, sandbox.UID_BASE + 2 * sandbox.SLOTS)


@pytest.fixture(autouse=True)
def isolation() -> str:
    """Every test runs under bubblewrap, which must work here."""
    if sandbox.isolation_available() != "bwrap":
        pytest.fail(f"bubblewrap does not work here ({sandbox._probe()}): apt-get install -y bubblewrap")
    return "bwrap"


# --- results ----------------------------------------------------------------------------------


def test_correct_code_passes_its_checks(isolation):
    results = run_checks(ADD, CHECKS, LIMITS)
    assert [r.status for r in results] == ["passed", "passed"]
    assert all(r.traceback == "" and r.exit_code == 0 and r.isolation == isolation for r in results)


def test_wrong_code_fails_with_a_traceback_into_the_check(isolation):
    first, second = run_checks(WRONG_ADD, CHECKS, LIMITS)
    assert (first.status, second.status) == ("failed", "failed")
    assert 'File "check.py", line 1' in first.traceback and "assert add(1, 2) == 3" in first.traceback
    assert "in test_negative" in second.traceback  # test_zero passes (0 - 0), test_negative does not
    assert "harness" not in first.traceback and "<string>" not in first.traceback


def test_a_humaneval_check_is_called_with_the_entry_point(isolation):
    check = "def check(candidate):\n    assert candidate(2, 3) == 5\n"
    assert run_check(ADD, check, LIMITS, entry_point="add").status == "passed"
    assert run_check(WRONG_ADD, check, LIMITS, entry_point="add").status == "failed"
    missing = run_check(ADD, check, LIMITS, entry_point="plus")
    assert missing.status == "error" and "does not define the function 'plus'" in missing.traceback


@pytest.mark.parametrize(
    "candidate, check, message",
    [
        ("def add(a, b)\n    return a + b\n", "assert add(1, 2) == 3", 'File "candidate.py", line 1'),
        (ADD, "assert add(1, 2) ==", 'File "check.py", line 1'),
        ("def plus(a, b):\n    return a + b\n", "assert add(1, 2) == 3", "NameError: name 'add' is not defined"),
        ("import django\n", "pass", "ModuleNotFoundError: No module named 'django'"),  # no site-packages
        (ADD, "raise SystemExit(0)", "SystemExit: 0"),  # leaving early is not passing
    ],
    ids=["syntax-in-candidate", "syntax-in-check", "name-error", "import-error", "exit"],
)
def test_errors_other_than_assertions_are_errors_with_a_readable_message(isolation, candidate, check, message):
    result = run_check(candidate, check, LIMITS)
    assert result.status == "error"
    assert message in result.traceback


def test_a_hang_and_a_crash_do_not_hide_the_other_results(isolation):
    checks = [CHECKS[0], "import time\ntime.sleep(60)", "import os\nos.abort()", CHECKS[1]]
    started = time.monotonic()
    results = run_checks(ADD, checks, LIMITS)
    elapsed = time.monotonic() - started
    assert [r.status for r in results] == ["passed", "timeout", "error", "passed"]
    assert LIMITS.wall_seconds <= results[1].duration_s < LIMITS.wall_seconds + 1
    assert "wall-clock limit of 2 s" in results[1].traceback
    assert results[2].signal == 6 and "killed by SIGABRT" in results[2].traceback
    assert elapsed < 2 * LIMITS.wall_seconds  # about one wall limit, not one per check


def test_the_sandbox_dies_with_its_worker(isolation):
    script = (
        "from inference import sandbox\n"
        "sandbox.run_check('', 'import time\\ntime.sleep(60)', sandbox.Limits(wall_seconds=60, open_files=61))"
    )
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    deadline = time.monotonic() + 10
    while not box_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert box_processes(), "the check did not start"
    worker.kill()
    worker.wait()
    assert no_box_processes_within(2)


def test_run_checks_in_parallel_keeps_the_order(isolation):
    checks = ["assert add(1, 1) == 2", "assert add(1, 1) == 3"] * 3
    results = run_checks(ADD, checks, LIMITS, workers=2)
    assert [r.status for r in results] == ["passed", "failed"] * 3


def test_long_output_is_truncated_and_marked(isolation):
    result = run_check(ADD, "print('x' * 100_000)\nassert add(1, 2) == 3", LIMITS)
    assert result.status == "passed" and result.truncated
    assert result.output.startswith("x" * LIMITS.output_bytes)
    assert result.output.endswith(f"[output truncated: the first {LIMITS.output_bytes} of 100001 bytes]")


def test_inside_bubblewrap_there_is_only_the_standard_library_and_a_private_tmp():
    check = (
        "import os, sys\n"
        "assert os.getuid() % 2 == 1 and os.getgid() == os.getuid() and os.getgroups() == []\n"
        "assert os.getcwd() == '/tmp/check' == os.environ['HOME'] and os.listdir('.') == []\n"
        "assert sorted(os.listdir('/tmp')) == ['candidate', 'check']\n"
        "assert sorted(os.listdir('/')) == ['dev', 'lib', 'lib64', 'proc', 'python', 'tmp', 'usr'], os.listdir('/')\n"
        "assert os.listdir(sys.prefix + '/lib/python3.11/site-packages') == []\n"
    )
    assert run_check("", check, LIMITS).status == "passed"


# --- refusal ----------------------------------------------------------------------------------


def test_without_isolation_it_refuses_unless_weak_mode_is_allowed(monkeypatch):
    monkeypatch.setattr(sandbox, "_confirmed", False)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    assert sandbox.isolation_available() is None and "not installed" in sandbox._probe()
    monkeypatch.setattr(sandbox, "isolation_available", lambda: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        run_check(ADD, CHECKS[0], LIMITS)
    with pytest.raises(SandboxUnavailable):
        run_checks(ADD, CHECKS, LIMITS)
    weak = run_check(ADD, CHECKS[0], LIMITS, allow_weak=True)
    assert (weak.status, weak.isolation) == ("passed", "none")


# --- the hostile corpus -----------------------------------------------------------------------
#
# Each program is a check that would pass if its attack worked. The candidate defines the
# targets: REPO, OUTSIDE (a directory of the host that the sandbox must not touch), SENTINEL (a
# file in it), WORKER_PID and WORKER_PGID (this test process), LEAKED_FD (an inheritable fd).

HOSTILE = {
    "fork-bomb": "import os\nwhile True:\n    os.fork()",
    "fork-bomb-that-ignores-errors": (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    ),
    "memory-bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(10**7))",
    "one-huge-allocation": "x = bytearray(10**11)",
    "infinite-loop": "while True:\n    pass",
    "cpu-spin-in-threads": (
        "import threading\n"
        "def spin():\n    while True:\n        pass\n"
        "for _ in range(4):\n    threading.Thread(target=spin, daemon=True).start()\n"
        "threading.Event().wait()"
    ),
    "sleep-forever": "import time\ntime.sleep(3600)",
    "output-flood": "while True:\n    print('y' * 1000)",
    "huge-file": "open('big', 'wb').write(b'x' * 20 * 2**20)",
    "many-open-files": "files = [open('/dev/null') for _ in range(1000)]",
    "write-into-the-repo": "open(REPO + '/sandbox-escape.txt', 'w').write('x')",
    "write-into-root-home": "open('/root/sandbox-escape.txt', 'w').write('x')",
    "write-outside-the-temp-dir": "open(OUTSIDE + '/sandbox-escape.txt', 'w').write('x')",
    "write-at-the-filesystem-root": "open('/sandbox-escape.txt', 'w').write('x')",
    "read-secrets-from-the-environment": (
        "import os\n"
        "stolen = {k: v for k, v in os.environ.items()\n"
        "          if k in ('DATABASE_URL', 'CELERY_BROKER_URL') or k.startswith('REDLINE_')}\n"
        "assert stolen, 'nothing to steal'"
    ),
    "read-the-settings": "assert 'SECRET_KEY' in open(REPO + '/webapp/settings.py').read()",
    "read-the-demo-logins": "assert open(REPO + '/var/demo-logins.json').read()",
    "read-pid-1-environ": "assert open('/proc/1/environ').read()",
    "read-the-worker-environ": "assert open(f'/proc/{WORKER_PID}/environ').read()",
    "connect-to-postgres": "import socket\nsocket.create_connection(('127.0.0.1', 5432), timeout=1).close()",
    "connect-to-redis": (
        "import socket\n"
        "s = socket.create_connection(('127.0.0.1', 6379), timeout=1)\n"
        "s.sendall(b'SELECT 14\\r\\nSET redline:sandbox-test hacked\\r\\n')"
    ),
    "connect-from-a-child-process": (
        "import subprocess, sys\n"
        "code = 'import socket; socket.create_connection((\"127.0.0.1\", 6379), timeout=1)'\n"
        "subprocess.run([sys.executable, '-c', code], check=True)"
    ),
    "use-an-inherited-fd": "import os\nos.write(LEAKED_FD, b'x')",
    "os-system": "import os\nassert os.system('touch ' + REPO + '/sandbox-escape.txt') == 0",
    "subprocess-ls": (
        "import subprocess\nassert 'work' in subprocess.run(['ls', '/'], capture_output=True, text=True).stdout"
    ),
    "kill-the-parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nassert False, 'survived'",
    "kill-the-worker": "import os, signal\nos.kill(WORKER_PID, signal.SIGKILL)",
    "killpg-the-worker": "import os, signal\nos.killpg(WORKER_PGID, signal.SIGKILL)",
    "kill-everything": "import os, signal\nos.kill(-1, signal.SIGKILL)\nassert False, 'survived'",
    "remove-a-file-outside": "import os\nos.remove(SENTINEL)",
    "rmtree-outside": "import shutil\nshutil.rmtree(OUTSIDE)",
    "remove-the-readme": "import os\nos.remove(REPO + '/README.md')",
}
SECRET = f"secret-{uuid.uuid4().hex}"


@pytest.fixture
def redis_key():
    """A key in Redis db 14 that no sandbox may change, or None when Redis does not answer."""
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379, db=14, socket_timeout=2)
        client.set("redline:sandbox-test", SECRET)
    except Exception:  # noqa: BLE001 - no Redis here: nothing to check
        yield None
        return
    yield client
    client.delete("redline:sandbox-test")


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def box_processes() -> list[int]:
    """This module's sandboxed processes: a box's uid, open files limited to 61."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid in BOX_UIDS and open_files_limit(entry) == "61":
                pids.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return pids


def open_files_limit(process: Path) -> str:
    lines = (process / "limits").read_text().splitlines()
    return next((line.split()[3] for line in lines if line.startswith("Max open files")), "")


def no_box_processes_within(seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while box_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    return box_processes() == []


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_program_is_contained(name, tmp_path, monkeypatch, redis_key):
    for variable in ("DATABASE_URL", "CELERY_BROKER_URL", "REDLINE_SECRET_KEY"):
        monkeypatch.setenv(variable, SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    sentinel = outside / "sentinel.txt"
    sentinel.write_text("keep me")
    readme = (REPO / "README.md").stat()
    postgres_up, redis_up = answers(5432), answers(6379)
    read_end, leaked_fd = os.pipe()
    os.set_inheritable(leaked_fd, True)
    targets = (
        f"REPO = {str(REPO)!r}\nOUTSIDE = {str(outside)!r}\nSENTINEL = {str(sentinel)!r}\n"
        f"WORKER_PID = {os.getpid()}\nWORKER_PGID = {os.getpgrp()}\nLEAKED_FD = {leaked_fd}\n"
    )
    try:
        result = run_check(targets, HOSTILE[name], LIMITS)
        os.set_blocking(read_end, False)
        with pytest.raises(BlockingIOError):
            os.read(read_end, 1)  # nothing came through the inherited descriptor
    finally:
        os.close(read_end)
        os.close(leaked_fd)

    assert result.status in NOT_PASSED, result
    assert SECRET not in result.output + result.traceback
    assert len(result.output) < LIMITS.output_bytes + 100
    # Nothing outside the sandbox changed.
    assert sentinel.read_text() == "keep me" and sorted(os.listdir(outside)) == ["sentinel.txt"]
    assert (REPO / "README.md").stat().st_mtime == readme.st_mtime
    assert not (REPO / "sandbox-escape.txt").exists() and not Path("/root/sandbox-escape.txt").exists()
    assert not Path("/sandbox-escape.txt").exists()
    assert answers(5432) == postgres_up and answers(6379) == redis_up
    if redis_key is not None:
        assert redis_key.get("redline:sandbox-test") == SECRET.encode()
    # Nothing left running, and the worker still runs code.
    assert no_box_processes_within(2)
    assert run_check(ADD, CHECKS[0], LIMITS).status == "passed"


def test_writing_to_its_home_in_bubblewrap_stays_in_its_private_tmp():
    path = f"/tmp/check/redline-sandbox-escape-{uuid.uuid4().hex}"
    result = run_check("", f"open({path!r}, 'w').write('x')\nimport os\nassert os.path.exists({path!r})", LIMITS)
    assert result.status == "passed"  # it wrote the file, into a /tmp of its own
    assert not os.path.exists(path)


def test_the_limits_are_those_given(isolation):
    check = (
        "import resource\n"
        "assert resource.getrlimit(resource.RLIMIT_CPU) == (1, 2)\n"
        "assert resource.getrlimit(resource.RLIMIT_AS) == (256 * 2**20, 256 * 2**20)\n"
        "assert resource.getrlimit(resource.RLIMIT_NPROC) == (32, 32)\n"
        "assert resource.getrlimit(resource.RLIMIT_FSIZE) == (8 * 2**20, 8 * 2**20)\n"
        "assert resource.getrlimit(resource.RLIMIT_NOFILE) == (61, 61)\n"
        "assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)\n"
    )
    assert run_check("", check, LIMITS).status == "passed"
