"""The device helpers checks use to grade CUDA and AMP code on a machine without a GPU: the meta
device standing in for a GPU, a simulated `torch.cuda.is_available()`, and the spies. Each must
leave torch exactly as it found it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from grader.checks.devices import AutocastSpy, MoveSpy, StandInGPU, api_name, autocast_enabled, simulated_cuda

PATCHED = ("to", "cpu", "item", "__float__", "__int__", "tolist")


def _tensor_methods() -> dict:
    return {name: vars(torch.Tensor).get(name) for name in PATCHED}


def test_stand_in_gpu_fails_on_mixed_devices_like_cuda_and_runs_a_training_step():
    before = _tensor_methods()
    with StandInGPU() as gpu:
        model = nn.Sequential(nn.Linear(4, 3))
        params = list(model.parameters())
        optimizer = torch.optim.SGD(params, lr=0.1)  # built before the move, as students often do
        model.to("meta")
        assert all(p is q and q.is_meta for p, q in zip(params, model.parameters()))  # objects kept, as on CUDA
        x, y = torch.randn(2, 4), torch.tensor([0, 2])
        with pytest.raises(RuntimeError, match="meta"):
            model(x)
        loss = nn.functional.cross_entropy(model(x.to("meta")), y.to("meta"))
        loss.backward()
        optimizer.step()
        assert loss.item() == 0.0 and float(loss) == 0.0 and gpu.read_values == 2
        back = model(x.to("meta")).argmax(dim=1).cpu()
        assert back.device.type == "cpu" and back.dtype == torch.int64 and back.shape == (2,)
        assert gpu.copied_back == [((2,), "torch.int64")]
        assert torch.ones(2).to("cpu").sum().item() == 2.0  # real tensors are untouched
    assert _tensor_methods() == before
    assert not torch.__future__.get_swap_module_params_on_conversion()


def test_simulated_cuda_answers_both_ways_and_restores():
    real = torch.cuda.is_available()
    with simulated_cuda(True):
        assert torch.cuda.is_available() and torch.cuda.device_count() == 1
    with simulated_cuda(False):
        assert not torch.cuda.is_available()
        if hasattr(torch, "accelerator"):
            assert torch.accelerator.current_accelerator() is None
    assert torch.cuda.is_available() == real


def test_move_spy_sees_a_move_whose_result_is_thrown_away():
    inputs, other = torch.randn(2), torch.randn(2)
    with MoveSpy(inputs=inputs) as spy:
        inputs.to("cpu")
        inputs.to(torch.float64)
        other.to("cpu")
    assert spy.moves == [{"tensor": "inputs", "method": "to", "device": "cpu"},
                         {"tensor": "inputs", "method": "to", "device": "cpu"}]
    assert "to" not in vars(torch.Tensor)


def test_autocast_spy_records_the_device_type_asked_for():
    with AutocastSpy() as spy:
        with torch.autocast(device_type="cpu"):
            assert autocast_enabled("cpu") and not autocast_enabled("cuda")
            assert nn.Linear(3, 3)(torch.randn(2, 3)).dtype == torch.bfloat16
    assert spy.entered == [{"device_type": "cpu", "dtype": "torch.bfloat16", "enabled": True, "api": "torch.autocast"}]
    assert not autocast_enabled("cpu")


def test_the_older_one_device_amp_classes_are_named_as_the_student_wrote_them():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both are deprecated, and the CUDA ones disable themselves here
        with AutocastSpy() as spy:
            with torch.cpu.amp.autocast():
                pass
            with torch.cuda.amp.autocast():
                pass
        scaler = torch.cuda.amp.GradScaler()
    assert [r["api"] for r in spy.entered] == ["torch.cpu.amp.autocast", "torch.cuda.amp.autocast"]
    assert api_name(scaler) == "torch.cuda.amp.GradScaler"
    assert api_name(torch.amp.GradScaler("cpu")) == "torch.amp.GradScaler"


def test_a_simulated_gpu_answers_the_questions_start_up_code_asks():
    real = torch.cuda.get_device_name, torch.cuda.set_device
    with simulated_cuda(True):
        assert torch.cuda.is_available() and torch.cuda.device_count() == 1
        assert torch.cuda.get_device_name(0) and torch.cuda.current_device() == 0
        torch.cuda.set_device(0)
    assert (torch.cuda.get_device_name, torch.cuda.set_device) == real
