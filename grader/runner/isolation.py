"""What keeps a worker running student code from harming the machine, applied in the worker right
after it is forked and before any student code runs, each with a fallback that is recorded.

- Processes: a cgroup `pids.max` where the grader may create cgroups (root on Linux), else
  `RLIMIT_NPROC` (which Linux does not enforce for root); every process left when the worker ends is
  killed, found through its cgroup, or as an orphan handed back to the zygote, a child subreaper.
- Network: a network namespace of its own (only a loopback that is down), where Linux allows one.
- Secrets: in a mount namespace of its own, the folders a student must not read (the course's
  exercises with their checks, once the probe is loaded; the solutions and quiz keys; the reference's
  cached answers) are covered by empty read-only filesystems.

`Isolation` says what was in force; it reaches the result's metadata. Nothing here imports torch.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 1, 2, 4, 1 << 14, 1 << 18
PR_SET_CHILD_SUBREAPER = 36
CGROUP_V1_PIDS = Path("/sys/fs/cgroup/pids")
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Isolation:
    """Which protections were in force for the student's code, in words for the result's metadata."""

    processes: str = "not limited"
    network: str = "shared with the machine"
    secrets: str = "readable by student code (no mount namespace)"
    leftovers: str = "killed by process group only"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


# ----------------------------------------------------------------------------- subreaper and orphans


def become_subreaper() -> bool:
    """Orphaned descendants are then handed to this process instead of PID 1 (Linux only), so it can
    end them; PID 1 on some machines never reaps, and a process that called setsid() escapes killpg."""
    libc = _libc()
    return bool(libc is not None and libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def children(pid: int) -> dict[int, int]:
    """The live (or zombie) children of `pid` and the session each is in, read from /proc (empty where
    there is no /proc)."""
    found = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses, so split after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 3 and int(fields[1]) == pid:
            found[int(entry)] = int(fields[3])
    return found


def end_orphans(keep: set[int] | frozenset[int] = frozenset(), foreign_only: bool = False, rounds: int = 100) -> int:
    """Kill and reap every child of this process not in `keep`: with a subreaper, the leftovers of the
    runs that ended here (their parents are gone). Each round kills the current generation; their own
    children come back to this process for the next round. `foreign_only` spares children in this
    process's own session: processes it started itself (a quiz's key, say) that another thread waits
    for, whose exit status must stay theirs to collect. Returns how many were ended."""
    me, ended = os.getpid(), 0
    own_session = os.getsid(0)
    for _ in range(rounds):
        leftovers = [pid for pid, session in children(me).items()
                     if pid not in keep and not (foreign_only and session == own_session)]
        if not leftovers:
            break
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in leftovers:
            try:
                os.waitpid(pid, 0)
                ended += 1
            except ChildProcessError:
                pass
    return ended


# ----------------------------------------------------------------------------- process limit


class ProcessGroup:
    """A cgroup with `pids.max` for one worker and everything it starts, where the grader may make one.
    `end()` kills every process still in it and removes it."""

    def __init__(self, path: Path | None):
        self.path = path  # None: no cgroup could be made here, and the fallbacks apply

    @classmethod
    def make(cls, name: str, max_processes: int) -> ProcessGroup:
        """A new cgroup `name` allowing `max_processes`, in the first hierarchy that lets us make one."""
        for base in _cgroup_bases():
            path = base / name
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                (path / "pids.max").write_text(str(max_processes))
            except OSError:
                _remove(path)
                continue
            return cls(path)
        return cls(None)

    def enter(self) -> bool:
        """Move the calling process (a freshly forked worker) into the group."""
        if self.path is None:
            return False
        try:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))
            return True
        except OSError:
            return False

    def refusals(self) -> int:
        """How many times the group's limit refused a new process (cgroup `pids.events`, "max N")."""
        try:
            events = dict(line.split() for line in (self.path / "pids.events").read_text().splitlines())
            return int(events.get("max", 0))
        except (OSError, TypeError, ValueError):
            return 0

    def end(self) -> int:
        """Kill every process left in the group (whatever its session or parent), then remove it."""
        if self.path is None:
            return 0
        ended = 0
        for _ in range(100):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    ended += 1
                except ProcessLookupError:
                    pass
            time.sleep(0.005)
        _remove(self.path)
        return ended


