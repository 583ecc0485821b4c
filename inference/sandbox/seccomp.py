"""The seccomp filter that bwrap installs (`--seccomp FD`) before the sandbox's first instruction.

A classic BPF program, assembled here with `struct` rather than built with libseccomp: it is
some forty instructions, reads like the list below, costs no import and no dependency, and the
kernel checks it when bwrap loads it (a malformed program makes bwrap fail, and the sandbox then
refuses to run). It is x86_64 only: any other architecture, including the x32 ABI on x86_64, is
killed; on another machine `filter_program()` raises and the sandbox fails closed.

What it denies (EPERM unless said otherwise), on top of the capabilities that bwrap drops:
- new namespaces: unshare, setns, and clone with any CLONE_NEW* flag (a user namespace would
  give the code every capability inside it: mount, chroot, raw kernel interfaces); clone3 answers
  ENOSYS (its flags are behind a pointer that BPF cannot read; glibc then falls back to clone);
- the filesystem tree: mount, umount2, pivot_root, chroot and the new mount API (fsopen,
  fsconfig, fsmount, fspick, move_mount, open_tree, mount_setattr), open_by_handle_at;
- other processes: ptrace, process_vm_readv/writev, pidfd_getfd, kcmp;
- kernel interfaces behind many container escapes: bpf, perf_event_open, userfaultfd,
  io_uring_setup/enter/register, keyctl/add_key/request_key;
- the machine: kexec_load/kexec_file_load, init_module/finit_module/delete_module, reboot,
  swapon/swapoff, acct, settimeofday/clock_settime/adjtimex, iopl/ioperm, syslog, quotactl,
  vhangup, lookup_dcookie, uselib, personality.
Everything else is allowed: this is a deny list for attack surface, like Docker's and Flatpak's,
not an allow list (the standard library needs too much for a short allow list to stay right).
"""

import os
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
CLONE_NEW_FLAGS = (
    0x00000080  # CLONE_NEWTIME
    | 0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
)
SYS_CLONE = 56
SYS_CLONE3 = 435
DENIED = {  # x86_64 syscall numbers (asm/unistd_64.h)
    "ptrace": 101,
    "syslog": 103,
    "uselib": 134,
    "personality": 135,
    "vhangup": 153,
    "pivot_root": 155,
    "adjtimex": 159,
    "chroot": 161,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "open_by_handle_at": 304,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
}
EPERM = 1
ENOSYS = 38

# Classic BPF (linux/filter.h, linux/seccomp.h).
LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS: A = the 32-bit word at offset k of seccomp_data
JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
RET = 0x06  # BPF_RET | BPF_K
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
NR, ARCH, ARG0_LOW = 0, 4, 16  # offsets in struct seccomp_data (little-endian: the low half of args[0])


def filter_program() -> bytes:
    """The filter as bwrap reads it: struct sock_filter[] (u16 code, u8 jt, u8 jf, u32 k)."""
    if os.uname().machine != "x86_64":
        raise OSError(f"the sandbox's seccomp filter is written for x86_64, not {os.uname().machine}")
    # (code, jump if true, jump if false, k); a jump names a label, resolved below.
    program: list[tuple[int, str | int, str | int, int]] = [
        (LD_W_ABS, 0, 0, ARCH),
        (JEQ, 0, "kill", AUDIT_ARCH_X86_64),
        (LD_W_ABS, 0, 0, NR),
        (JGE, "kill", 0, X32_SYSCALL_BIT),
        (JEQ, "enosys", 0, SYS_CLONE3),
        (JEQ, "clone", 0, SYS_CLONE),
        *((JEQ, "eperm", 0, number) for number in sorted(DENIED.values())),
        (RET, 0, 0, RET_ALLOW),
    ]
    labels = {"clone": len(program)}
    program += [(LD_W_ABS, 0, 0, ARG0_LOW), (JSET, "eperm", 0, CLONE_NEW_FLAGS), (RET, 0, 0, RET_ALLOW)]
    labels["eperm"] = len(program)
    program.append((RET, 0, 0, RET_ERRNO | EPERM))
    labels["enosys"] = len(program)
    program.append((RET, 0, 0, RET_ERRNO | ENOSYS))
    labels["kill"] = len(program)
    program.append((RET, 0, 0, RET_KILL_PROCESS))

    def offset(at: int, target: str | int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1  # relative to the next

    return b"".join(
        struct.pack("=HBBI", code, offset(i, jt), offset(i, jf), k) for i, (code, jt, jf, k) in enumerate(program)
    )
