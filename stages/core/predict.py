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


@torch.no_grad()
def adapt_batchnorm(model, x_uint8, batch_size=256):
    """AdaBN: recompute every BatchNorm's statistics on the target images alone (no augmentation).

    Training mixes source and target in each batch, so the running statistics describe the
    mixture; the target's own statistics fit its predictions better. Changes model in place.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over all batches
    model.train()
    for start in range(0, len(x_uint8), batch_size):
        chunk = x_uint8[start : start + batch_size]
        if len(chunk) > 1:
            model.features(to_float(chunk))
    model.eval()
    return model


def accuracy(probs, labels):
    return float((probs.argmax(1) == labels).mean())
