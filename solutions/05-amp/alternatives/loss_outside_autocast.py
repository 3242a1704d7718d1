"""Exercise 5, another valid style: torch.amp.autocast for the forward pass only (the loss computed
outside it, on the low-precision logits), and the gradients cleared through the model."""

from torch import amp


def make_scaler(device_type):
    scaler = amp.GradScaler(device_type, enabled=True)
    return scaler


def train_step_amp(model, inputs, targets, loss_fn, optimizer, scaler, device_type):
    model.zero_grad()
    with amp.autocast(device_type=device_type):
        logits = model(inputs)
    loss = loss_fn(logits, targets)
    scaled = scaler.scale(loss)
    scaled.backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.detach().item()
