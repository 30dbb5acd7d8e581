"""cnnqa.architectures against the same networks written in plain torch, and torchvision's figures.

torchvision's wheel here is a CUDA build that does not import beside the CPU torch, so each model
is re-implemented below, module by module, after torchvision's source. The models live on the
meta device: shapes only, no memory. Their multiply-accumulates are counted by forward hooks, from
each conv and dense module's attributes and the shapes torch actually produced.
"""

import pytest
import torch
from torch import nn

from cnnqa import architectures, shapes

# torchvision's documented parameter counts and GFLOPS (multiply-accumulates, in billions, at
# 224 x 224) for the models of the same name: the weights' pages of torchvision.models.
TORCHVISION = {
    "alexnet": (61_100_840, 0.714),
    "vgg16": (138_357_544, 15.47),
    "googlenet": (6_624_904, 1.498),
    "resnet50": (25_557_032, 4.089),
    "densenet121": (7_978_856, 2.834),
    "efficientnet_b0": (5_288_548, 0.386),
}


def conv_bn(cin, cout, k, stride=1, padding=0, groups=1, eps=1e-5):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, padding, groups=groups, bias=False), nn.BatchNorm2d(cout, eps=eps))


def lenet5():
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
                         nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def alexnet():
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(),
        nn.MaxPool2d(3, 2), nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.AdaptiveAvgPool2d(6), nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))


def vgg16():
    layers, cin = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU()]
            cin = v
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Linear(25088, 4096), nn.ReLU(),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))


class Inception(nn.Module):
    def __init__(self, cin, c1, r3, c3, r5, c5, proj, big=3, unit=None):
        super().__init__()
        unit = unit or (lambda i, o, k, p=0: conv_bn(i, o, k, padding=p, eps=1e-3))
        self.b1 = unit(cin, c1, 1)
        self.b2 = nn.Sequential(unit(cin, r3, 1), unit(r3, c3, 3, 1))
        self.b3 = nn.Sequential(unit(cin, r5, 1), unit(r5, c5, big, big // 2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), unit(cin, proj, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


def googlenet(paper=False):
    """torchvision's (batch norm, 3x3 in the third branch), or the paper's (biases, 5x5)."""
    if paper:
        def unit(i, o, k, p=0, s=1):
            return nn.Conv2d(i, o, k, s, p)
    else:
        def unit(i, o, k, p=0, s=1):
            return conv_bn(i, o, k, s, p, eps=1e-3)
    cfg = [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), "M3",
           (480, 192, 96, 208, 16, 48, 64), (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64),
           (512, 112, 144, 288, 32, 64, 64), (528, 256, 160, 320, 32, 128, 128), "M2",
           (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)]
    body = [Inception(*c, big=5 if paper else 3, unit=unit) if isinstance(c, tuple)
            else nn.MaxPool2d(int(c[1]), 2, ceil_mode=True) for c in cfg]
    return nn.Sequential(unit(3, 64, 7, 3, 2), nn.MaxPool2d(3, 2, ceil_mode=True), unit(64, 64, 1), unit(64, 192, 3, 1),
                         nn.MaxPool2d(3, 2, ceil_mode=True), *body, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(1024, 1000))


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, width, 1), nn.ReLU(), conv_bn(width, width, 3, stride, 1), nn.ReLU(),
                                  conv_bn(width, 4 * width, 1))
        self.shortcut = conv_bn(cin, 4 * width, 1, stride) if stride != 1 or cin != 4 * width else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet50():
    blocks, cin = [], 64
    for width, n, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(n):
            blocks.append(Bottleneck(cin, width, stride if i == 0 else 1))
            cin = 4 * width
    return nn.Sequential(conv_bn(3, 64, 7, 2, 3), nn.ReLU(), nn.MaxPool2d(3, 2, 1), *blocks, nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(2048, 1000))


