"""The TA network (feature extractor, label predictor, domain classifier) and the gradient reversal layer."""
import torch
from torch import nn

BASE_CHANNELS = (64, 128, 256, 256, 512)


class GradientReversal(torch.autograd.Function):
    """Identity forward; multiplies the gradient by -coeff backward."""

    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.coeff * grad, None


def reverse_gradient(x, coeff):
    return GradientReversal.apply(x, float(coeff))


def _channels(width):
    return [max(8, int(round(c * width))) for c in BASE_CHANNELS]


class FeatureExtractor(nn.Module):
    """5 x [Conv3x3, BN, ReLU, MaxPool2] on 1x32x32 -> flat feature (512 * width)."""

    def __init__(self, width=1.0, in_channels=1):
        super().__init__()
        layers, previous = [], in_channels
        for channels in _channels(width):
            layers += [nn.Conv2d(previous, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            previous = channels
        self.conv = nn.Sequential(*layers)
        self.out_dim = previous

    def forward(self, x):
        return self.conv(x).flatten(1)


def _mlp(sizes, batch_norm):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b)] + ([nn.BatchNorm1d(b)] if batch_norm else []) + [nn.ReLU(inplace=True)]
    return layers


class LabelPredictor(nn.Module):
    def __init__(self, in_dim, num_classes, hidden=512):
        super().__init__()
        self.layer = nn.Sequential(*_mlp([in_dim, hidden, hidden], batch_norm=False), nn.Linear(hidden, num_classes))

    def forward(self, h):
        return self.layer(h)


class DomainClassifier(nn.Module):
    def __init__(self, in_dim, hidden=512):
        super().__init__()
        self.layer = nn.Sequential(*_mlp([in_dim] + [hidden] * 4, batch_norm=True), nn.Linear(hidden, 1))

    def forward(self, h):
        return self.layer(h).squeeze(1)


class DANN(nn.Module):
    """Extractor + label predictor + domain classifier; the hidden width follows the extractor."""

    def __init__(self, num_classes, width=1.0):
        super().__init__()
        self.features = FeatureExtractor(width)
        hidden = self.features.out_dim
        self.classifier = LabelPredictor(hidden, num_classes, hidden)
        self.domain = DomainClassifier(hidden, hidden)

    def forward(self, x):
        return self.classifier(self.features(x))


def build_model(num_classes, width):
    return DANN(num_classes, width)


class EMA:
    """Exponential moving average of a model's weights (the teacher); buffers are copied as they are."""

    def __init__(self, model, decay):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model):
        for key, value in model.state_dict().items():
            if value.dtype.is_floating_point:
                self.state[key].lerp_(value.detach(), 1 - self.decay)
            else:
                self.state[key].copy_(value)
