"""Probes the sandbox tests run in a real worker (loaded from this file by path, like an exercise's)."""

import os
import resource


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


def call_run(module):
    """The attack's `run()`, whatever it does."""
    return module.run()
