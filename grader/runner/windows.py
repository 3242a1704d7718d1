"""Windows Job Objects, through ctypes on kernel32: what ends a spawned worker's whole process tree and
caps its memory and process count on Windows, where there are no process groups, rlimits or cgroups.

A worker is put in a job of its own right after it starts (before it has run any student code); every
process it starts is then in the job too. `terminate` ends them all at once, and the job is made to
kill them all when its last handle closes (the grading process dying closes it). Nothing here runs
on import, so the module is safe to import, and test, on any system: `kernel32` can be a stand-in.
"""

from __future__ import annotations

import ctypes
from typing import Any

JOB_OBJECT_LIMIT_ACTIVE_PROCESS = 0x0008
JOB_OBJECT_LIMIT_JOB_MEMORY = 0x0200
JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x0400
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
PROCESS_TERMINATE = 0x0001
PROCESS_SET_QUOTA = 0x0100
KILLED_EXIT_CODE = 0xC000013A  # what Windows reports for a process ended by Ctrl-C, used for "ended by the grader"


class IoCounters(ctypes.Structure):
    _fields_ = [(name, ctypes.c_ulonglong) for name in (
        "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
        "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]


class BasicLimits(ctypes.Structure):
    """JOBOBJECT_BASIC_LIMIT_INFORMATION."""

    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", ctypes.c_uint32), ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", ctypes.c_uint32),
                ("Affinity", ctypes.c_size_t), ("PriorityClass", ctypes.c_uint32), ("SchedulingClass", ctypes.c_uint32)]


class ExtendedLimits(ctypes.Structure):
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION."""

    _fields_ = [("BasicLimitInformation", BasicLimits), ("IoInfo", IoCounters),
                ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]


class JobError(OSError):
    """A Job Object call failed (the worker is then ended the ordinary way, and the record says so)."""


def kernel32() -> Any:
    """The real kernel32 (Windows only), its functions declared: a HANDLE is pointer-sized, which ctypes's
    default (a C int) would cut in half on 64-bit Windows."""
    from ctypes import wintypes

    api = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    limits = ctypes.POINTER(ExtendedLimits)
    for name, result, arguments in (
            ("CreateJobObjectW", wintypes.HANDLE, [wintypes.LPVOID, wintypes.LPCWSTR]),
            ("OpenProcess", wintypes.HANDLE, [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]),
            ("AssignProcessToJobObject", wintypes.BOOL, [wintypes.HANDLE, wintypes.HANDLE]),
            ("SetInformationJobObject", wintypes.BOOL, [wintypes.HANDLE, ctypes.c_int, limits, wintypes.DWORD]),
            ("QueryInformationJobObject", wintypes.BOOL,
             [wintypes.HANDLE, ctypes.c_int, limits, wintypes.DWORD, ctypes.POINTER(wintypes.DWORD)]),
            ("TerminateJobObject", wintypes.BOOL, [wintypes.HANDLE, wintypes.UINT]),
            ("CloseHandle", wintypes.BOOL, [wintypes.HANDLE])):
        function = getattr(api, name)
        function.restype, function.argtypes = result, arguments
    return api


class Job:
    """One worker's Job Object."""

    def __init__(self, handle: Any, api: Any):
        self.handle, self._api = handle, api

    @classmethod
    def around(cls, pid: int, api: Any | None = None) -> Job:
        """A new job that kills everything in it when closed, holding process `pid` (and all it starts)."""
        api = api if api is not None else kernel32()
        handle = api.CreateJobObjectW(None, None)
        if not handle:
            raise JobError("CreateJobObjectW failed")
        job = cls(handle, api)
        job._set(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION)
        process = api.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
        if not process:
            job.close()
            raise JobError(f"OpenProcess({pid}) failed")
        try:
            if not api.AssignProcessToJobObject(handle, process):
                job.close()
                raise JobError("AssignProcessToJobObject failed")
        finally:
            api.CloseHandle(process)
        return job

    def limits(self) -> ExtendedLimits:
        info = ExtendedLimits()
        if not self._api.QueryInformationJobObject(self.handle, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                                                   ctypes.byref(info), ctypes.sizeof(info), None):
            raise JobError("QueryInformationJobObject failed")
        return info

    def peak_memory(self) -> int:
        """The most memory (committed bytes) the job's processes have held at once so far."""
        return int(self.limits().PeakJobMemoryUsed)

    def limit(self, memory_bytes: int, processes: int) -> None:
        """Cap the memory all the job's processes may commit together, and how many may run at once."""
        self._set(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
                  | JOB_OBJECT_LIMIT_JOB_MEMORY | JOB_OBJECT_LIMIT_ACTIVE_PROCESS,
                  memory_bytes=memory_bytes, processes=processes)

    def _set(self, flags: int, memory_bytes: int = 0, processes: int = 0) -> None:
        info = ExtendedLimits()
        info.BasicLimitInformation.LimitFlags = flags
        info.BasicLimitInformation.ActiveProcessLimit = processes
        info.JobMemoryLimit = memory_bytes
        if not self._api.SetInformationJobObject(self.handle, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                                                 ctypes.byref(info), ctypes.sizeof(info)):
            raise JobError("SetInformationJobObject failed")

    def terminate(self) -> None:
        """End every process in the job."""
        self._api.TerminateJobObject(self.handle, KILLED_EXIT_CODE)

    def close(self) -> None:
        if self.handle:
            self._api.CloseHandle(self.handle)
            self.handle = None
