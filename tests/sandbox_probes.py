"""Probes the sandbox tests run in a real worker (loaded from this file by path, like an exercise's)."""

import colorsys  # rarely imported by anything else: the shadowing test puts a colorsys.py beside the student's file
import contextlib
import os
import resource

from grader.checks import before_import


def environment(module) -> dict:
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return {"cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "address_space_limited": soft != resource.RLIM_INFINITY}


def process_names(module) -> list:
    """This process's name and its parent's, as `ps -o comm` shows them (None without /proc)."""
    try:
        return [open(f"/proc/{pid}/comm").read().strip() for pid in ("self", os.getppid())]
    except OSError:
        return [None, None]


def torch_sum(module) -> int:
    """A sum torch computes in the worker."""
    import torch

    return int(torch.arange(1000).sum())


def real_colorsys(module) -> bool:
    """Whether the colorsys this probe imported is the standard library's."""
    return hasattr(colorsys, "rgb_to_hsv")


def call_run(module):
    """The attack's `run()`, whatever it does."""
    return module.run()


@contextlib.contextmanager
def _flag(value: str):
    os.environ["TORCHGRADE_TEST_FLAG"] = value
    try:
        yield
    finally:
        del os.environ["TORCHGRADE_TEST_FLAG"]


@before_import(lambda value: _flag(value))
def seen_at_import(module, value: str) -> dict:
    """What the student's module saw when it was imported, inside an environment the probe set up first."""
    return {"at_import": module.FLAG, "now": os.environ.get("TORCHGRADE_TEST_FLAG")}


@before_import(lambda **_: (_ for _ in ()).throw(RuntimeError("broken set-up")))
def broken_setup(module) -> dict:
    return {}


def state(module) -> dict:
    """What a probe finds in its worker: PyTorch's global state, its random numbers, its process and folder."""
    import torch

    return {"rand": torch.rand(3).tolist(), "grad": torch.is_grad_enabled(), "dtype": str(torch.get_default_dtype()),
            "imported": module.IMPORTED, "pid": os.getpid(), "cwd": os.path.basename(os.getcwd()),
            "home": os.path.basename(os.environ.get("HOME", "")),
            "deterministic": torch.are_deterministic_algorithms_enabled(), "anomaly": torch.is_anomaly_enabled()}


def call_run_with(module, what: str):
    """The student's `run(what)`."""
    return module.run(what)
