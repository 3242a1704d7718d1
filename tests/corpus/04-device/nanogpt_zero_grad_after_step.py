"""A train_step that clears the gradients after the update (and not before), the order nanoGPT and the AMP recipe use.

Idiom: forward, loss, backward, `optimizer.step()`, then `optimizer.zero_grad(set_to_none=True)` so the step leaves `.grad` empty for the next one; `x, y = x.to(device, non_blocking=True), ...`; `float(loss)` for logging
Seen in: karpathy/nanoGPT, train.py (scaler.step(optimizer); scaler.update(); optimizer.zero_grad(set_to_none=True) at the end of each iteration); pytorch/tutorials, recipes_source/recipes/amp_recipe.py (opt.step(); opt.zero_grad() as the last line of the loop)
Expect: pass
"""

import torch


def get_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def setup(model, device):
    return model.to(device)


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    x = inputs.to(device, non_blocking=True)
    y = targets.to(device, non_blocking=True)
    logits = model(x)
    loss = loss_fn(logits, y)
    loss.backward()
    optimizer.step()
    # flush the gradients as soon as we can, no need for this memory anymore
    optimizer.zero_grad(set_to_none=True)
    return float(loss)


@torch.no_grad()
def predict(model, inputs, device):
    model.eval()
    logits = model(inputs.to(device))
    return logits.argmax(dim=-1).cpu()
