"""What keeps a worker running student code from harming the machine, applied in the worker right
after it is forked and before any student code runs, each with a fallback that is recorded.

- Processes: a cgroup `pids.max` where the grader may create cgroups (root on Linux), else
  `RLIMIT_NPROC` (which Linux does not enforce for root); every process left when the worker ends is
  killed, found through its cgroup, or as an orphan handed back to the zygote, a child subreaper.
- Network: a network namespace of its own (only a loopback that is down), where Linux allows one.
- Secrets: in a mount namespace of its own, the folders a student must not read (the course's
  exercises with their checks, once the probe is loaded; the solutions and quiz keys; the reference's
  cached answers) are covered by empty read-only filesystems.
- Others: in that namespace the private folders (the temporary folder where every grading stages its
  copy, a batch's class folder, the grader's home) show only the way to Python and the worker's own
  files, so no student reads another's work.
- Files: in that namespace every filesystem is read-only but the worker's own folder and a private
  /dev/shm (both size-capped memory filesystems), so nothing outside the run is written.
- User: a grader running as root runs student code as an unused user id with no capabilities (so it
  cannot undo the above, signal the grader, read 0700 folders or open devices); folders on the way to
  Python and the course that only root may enter are shown with only the entries the worker needs.

`Isolation` says what was in force; it reaches the result's metadata. Nothing here imports torch.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import stat
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 1 << 10, 1 << 11, 1 << 12, 1 << 14, 1 << 18, 1 << 21
PR_SET_DUMPABLE, PR_SET_NAME, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 4, 15, 38, 36
UNUSED_UID_BASE = 2_000_000_000  # + the worker's pid: above the ranges systems and containers hand out
CGROUP_V1_PIDS = Path("/sys/fs/cgroup/pids")
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Isolation:
    """Which protections were in force for the student's code, in words for the result's metadata."""

    worker: str = "fork: a process forked for each probe"  # the worker backend (grader.runner.sandbox, .spawned)
    processes: str = "not limited"
    network: str = "shared with the machine"
    secrets: str = "readable by student code (no mount namespace)"
    leftovers: str = "killed by process group only"
    memory: str = "not limited"
    files: str = "writable wherever the grader's user may write (no mount namespace)"
    user: str = "the grader's own user"
    others: str = "readable wherever the grader's user may read (no mount namespace)"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def close_descriptors(keep: set[int]) -> None:
    """Close every open descriptor of this process but `keep`: a worker inherits nothing it does not
    need (a warm grading process's reply pipe, the zygote's request pipe, a log)."""
    try:
        open_fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        try:
            open_fds = list(range(os.sysconf("SC_OPEN_MAX")))
        except (OSError, ValueError):
            open_fds = list(range(1024))
    for fd in open_fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


# ----------------------------------------------------------------------------- huge pages

MADV_HUGEPAGE, MADV_COLLAPSE = 14, 25
HUGE_PAGE = 2 << 20
# Set to 0, memory stays in 4 KiB pages (`bench/batch.py --compare-huge-pages` measures both ways).
HUGE_PAGES_ENV = "TORCHGRADE_HUGE_PAGES"


def collapse_into_huge_pages() -> int:
    """Move this process's anonymous memory (torch and the other preloaded modules' heap) into 2 MiB
    transparent huge pages, so each fork() copies and each exit tears down a few hundred page-table
    entries instead of ~100 000: a fork-and-exit of a process holding torch goes from about 22 ms of CPU
    to about 10 (`bench/batch.py --compare-huge-pages` measures what a batch gains). A child's first
    write to a shared huge page splits it and copies 4 KiB, as before. Linux 6.1+ with THP in "madvise" or "always" mode; elsewhere
    (or when the kernel has no huge page to give) nothing changes. Returns the bytes collapsed."""
    libc = _libc()
    if libc is None or os.environ.get(HUGE_PAGES_ENV) == "0":
        return 0
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    collapsed = 0
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            lines = maps.readlines()
    except OSError:
        return 0
    for line in lines:
        fields = line.split()
        if len(fields) < 5 or len(fields[1]) < 4:
            continue
        path = fields[5] if len(fields) > 5 else ""
        if fields[1][1] != "w" or fields[1][3] != "p" or (path and path != "[heap]"):
            continue  # only private, writable, anonymous memory: what fork() copies the entries of
        low, _, high = fields[0].partition("-")
        start = (int(low, 16) + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1)
        end = int(high, 16) & ~(HUGE_PAGE - 1)
        if end > start and libc.madvise(start, end - start, MADV_HUGEPAGE) == 0 \
                and libc.madvise(start, end - start, MADV_COLLAPSE) == 0:
            collapsed += end - start
    return collapsed


# ----------------------------------------------------------------------------- subreaper and orphans


def become_subreaper() -> bool:
    """Orphaned descendants are then handed to this process instead of PID 1 (Linux only), so it can
    end them; PID 1 on some machines never reaps, and a process that called setsid() escapes killpg."""
    libc = _libc()
    return bool(libc is not None and libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def name_process(name: str) -> None:
    """Name this process in `ps -o comm` and /proc (tg-pool, tg-grading, tg-zygote, tg-worker), so the
    grader's processes can be told apart on a busy machine (Linux only)."""
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def children(pid: int) -> dict[int, int]:
    """The live (or zombie) children of `pid` and the session each is in, read from /proc (empty where
    there is no /proc)."""
    found = {}
    try:
        # The kernel's own list of each thread's children (a few reads), else every process on the machine.
        entries = [c.decode() for t in os.listdir(f"/proc/{pid}/task")
                   for c in Path(f"/proc/{pid}/task/{t}/children").read_bytes().split()]
    except OSError:
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
    """Cgroups for one worker and everything it starts, where the grader may make them: `pids.max`
    always, and a memory limit when asked (a CUDA probe, whose address space cannot be capped). `end()`
    kills every process still in them and removes them."""

    def __init__(self, path: Path | None, memory: Path | None = None):
        self.path = path  # the pids group; None: no cgroup could be made here, and the fallbacks apply
        self.memory = memory  # the memory group (the same folder under cgroup v2), or None

    @classmethod
    def make(cls, name: str, max_processes: int, memory_bytes: int | None = None) -> ProcessGroup:
        """A new cgroup `name` allowing `max_processes` (and `memory_bytes` of memory, if given) in the
        first hierarchy that lets us make one."""
        path = _make_group([(base / name, base) for base in _cgroup_bases()], "pids.max", str(max_processes))
        memory = None
        if memory_bytes:
            if path is not None and path.parent != CGROUP_V1_PIDS and _controls(path.parent, "memory"):
                memory = path if _write(path / "memory.max", str(memory_bytes)) else None
                _write(path / "memory.swap.max", "0")
            else:
                memory = _make_group([(base / name, base) for base in _memory_bases()], "memory.limit_in_bytes",
                                     str(memory_bytes))
                if memory is not None:
                    _write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))  # where swap is counted
        return cls(path, memory)

    def _paths(self) -> list[Path]:
        return list(dict.fromkeys(p for p in (self.path, self.memory) if p is not None))

    def enter(self) -> bool:
        """Move the calling process (a freshly forked worker) into the groups; True if in the pids one."""
        entered = [_write(p / "cgroup.procs", str(os.getpid())) for p in self._paths()]
        return self.path is not None and entered[0]

    def set_max(self, max_processes: int) -> None:
        """Change the group's process limit (a worker made before its job learns the job's limit)."""
        if self.path is not None:
            _write(self.path / "pids.max", str(max_processes))

    def set_memory(self, memory_bytes: int) -> None:
        """Change the memory limit (the job's allowance, once it is known)."""
        if self.memory is not None:
            v2 = self.memory == self.path and self.path.parent != CGROUP_V1_PIDS
            if v2:
                _write(self.memory / "memory.max", str(memory_bytes))
                return
            # cgroup v1 keeps memory <= memory+swap: raise the second first, lower it last.
            for name in ("memory.memsw.limit_in_bytes", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):
                _write(self.memory / name, str(memory_bytes))

    def refusals(self) -> int:
        """How many times the group's limit refused a new process (cgroup `pids.events`, "max N")."""
        return _event(self.path, "pids.events", "max")

    def memory_kills(self) -> int:
        """How many processes the memory limit killed (`oom_kill` in memory.events, or memory.oom_control)."""
        if self.memory is None:
            return 0
        return _event(self.memory, "memory.events", "oom_kill") or _event(self.memory, "memory.oom_control", "oom_kill")

    def end(self) -> int:
        """Kill every process left in the groups (whatever its session or parent), then remove them."""
        ended = 0
        for path in self._paths():
            ended += _empty(path)
            _remove(path)
        return ended


