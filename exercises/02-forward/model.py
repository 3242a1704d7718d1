"""Exercise 2: the forward pass of a small convolutional network for MNIST digits.

`__init__` already creates every layer the network needs. Do not change it: write `forward`,
which says in what order the layers are applied to a batch of images.

Run `grade exercise 2` to check your work, and `grade hint 2` if you are stuck.
"""

import torch
import torch.nn.functional as F
from torch import nn


class MNISTNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        """Compute the logits for a batch of images.

        x has shape [N, 1, 28, 28]: N grayscale images of 28 x 28 pixels. N can be any number,
        including 1. Apply, in this order (shapes for each step on the right):

            conv1, then ReLU          -> [N, 16, 28, 28]
            pool                      -> [N, 16, 14, 14]
            conv2, then ReLU          -> [N, 32, 14, 14]
            pool                      -> [N, 32, 7, 7]
            flatten, keeping N        -> [N, 1568]        (1568 = 32 * 7 * 7)
            fc1, then ReLU            -> [N, 128]
            dropout                   -> [N, 128]
            fc2                       -> [N, 10]

        Return the output of fc2 as it is: raw scores (logits), one row of 10 per image.
        No softmax: the loss function (nn.CrossEntropyLoss) applies it itself.
        """
        raise NotImplementedError("write the forward pass")
