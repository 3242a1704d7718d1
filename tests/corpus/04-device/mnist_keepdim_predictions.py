"""predict() taken from the MNIST example's test(), keeping its `keepdim=True`, so the classes come back as a column.

Idiom: `pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability` reused for predictions, shape [N, 1] instead of [N]; otherwise the device handling is right (`torch.device("cuda" if use_cuda else "cpu")`, `.to(device)`, `.cpu()`)
Seen in: pytorch/examples, mnist/main.py (test(): pred = output.argmax(dim=1, keepdim=True), then pred.eq(target.view_as(pred)), which only works because of the view_as)
Expect: fails predict-on-cpu
"""

import torch


def get_device():
    use_cuda = torch.cuda.is_available()
    return torch.device("cuda" if use_cuda else "cpu")


def setup(model, device):
    return model.to(device)


def train_step(model, inputs, targets, loss_fn, optimizer, device):
    data, target = inputs.to(device), targets.to(device)
    optimizer.zero_grad()
    output = model(data)
    loss = loss_fn(output, target)
    loss.backward()
    optimizer.step()
    return loss.item()


def predict(model, inputs, device):
    model.eval()
    with torch.no_grad():
        output = model(inputs.to(device))
        pred = output.argmax(dim=1, keepdim=True)  # get the index of the max logit
    return pred.cpu()
