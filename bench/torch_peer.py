#!/usr/bin/env python3
"""The bench's PyTorch peer: the project's U-Net written in PyTorch, timed on the CPU.

The network mirrors src/core/ml/unet.ts: five levels of two 3x3 'same' convolutions (no bias)
each followed by batch norm and ReLU, 2x2 max-pooling down, 2x2 stride-2 transposed convolutions
up with the skip concatenated, and a 1x1 convolution with a sigmoid. Training minimises BCE plus
soft Dice with Adam (lr 1e-3), as the app's trainer does. Run with Debian's python3-torch:

  /usr/bin/python3 bench/torch_peer.py --mode train --base 16 --size 256 --batch 4 --threads 2

Prints one line `RESULT {json}`: images per second from the median step, peak RSS, torch version.
"""
import argparse
import json
import resource
import statistics
import time

import torch
from torch import nn


def conv_bn_relu(inputs, outputs):
    return [nn.Conv2d(inputs, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU()]


class DoubleConv(nn.Module):
    def __init__(self, inputs, outputs):
        super().__init__()
        self.layers = nn.Sequential(*conv_bn_relu(inputs, outputs), *conv_bn_relu(outputs, outputs))

    def forward(self, x):
        return self.layers(x)


class UNet(nn.Module):
    def __init__(self, base, levels=4):
        super().__init__()
        widths = [base << level for level in range(levels + 1)]
        self.encoders = nn.ModuleList()
        previous = 1
        for width in widths[:-1]:
            self.encoders.append(DoubleConv(previous, width))
            previous = width
        self.bridge = DoubleConv(widths[-2], widths[-1])
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for level in reversed(range(levels)):
            self.ups.append(nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride=2))
            self.decoders.append(DoubleConv(widths[level] * 2, widths[level]))
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x):
        skips = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.bridge(x)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips)):
            x = decoder(torch.cat([up(x), skip], dim=1))
        return torch.sigmoid(self.head(x))


def bce_dice(predicted, target, eps=1e-6):
    bce = nn.functional.binary_cross_entropy(predicted.clamp(eps, 1 - eps), target)
    overlap = (predicted * target).sum()
    dice = (2 * overlap + 1) / (predicted.sum() + target.sum() + 1)
    return bce + 1 - dice


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--mode', choices=['train', 'infer'], default='train')
    parser.add_argument('--base', type=int, default=16)
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seconds', type=float, default=30)
    parser.add_argument('--warmup', type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    model = UNet(args.base)
    images = torch.rand(args.batch, 1, args.size, args.size)
    masks = (torch.rand(args.batch, 1, args.size, args.size) > 0.8).float()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        if args.mode == 'train':
            model.train()
            optimiser.zero_grad(set_to_none=True)
            loss = bce_dice(model(images), masks)
            loss.backward()
            optimiser.step()
        else:
            model.eval()
            with torch.inference_mode():
                model(images)

    for _ in range(args.warmup):
        step()
    times = []
    deadline = time.perf_counter() + args.seconds
    while len(times) < 3 or time.perf_counter() < deadline:
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print('RESULT', json.dumps({
        'engine': f'torch-{torch.__version__}',
        'mode': args.mode,
        'threads': args.threads,
        'steps': len(times),
        'median_step_s': round(median, 4),
        'images_per_s': round(args.batch / median, 3),
        'max_rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }))


if __name__ == '__main__':
    main()