def _make_group(candidates: list[tuple[Path, Path]], limit_file: str, value: str) -> Path | None:
    for path, _ in candidates:
        try:
            path.mkdir()
        except OSError:
            continue
        if _write(path / limit_file, value):
            return path
        _remove(path)
    return None


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def _event(path: Path | None, file: str, name: str) -> int:
    try:
        events = dict(line.split() for line in (path / file).read_text().splitlines())
        return int(events.get(name, 0))
    except (OSError, TypeError, ValueError):
        return 0


def _controls(path: Path, controller: str) -> bool:
    try:
        return controller in (path / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False


def _empty(path: Path) -> int:
    ended = 0
    for _ in range(100):
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
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
    return ended


def group_name(grading_pid: int, number: int) -> str:
    """A worker's cgroup is named after the grading process, so whoever started that process can end
    the groups it leaves if it dies before ending them itself (`end_groups`)."""
    return f"torchgrade-{grading_pid}-{number}"


def end_groups(grading_pid: int) -> int:
    """Kill what is left in the cgroups of a grading process that has ended, and remove them."""
    ended = 0
    for base in _cgroup_bases() + _memory_bases():
        for path in base.glob(f"torchgrade-{grading_pid}-*"):
            ended += ProcessGroup(path).end()
    return ended


def _cgroup_bases() -> list[Path]:
    """Where a pids cgroup can be made: cgroup v1's pids hierarchy, or v2 beside our own cgroup."""
    bases = [CGROUP_V1_PIDS] if (CGROUP_V1_PIDS / "cgroup.procs").is_file() else []
    own = _own_cgroup("")
    if own is not None and _controls(CGROUP_ROOT / own, "pids"):
        bases.append(CGROUP_ROOT / own)
    return bases


def _memory_bases() -> list[Path]:
    """Where a cgroup v1 memory group can be made: inside our own one (a container's limit stays above)."""
    own = _own_cgroup("memory")
    base = CGROUP_ROOT / "memory" / own if own is not None else None
    return [base] if base is not None and (base / "cgroup.procs").is_file() else []


def _own_cgroup(controller: str) -> str | None:
    """This process's cgroup in the hierarchy of `controller` ("" for cgroup v2), relative."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controllers.split(",") == [controller] or (controller == "" and controllers == ""):
                return path.lstrip("/")
    except (OSError, ValueError):
        pass
    return None


def _remove(path: Path) -> None:
    for _ in range(50):  # a cgroup whose last process just died may be busy for a moment
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


def limit_processes(in_group: bool, max_processes: int) -> str:
    """In the worker, in its cgroup (`ProcessGroup.enter`) or else capping RLIMIT_NPROC above what this
    user runs already: what limits its processes."""
    if in_group:
        return f"at most {max_processes} (cgroup pids.max)"
    import resource  # POSIX only: imported where a worker is limited (the student's side imports on Windows)

    if os.geteuid() == 0:
        return "not limited (root without a writable cgroup; RLIMIT_NPROC does not bind root)"
    if not os.path.isdir("/proc"):  # macOS: RLIMIT_NPROC counts every process of the user, which we cannot count
        return "not limited (this user's processes cannot be counted here, so RLIMIT_NPROC would refuse too early)"
    running = _processes_of(os.getuid())
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        value = running + max_processes
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (value, value))  # hard too: a soft limit alone can be raised again
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
    ids = os.getuid(), os.getgid()  # read before: inside a new user namespace they are unmapped until written
    for flags, mounts in ((CLONE_NEWNET | CLONE_NEWNS | user, True), (CLONE_NEWNET | user, False)):
        if libc.unshare(flags) == 0:
            if user:
                _map_own_ids(*ids)
            facts.network = "none (a network namespace of its own)"
            # Mounts made from here on stay in this namespace.
            if mounts and libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) == 0:
                return True
            return False
    facts.network = f"shared with the machine (unshare failed: {os.strerror(ctypes.get_errno())})"
    return False


def _map_own_ids(uid: int, gid: int) -> None:
    """In a new user namespace: be the same user and group inside as outside. Without a mapping the
    process is nobody there, and cannot create files on a filesystem it mounts (its own /dev/shm)."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        try:
            Path(f"/proc/self/{name}").write_text(text)
        except OSError:
            pass


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


# ----------------------------------------------------------------------------- files and user


def show_only(needed: list[str], private: list[str], closed: bool, facts: Isolation) -> list[str]:
    """In this mount namespace, cover folders with an empty filesystem holding only the entries on the
    way to the `needed` paths, each the original bound back in: every `private` folder (the temporary
    folder of every grading's copy, a class folder, the grader's home), and, where `closed` (a root
    grader about to become another user), every folder on the way that other users may not enter
    (/root is 0700, and so are temporary folders). The worker then reaches Python and its own files,
    and nothing else in those folders. Returns the folders covered."""
    plan: dict[str, set[str]] = {}
    forms = {form for path in needed for form in (os.path.abspath(path), os.path.realpath(path))}
    # Never the root, nor a folder that is itself needed or inside one (it could not be covered without it).
    hidden = {os.path.realpath(f) for f in private if os.path.realpath(f) != os.sep and os.path.isdir(f)
              and not any(os.path.realpath(f) == n or os.path.realpath(f).startswith(n.rstrip(os.sep) + os.sep)
                          for n in forms)}
    for form in forms:
        parts = Path(form).parts
        for depth in range(1, len(parts)):
            folder = os.path.join(*parts[:depth])
            try:
                shut = closed and not os.stat(folder).st_mode & stat.S_IXOTH
            except OSError:
                break
            if shut or folder in hidden:
                plan.setdefault(folder, set()).add(parts[depth])
    for folder in hidden:  # a private folder nothing needed goes through is covered empty
        plan.setdefault(folder, set())
    covered = _cover(plan)
    if private:
        left = sorted(hidden - set(covered))
        facts.others = (f"visible: {len(left)} of {len(hidden)} private folders could not be covered" if left else
                        "hidden: other gradings' copies and the other private folders (only the way to Python shows)")
    return covered


def _cover(plan: dict[str, set[str]]) -> list[str]:
    libc = _libc()
    opened = []
    for folder in sorted(plan, key=lambda f: f.count(os.sep)):  # outer folders first: inner paths then run through them
        fds = {}
        for name in sorted(plan[folder]):
            try:
                fds[name] = os.open(os.path.join(folder, name), os.O_PATH)
            except OSError:
                pass
        if libc is None or libc.mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64k,mode=0755") != 0:
            for fd in fds.values():
                os.close(fd)
            continue
        for name, fd in fds.items():
            target = os.path.join(folder, name)
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.mkdir(target)
            else:
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
            libc.mount(f"/proc/self/fd/{fd}".encode(), target.encode(), None, MS_BIND | MS_REC, None)
            os.close(fd)
        opened.append(folder)
    return opened


def readable_by_others(paths: list[str]) -> list[str]:
    """The paths another user could not read (a folder: list and enter; a file: read)."""
    closed = []
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue
        need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
        if mode & need != need:
            closed.append(path)
    return closed


def read_only_but(writable: str, shm_mb: int, facts: Isolation) -> None:
    """Every filesystem this process sees becomes read-only, except `writable` (the worker's folder,
    covered by a fresh memory filesystem of `shm_mb` MiB: what student code writes there fills no disk
    and is gone with the worker) and a fresh, private /dev/shm of the same size (DataLoader workers pass
    tensors through it). In a mount namespace of its own only: the machine's mounts are untouched."""
    libc = _libc()
    folder = "a memory filesystem of its own"
    if libc is None or libc.mount(b"tmpfs", writable.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                                  f"size={shm_mb}m,mode=0700".encode()) != 0:
        folder = "its own folder"
        if libc is None or libc.mount(writable.encode(), writable.encode(), None, MS_BIND, None) != 0:
            facts.files = f"writable wherever the grader's user may write (no bind mount: {os.strerror(ctypes.get_errno())})"
            return
    os.chdir(writable)  # the current folder too is entered again, through the new mount
    failed = []
    for point in _mount_points():
        if point == writable:
            continue
        try:
            kept = _mount_flags(os.statvfs(point).f_flag)
        except OSError:
            continue  # under a folder covered above: out of sight anyway
        if libc.mount(None, point.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | kept, None) != 0:
            failed.append(f"{point}: {os.strerror(ctypes.get_errno())}")
    shm = " (and a private /dev/shm)"
    if os.path.isdir("/dev/shm") and libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV,
                                                f"size={shm_mb}m,mode=1777".encode()) != 0:
        shm = f" (no private /dev/shm: {os.strerror(ctypes.get_errno())})"
    if failed:
        facts.files = f"read-only except {folder}, but for {len(failed)} filesystems ({', '.join(failed[:3])})"
    else:
        facts.files = f"read-only except {folder}" + shm


