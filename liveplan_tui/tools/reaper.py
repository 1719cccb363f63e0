"""The supervisor every shell command runs under, and the Landlock sandbox it applies.

Run as a script (`python -I -S reaper.py [--write DIR]... -- COMMAND`), it makes
itself a child subreaper, so children that `setsid` or double-fork away from the
command's process group are re-parented to it and killed when the command ends.
It asks the kernel for SIGTERM when LivePlan dies (even by SIGKILL), and then kills
what is left too. With `--write`, it sandboxes the command before starting the shell:

- Landlock confines writes to those folders, and (ABI 6+) scopes signals and abstract Unix sockets to the
  command's own tree;
- a user and mount namespace (`--isolate`) makes everything else read-only, so the metadata of files outside
  (mode, owner, times) cannot change either, and every Unix socket that was listening outside those folders
  when the command started (tmux, screen, docker, the session bus, agents) is covered, so it cannot be reached.

Reads, and the network, stay open. `parts_in_force` says which of these this kernel allows.

Stdlib only, so it starts in a few milliseconds without site-packages.
"""

from __future__ import annotations

import ctypes
import functools
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
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
WRITABLE_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/random", "/dev/urandom")
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 1


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("set", ctypes.c_uint64),
        ("clear", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


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


PARTS = {
    "writes": "writes only in the workspace and temp dir (Landlock)",
    "signals": "signals only to its own processes (Landlock ABI 6)",
    "abstract sockets": "abstract Unix sockets only its own (Landlock ABI 6)",
    "metadata": "mode, owner and times of files outside unchangeable (read-only mount namespace)",
    "unix sockets": "Unix sockets listening outside unreachable (mount namespace)",
}


@functools.cache
def parts_in_force() -> dict[str, bool]:
    """Which parts of the sandbox this kernel gives (user namespaces are tried in a short-lived child)."""
    abi = landlock_abi()
    isolated = abi >= 1 and _namespaces_work()
    return {
        "writes": abi >= 1,
        "signals": abi >= 6,
        "abstract sockets": abi >= 6,
        "metadata": isolated,
        "unix sockets": isolated,
    }


def sandbox_status(setting: str) -> str:
    """What the status bar and `liveplan config` say about shell commands: the parts missing on this kernel."""
    if setting == "off":
        return "sandbox: off"
    parts = parts_in_force()
    if not parts["writes"]:
        return "sandbox: off, kernel has no Landlock"
    missing = [name for name, held in parts.items() if not held]
    return "sandbox: workspace" + (f" (without: {', '.join(missing)})" if missing else "")


def _namespaces_work() -> bool:
    """Whether a user and mount namespace with a read-only root can be made here (forbidden in many containers).

    Tried in a child process of its own (~10 ms, once): never by forking LivePlan, whose threads may hold locks.
    """
    import subprocess

    try:
        probe = subprocess.run([sys.executable, "-I", "-S", __file__, "--probe"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


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
    """Allow writes only beneath `folders` (and a few harmless devices), and (ABI 6+) signals and abstract Unix
    sockets only within this process's own tree, for this process and its children."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError("the kernel has no Landlock")
    libc = _libc()
    handled = _rights(abi)
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = _RulesetAttr(handled, 0, scoped)
    size = ctypes.sizeof(attr) if scoped else 8
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
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


def _check(result: int, what: str) -> None:
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _mount(source: str | None, target: str, flags: int) -> None:
    libc = _libc()
    src = source.encode() if source else None
    _check(libc.mount(src, target.encode(), None, ctypes.c_ulong(flags), None), f"mount {target}")


def _set_readonly(path: str, readonly: bool, recursive: bool) -> None:
    attr = _MountAttr(MOUNT_ATTR_RDONLY if readonly else 0, 0 if readonly else MOUNT_ATTR_RDONLY, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    result = _libc().syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), flags, ctypes.byref(attr), ctypes.sizeof(attr))
    _check(result, f"mount_setattr {path}")


def listening_sockets() -> list[str]:
    """Paths of the Unix sockets bound on this machine now (from /proc/net/unix; abstract ones are Landlock's)."""
    try:
        with open("/proc/net/unix", encoding="utf-8", errors="surrogateescape") as fh:
            rows = fh.read().splitlines()[1:]
    except OSError:
        return []
    paths = []
    for row in rows:
        fields = row.split(None, 7)
        if len(fields) == 8 and fields[7].startswith("/"):
            paths.append(fields[7])
    return paths


def isolate(writable: list[str]) -> None:
    """A user and mount namespace where everything is read-only but `writable`, and every Unix socket listening
    outside `writable` (or in the shared temp dir, where tmux and agents keep theirs) is covered by /dev/null."""
    uid, gid = os.getuid(), os.getgid()
    sockets = listening_sockets()
    _check(_libc().unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    _mount(None, "/", MS_REC | MS_PRIVATE)
    for folder in writable:
        _mount(folder, folder, MS_BIND | MS_REC)
    _set_readonly("/", True, recursive=True)
    for folder in writable:
        _set_readonly(folder, False, recursive=False)
    os.chdir(os.getcwd())  # the working folder, found again through the new mounts (the old one is read-only)
    own = [f.rstrip("/") + "/" for f in writable[:1]]  # the workspace's own sockets stay reachable
    for path in sockets:
        if not any(path.startswith(folder) for folder in own):
            try:
                _mount("/dev/null", path, MS_BIND)
            except OSError:
                continue  # gone since, or in a folder we cannot see: nothing to reach


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
    if argv == ["--probe"]:
        isolate([])
        return 0
    folders: list[str] = []
    parent = os.getppid()
    isolated = False
    while argv and argv[0] != "--":
        if argv[0] == "--isolate":
            isolated, argv = True, argv[1:]
            continue
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
            if isolated:
                isolate(folders)
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
