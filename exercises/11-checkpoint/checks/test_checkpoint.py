"""Checks for exercise 11. The main check resumes an interrupted run through the student's two functions
and compares the final weights with the reference's uninterrupted run of the same loop (the checks' own
loop, never the student's); when they differ it says what the probe saw go missing at the load (the
model's tensors, the optimizer's state). The other checks each watch one habit a checkpoint needs: the
epoch to resume at, a file of state_dicts that loads with `weights_only=True`, `map_location` for a file
from a GPU machine, the training mode left alone, and the optimizer's state restored onto the device.
When a habit another check names keeps a check from judging its own, it says so (`because_of`)."""

import probes
import torch

from grader.checks import expect, fail, said
from grader.checks.devices import on_devices
from grader.checks.observe import said_error, said_value
from grader.checks.spies import acting_layers

SEED = 11
OPTIMIZERS = ("sgd", "adam")
EPOCHS = (3, 8)  # the epochs next-epoch saves after: any fixed answer is wrong for one of them


def _raised(run: dict, because_of: str | tuple[str, ...] | None = None):
    """Fail with the student's exception; a file that `torch.load` refused because it holds pickled
    objects is the state-dicts-only check's finding, whatever else `because_of` names."""
    if run.get("weights_only"):
        fail("common.weights-only-refused", stage=run["stage"], because_of="state-dicts-only")
    fail("common.raised", stage=run["stage"], error=said_error(run["error"]), because_of=because_of)


def _optimizer(kind: str) -> dict:
    return said(f"phrase.{kind}")


def test_resumes_exactly(student, reference):
    for kind in OPTIMIZERS:
        run = student.run(probes.resume, seed=SEED, optimizer=kind)
        if run["error"]:
            _raised(run)
        expect(run["file_written"], "resumes-exactly.no-file")
        returned = run["returned"]
        if not (returned["type"] == "int" and returned["value"] == probes.FIRST_RUN):
            fail("resumes-exactly.wrong-start", returned=said_value(returned), saved=probes.FIRST_RUN - 1,
                 total=probes.TOTAL, because_of="next-epoch")
        in_eval = [e for e in run["epochs"] if e["eval_layers"]]
        if in_eval:
            fail("resumes-exactly.eval-mode", epoch=in_eval[0]["epoch"], resumed=in_eval[0]["run"] == "resumed",
                 epochs=len(in_eval), layers=acting_layers(in_eval[0]["eval_layers"])[:4], because_of="training-mode")
        if run["model_differs"]:
            fail("resumes-exactly.model-not-restored", names=run["model_differs"][:5], count=len(run["model_differs"]),
                 total=run["model_tensors"])
        state = run["optimizer"]
        if state["empty"]:
            fail("resumes-exactly.optimizer-state-lost", optimizer=_optimizer(kind), empty=state["empty"],
                 params=state["params"], keys=state["keys"])
        if state["differ"]:
            fail("resumes-exactly.optimizer-state-differs", optimizer=_optimizer(kind), differ=state["differ"],
                 params=state["params"], keys=state["keys"])
        if run["detached"]:
            fail("resumes-exactly.optimizer-detached", detached=run["detached"], params=run["params"])
        if run.get("training_error"):
            fail("resumes-exactly.training-failed", epoch=run["failed_epoch"], error=said_error(run["training_error"]))
        want = reference.run(probes.uninterrupted, seed=SEED, optimizer=kind)["final"]
        for name, got, expected in zip(run["names"], run["final"], want):
            if not torch.allclose(got, expected, rtol=1e-5, atol=1e-6):
                fail("resumes-exactly.weights-differ", optimizer=_optimizer(kind), name=name,
                     largest=float((got - expected).abs().max()), epochs=probes.TOTAL, first=probes.FIRST_RUN)


def _saved(student) -> dict:
    return student.run(probes.saved, seed=SEED, epochs=list(EPOCHS))


def test_next_epoch(student):
    run = _saved(student)
    for epoch, returned in zip(EPOCHS, run["returned"]):
        if returned["kind"] == "tensor":
            fail("next-epoch.tensor", returned=said_value(returned), epoch=epoch)
        expect(returned["type"] == "int", "next-epoch.not-an-int", returned=said_value(returned), epoch=epoch)
        value = int(returned["value"])
        expect(value != epoch, "next-epoch.same-epoch", epoch=epoch)
        expect(value == epoch + 1, "next-epoch.wrong", epoch=epoch, value=value)
    if run["error"]:
        _raised(run, because_of="resumes-exactly")


def test_state_dicts_only(student):
    run = _saved(student)
    if "file" not in run:
        _raised(run, because_of="resumes-exactly")
    facts = run["file"]
    expect(facts["exists"], "state-dicts-only.no-file", because_of="resumes-exactly")
    if not facts["weights_only"]:
        objects = facts["objects"]
        if objects:
            fail("state-dicts-only.pickled-objects", objects=[o["type"] for o in objects],
                 keys=[o["key"] for o in objects], module=any(o["kind"] == "module" for o in objects),
                 optimizer=any(o["kind"] == "optimizer" for o in objects))
        fail("state-dicts-only.refused", unsupported=facts["unsupported"])


def test_map_location(student):
    run = student.run(probes.gpu_checkpoint, seed=SEED)
    if run["error"]:
        if run.get("cuda"):
            fail("map-location.cuda-error", stage=run["stage"], message=run["first_line"].rstrip("."))
        _raised(run, because_of="resumes-exactly")
    expect(not run["model_differs"], "map-location.not-restored", count=len(run["model_differs"]),
           because_of="resumes-exactly")


def test_training_mode(student):
    run = _saved(student)
    if run.get("save_train"):
        fail("training-mode.save-eval", layers=acting_layers(run["save_train"])[:4], count=len(run["save_train"]))
    if run.get("save_eval"):
        fail("training-mode.save-train", layers=acting_layers(run["save_eval"])[:4], count=len(run["save_eval"]))
    if run.get("load"):
        fail("training-mode.load-eval", layers=acting_layers(run["load"])[:4], count=len(run["load"]))
    if run["error"]:
        _raised(run, because_of="resumes-exactly")


@on_devices("meta", "cuda")
def test_restores_on_device(student, device):
    run = student.run(probes.on_device, device=device, seed=SEED)
    if run["error"]:
        _raised(run, because_of=("map-location", "resumes-exactly"))
    expect(run["model_on"] == [device], "restores-on-device.model-not-moved", on=run["model_on"], device=device)
    expect(run["state_tensors"], "restores-on-device.no-state", device=device, because_of="resumes-exactly")
    expect(not run["elsewhere"], "restores-on-device.state-elsewhere", elsewhere=run["elsewhere"],
           total=run["state_tensors"], where=run["state_on"], device=device)