def _mount_points() -> list[str]:
    """Where each filesystem this process sees is mounted, from /proc/self/mountinfo."""
    try:
        lines = Path("/proc/self/mountinfo").read_bytes().splitlines()
    except OSError:
        return []
    # The fifth field; a space, tab, newline or backslash in it is written as a 3-digit octal escape.
    return [os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m[1], 8)]), line.split()[4])) for line in lines]


def _mount_flags(statvfs_flags: int) -> int:
    """The flags a read-only remount must keep (a mount inherited into a user namespace refuses to lose them)."""
    pairs = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
             (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))
    return sum(ms for st, ms in pairs if statvfs_flags & st)


def drop_root(work: str, max_processes: int, facts: Isolation) -> str:
    """As root: become an unused user id (the worker's pid above UNUSED_UID_BASE, so no two workers
    share one) with no capabilities and no way back (no_new_privs: a setuid program gains nothing).
    Its folder becomes its own; without a cgroup, RLIMIT_NPROC now binds, since that user runs nothing else.
    Returns "" once every id is that user's (checked after the change), else why not."""
    import resource  # POSIX only, as in limit_processes

    libc = _libc()
    uid = UNUSED_UID_BASE + os.getpid()
    try:
        os.chown(work, uid, uid)
        if not facts.processes.startswith("at most"):  # the cgroup's count stays the one that refuses
            resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))
            facts.processes = f"at most {max_processes} (RLIMIT_NPROC of its own user id)"
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    except OSError as exc:
        return f"could not change user: {exc.strerror}"
    if os.getresuid() != (uid,) * 3 or os.getresgid() != (uid,) * 3 or os.getgroups():
        return "the change of user did not take"
    if libc is not None:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # /proc/self stays its own (a uid change makes it root's)
    facts.user = f"an unused user id ({uid}) with no capabilities"
    return ""