class DenseLayer(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, 128, 1, bias=False), nn.BatchNorm2d(128),
                                  nn.ReLU(), nn.Conv2d(128, 32, 3, padding=1, bias=False))

    def forward(self, x):
        return torch.cat([x, self.body(x)], 1)


def densenet121():
    layers, c = [conv_bn(3, 64, 7, 2, 3), nn.ReLU(), nn.MaxPool2d(3, 2, 1)], 64
    for i, n in enumerate([6, 12, 24, 16]):
        for _ in range(n):
            layers.append(DenseLayer(c))
            c += 32
        if i < 3:
            layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1, bias=False), nn.AvgPool2d(2)]
            c //= 2
    return nn.Sequential(*layers, nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1000))


class MBConv(nn.Module):
    def __init__(self, cin, expansion, k, stride, cout):
        super().__init__()
        mid = cin * expansion
        self.expand = conv_bn(cin, mid, 1) if expansion != 1 else nn.Identity()
        self.depthwise = conv_bn(mid, mid, k, stride, k // 2, groups=mid)
        self.squeeze, self.excite = nn.Conv2d(mid, max(1, cin // 4), 1), nn.Conv2d(max(1, cin // 4), mid, 1)
        self.project = conv_bn(mid, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.depthwise(self.expand(x))
        y = y * torch.sigmoid(self.excite(torch.relu(self.squeeze(y.mean((2, 3), keepdim=True)))))
        y = self.project(y)
        return x + y if self.residual else y


def efficientnet_b0():
    blocks, cin = [], 32
    for expansion, k, stride, cout, n in [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                                          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]:
        for i in range(n):
            blocks.append(MBConv(cin, expansion, k, stride if i == 0 else 1, cout))
            cin = cout
    return nn.Sequential(conv_bn(3, 32, 3, 2, 1), *blocks, conv_bn(320, 1280, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(1280, 1000))


class UNet(nn.Module):
    def __init__(self, padding=1, classes=2):
        super().__init__()
        def double(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=padding), nn.ReLU(), nn.Conv2d(o, o, 3, padding=padding), nn.ReLU())
        widths = [64, 128, 256, 512, 1024]
        self.down = nn.ModuleList(double(i, o) for i, o in zip([1] + widths, widths))
        self.up = nn.ModuleList(nn.ConvTranspose2d(o * 2, o, 2, 2) for o in widths[-2::-1])
        self.merge = nn.ModuleList(double(o * 2, o) for o in widths[-2::-1])
        self.out = nn.Conv2d(64, classes, 1)

    def forward(self, x):
        skips = []
        for i, down in enumerate(self.down):
            x = down(nn.functional.max_pool2d(x, 2) if i else x)
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, skips[-2::-1]):
            x = up(x)
            top, left = (skip.shape[2] - x.shape[2]) // 2, (skip.shape[3] - x.shape[3]) // 2
            x = merge(torch.cat([skip[:, :, top : top + x.shape[2], left : left + x.shape[3]], x], 1))
        return self.out(x)


def torch_macs(model, x) -> int:
    """Multiply-accumulates of the conv, transposed-conv and dense modules in one forward pass."""
    total = 0

    def count(module, inputs, out):
        nonlocal total
        if isinstance(module, nn.Linear):
            total += out.numel() * module.in_features
        elif isinstance(module, nn.ConvTranspose2d):  # each input value stamps a kernel
            total += inputs[0].numel() * module.weight[0].numel()
        else:  # each output value sums C/G * kh * kw products
            total += out.numel() * module.weight[0].numel()

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    out = model(x)
    for hook in hooks:
        hook.remove()
    return total, out


CASES = {  # name: (cnnqa's network, the torch model, its input size)
    "lenet5": (architectures.lenet5, lenet5, 32),
    "alexnet": (architectures.alexnet, alexnet, 224),
    "vgg16": (architectures.vgg16, vgg16, 224),
    "googlenet": (architectures.googlenet, googlenet, 224),
    "googlenet-paper": (lambda: architectures.googlenet(paper=True), lambda: googlenet(paper=True), 224),
    "resnet50": (architectures.resnet50, resnet50, 224),
    "densenet121": (architectures.densenet121, densenet121, 224),
    "efficientnet_b0": (architectures.efficientnet_b0, efficientnet_b0, 224),
    "unet": (architectures.unet, UNet, 224),
    "unet-unpadded": (lambda: architectures.unet(572, padding=0), lambda: UNet(padding=0), 572),
}


@pytest.mark.parametrize("name", CASES)
def test_counts_equal_the_torch_model_and_torchvision(name):
    ours, build, size = CASES[name]
    net = ours()
    with torch.device("meta"):
        model = build()
        x = torch.empty(1, net.input[0], size, size)
    assert net.params == sum(p.numel() for p in model.parameters()), name
    macs, out = torch_macs(model, x)
    assert net.macs == macs, name
    assert net.rows[-1].output == tuple(out.shape[1:]) + (1, 1) * (out.dim() == 2), name
    if name in TORCHVISION:
        params, gmacs = TORCHVISION[name]
        assert net.params == params and round(net.macs / 1e9, 3) == pytest.approx(gmacs, abs=6e-4), name


def test_depth_counts_the_weight_layers_on_the_longest_path():
    depths = {name: ours().depth for name, (ours, _, _) in CASES.items()}
    assert [depths[n] for n in ("lenet5", "alexnet", "vgg16", "googlenet", "resnet50", "densenet121", "unet")] == [
        5, 8, 16, 22, 50, 121, 23]  # the numbers in the networks' names, and the U-Net paper's 23 conv layers


def test_a_chain_network_field_is_receptive_field_of_its_layers():
    """VGG-16 and AlexNet have no branches: their field is shapes.receptive_field of the layer list."""
    vgg = [(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 2 + [(2, 2)] + ([(3, 1)] * 3 + [(2, 2)]) * 3
    alex = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]
    assert architectures.vgg16().field == shapes.receptive_field(vgg)
    assert architectures.alexnet().field == shapes.receptive_field(alex)


def test_merging_branches_of_different_grids_is_refused():
    b = architectures.Builder("t", 3, 8)
    x = b.input()
    with pytest.raises(ValueError, match="sizes="):
        b.concat(x, b.pool(x, 2))
    with pytest.raises(ValueError, match="channels="):
        b.add(x, b.conv(x, 4, 1))


def test_unet_field_is_the_widest_extent_of_a_unit_input_gradient():
    """A one-channel U-Net with positive weights and average pooling: nothing cancels, so the
    non-zero input gradient of one output unit spans its field. Over one period of positions
    (16 units: four 2x up-samplings) the widest span is cnnqa's field."""
    size, ones = 256, torch.ones(1, 1, 3, 3, dtype=torch.float64)
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y, skips = x, []
    for level in range(5):
        y = nn.functional.avg_pool2d(y, 2) if level else y
        y = nn.functional.conv2d(nn.functional.conv2d(y, ones, padding=1), ones, padding=1)
        skips.append(y)
    for skip in skips[-2::-1]:
        y = nn.functional.conv_transpose2d(y, torch.ones(1, 1, 2, 2, dtype=torch.float64), stride=2)
        y = nn.functional.conv2d(torch.cat([skip, y], 1), torch.ones(1, 2, 3, 3, dtype=torch.float64), padding=1)
        y = nn.functional.conv2d(y, ones, padding=1)
    row = y[0, 0, size // 2, size // 2 - 8 : size // 2 + 8]  # one period of positions, far from the edges
    widths = []
    for unit in range(16):
        grad, = torch.autograd.grad(row[unit], x, retain_graph=True)
        touched = torch.nonzero(grad[0, 0].sum(0)).flatten()
        widths.append(touched.max().item() - touched.min().item() + 1)
    assert max(widths) == architectures.unet().field and len(set(widths)) > 1, widths
