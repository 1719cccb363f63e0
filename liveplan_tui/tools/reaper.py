"""The supervisor every shell command runs under, and the Landlock sandbox it applies.

Run as a script (`python -I -S reaper.py [--write DIR]... -- COMMAND`), it makes
itself a child subreaper, so children that `setsid` or double-fork away from the
command's process group are re-parented to it and killed when the command ends.
It asks the kernel for SIGTERM when LivePlan dies (even by SIGKILL), and then kills
what is left too. With `--write`, it confines writes to those folders with Landlock
before starting the shell; reads, and the network, stay open.

Stdlib only, so it starts in a few milliseconds without site-packages.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
ABI_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15
WRITABLE_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/random", "/dev/urandom")


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when it has none (or this is not Linux x86_64/arm64)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def sandbox_status(setting: str) -> str:
    """What the status bar and `liveplan config` say about shell commands."""
    if setting == "off":
        return "sandbox: off"
    return "sandbox: workspace" if landlock_abi() >= 1 else "sandbox: off, kernel has no Landlock"


def _rights(abi: int) -> int:
    return ABI_RIGHTS[max(k for k in ABI_RIGHTS if k <= abi)]


def _add_rule(libc: ctypes.CDLL, ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a folder that does not exist needs no rule
    try:
        attr = _PathBeneath(access, fd)
        if libc.syscall(SYS_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(attr), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule({path})")
    finally:
        os.close(fd)


def confine_writes(folders: list[str]) -> None:
    """Allow writes only beneath `folders` (and a few harmless devices), for this process and its children."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError("the kernel has no Landlock")
    libc = _libc()
    handled = _rights(abi)
    attr = ctypes.c_uint64(handled)
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(8), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        _add_rule(libc, ruleset, "/", (EXECUTE | READ_FILE | READ_DIR) & handled)
        for device in WRITABLE_DEVICES:
            _add_rule(libc, ruleset, device, (READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV) & handled)
        for folder in folders:
            _add_rule(libc, ruleset, folder, handled)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS)")
        if libc.syscall(SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def kill_everything_below(pid: int) -> None:
    """Kill every descendant; as the subreaper, orphans come back to us until none is left."""
    for _ in range(200):
        children = _children_of(pid)
        if not children:
            break
        stack = list(children)
        while stack:
            child = stack.pop()
            stack.extend(_children_of(child))
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap()
        time.sleep(0.005)
    _reap()


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str]) -> int:
    folders: list[str] = []
    parent = os.getppid()
    while argv and argv[0] != "--":
        flag, value, argv = argv[0], argv[1], argv[2:]
        if flag == "--write":
            folders.append(value)
        elif flag == "--parent":
            parent = int(value)
    command = argv[1:]
    libc = _libc()
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # LivePlan died before we could ask to be told
        return 143

    def stop(signum: int, frame: object) -> None:
        kill_everything_below(os.getpid())
        os._exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, stop)
    if folders:
        try:
            confine_writes(folders)
        except OSError as exc:
            sys.stderr.write(f"liveplan: the sandbox could not be applied ({exc}); nothing was run\n")
            return 126
    child = os.fork()
    if child == 0:
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    kill_everything_below(os.getpid())
    return os.waitstatus_to_exitcode(status) if status >= 0 else 1


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code if code >= 0 else 128 - code)
