"""Deterministic prediction: no random augmentation (the TA notebook's bug), optional flip averaging."""
import numpy as np
import torch
import torch.nn.functional as F

from .data import to_float


@torch.inference_mode()
def predict_probs(model, x_uint8, batch_size=2048, tta_flip=True):
    """Softmax probabilities (N, K) as float32 numpy; with tta_flip, averaged with the mirrored image."""
    model.eval()
    out = []
    for start in range(0, len(x_uint8), batch_size):
        x = to_float(x_uint8[start : start + batch_size])
        probs = F.softmax(model(x).float(), dim=1)
        if tta_flip:
            probs = (probs + F.softmax(model(x.flip(-1)).float(), dim=1)) / 2
        out.append(probs.cpu())
    return torch.cat(out).numpy().astype(np.float32)


@torch.inference_mode()
def extract_features(model, x_uint8, batch_size=2048):
    model.eval()
    return torch.cat([model.features(to_float(x_uint8[s : s + batch_size])).float().cpu() for s in range(0, len(x_uint8), batch_size)]).numpy()


def accuracy(probs, labels):
    return float((probs.argmax(1) == labels).mean())
