"""Exercise 4, another valid style: the device as a string, non-blocking copies, inference_mode,
`.to("cpu")`, and predict puts the model back in the mode it found it in."""

import torch


def get_device():
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def setup(model, device):
    model.to(device)
    return model


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
    optimizer.zero_grad()
    outputs = model(inputs)
    loss = loss_fn(outputs, targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        predictions = model(inputs.to(device)).argmax(1).to("cpu")
    model.train(was_training)
    return predictions
