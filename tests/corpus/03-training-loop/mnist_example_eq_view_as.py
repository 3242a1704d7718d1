"""The pytorch/examples MNIST train()/test() pair, adapted to take the loss function as an argument.

Idiom: `for batch_idx, (data, target) in enumerate(...)`, `output = model(data)`, `pred = output.argmax(dim=1, keepdim=True)` and `correct += pred.eq(target.view_as(pred)).sum().item()`, `100. * correct / len(dataset)` style division
Seen in: pytorch/examples, mnist/main.py (train(): model.train(), zero_grad before the forward; test(): model.eval(), torch.no_grad(), pred.eq(target.view_as(pred)).sum().item(), divided by len(test_loader.dataset))
Expect: pass
"""

import torch


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(loader):
        optimizer.zero_grad()
        output = model(data)
        loss = loss_fn(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def evaluate(model, loader, loss_fn):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in loader:
            output = model(data)
            test_loss += loss_fn(output, target).item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max logit
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(loader)
    accuracy = correct / len(loader.dataset)
    return test_loss, accuracy