def group_name(grading_pid: int, number: int) -> str:
    """A worker's cgroup is named after the grading process, so whoever started that process can end
    the groups it leaves if it dies before ending them itself (`end_groups`)."""
    return f"torchgrade-{grading_pid}-{number}"


def end_groups(grading_pid: int) -> int:
    """Kill what is left in the cgroups of a grading process that has ended, and remove them."""
    ended = 0
    for base in _cgroup_bases():
        for path in base.glob(f"torchgrade-{grading_pid}-*"):
            ended += ProcessGroup(path).end()
    return ended


def _cgroup_bases() -> list[Path]:
    """Where a pids cgroup can be made: cgroup v1's pids hierarchy, or v2 beside our own cgroup."""
    bases = []
    if (CGROUP_V1_PIDS / "cgroup.procs").is_file():
        bases.append(CGROUP_V1_PIDS)
    try:
        own = next(line[3:] for line in Path("/proc/self/cgroup").read_text().splitlines() if line.startswith("0::"))
        v2 = CGROUP_ROOT / own.lstrip("/")
        if "pids" in (v2 / "cgroup.subtree_control").read_text().split():
            bases.append(v2)
    except (OSError, StopIteration):
        pass
    return bases


def _remove(path: Path) -> None:
    for _ in range(50):  # a cgroup whose last process just died may be busy for a moment
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


def limit_processes(group: ProcessGroup, max_processes: int) -> str:
    """In the worker: enter the cgroup, else cap RLIMIT_NPROC above what this user runs already."""
    if group.enter():
        return f"at most {max_processes} (cgroup pids.max)"
    if os.geteuid() == 0:
        return "not limited (root without a writable cgroup; RLIMIT_NPROC does not bind root)"
    running = _processes_of(os.getuid())
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        value = running + max_processes
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (value, hard))
    except (ValueError, OSError):
        return "not limited (RLIMIT_NPROC could not be set)"
    return f"at most {max_processes} more (RLIMIT_NPROC)"


def _processes_of(uid: int) -> int:
    """Threads and processes this user runs (what RLIMIT_NPROC counts), from /proc."""
    count = 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if int(fields.get("Uid", "-1").split()[0]) == uid:
                count += int(fields.get("Threads", "1").strip())
    return count


# ----------------------------------------------------------------------------- network


def enter_namespaces(facts: Isolation) -> bool:
    """In the worker: a network and a mount namespace of its own (as root directly; otherwise inside a
    new user namespace, which needs a single-threaded process: a freshly forked worker is one).
    Returns whether the mount namespace is there, for `hide`."""
    libc = _libc()
    if libc is None:
        facts.network = "shared with the machine (no namespaces on this system)"
        return False
    user = 0 if os.geteuid() == 0 else CLONE_NEWUSER
    for flags, mounts in ((CLONE_NEWNET | CLONE_NEWNS | user, True), (CLONE_NEWNET | user, False)):
        if libc.unshare(flags) == 0:
            facts.network = "none (a network namespace of its own)"
            # Mounts made from here on stay in this namespace.
            if mounts and libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) == 0:
                return True
            return False
    facts.network = f"shared with the machine (unshare failed: {os.strerror(ctypes.get_errno())})"
    return False


def hide(folders: list[str], facts: Isolation) -> None:
    """Cover each folder with an empty, read-only filesystem, in this process's own mount namespace."""
    libc = _libc()
    hidden, failed = [], []
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        flags = MS_RDONLY | MS_NOSUID | MS_NODEV
        if libc is not None and libc.mount(b"tmpfs", folder.encode(), b"tmpfs", flags, b"size=4k,mode=0555") == 0:
            hidden.append(folder)
        else:
            failed.append(folder)
    if failed:
        facts.secrets = f"readable by student code ({len(failed)} of {len(hidden) + len(failed)} folders could not be hidden)"
    else:
        facts.secrets = "hidden from student code (a mount namespace covers the exercises' checks, the solutions " \
                        "and keys, and the reference's answers)"
