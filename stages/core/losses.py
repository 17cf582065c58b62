"""Losses and schedules as small pure functions."""
import math

import torch
import torch.nn.functional as F


def dann_lambda(progress, schedule, lambda_max):
    """Weight of the adversarial term: fixed, or the DANN ramp 2/(1+exp(-10p)) - 1 scaled by lambda_max."""
    if schedule == "fixed":
        return lambda_max
    progress = min(max(progress, 0.0), 1.0)
    return lambda_max * (2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0)


def domain_loss(domain_logits, num_source):
    """BCE of the domain classifier: source = 1, target = 0 (the first num_source rows are source)."""
    labels = torch.zeros_like(domain_logits)
    labels[:num_source] = 1.0
    return F.binary_cross_entropy_with_logits(domain_logits, labels)


def domain_accuracy(domain_logits, num_source):
    predicted_source = domain_logits > 0
    truth = torch.zeros_like(predicted_source)
    truth[:num_source] = True
    return (predicted_source == truth).float().mean()


def mcc_loss(target_logits, temperature=2.5):
    """Minimum Class Confusion (Jin et al. 2020) on a batch of target logits."""
    batch, num_classes = target_logits.shape
    probs = F.softmax(target_logits / temperature, dim=1)
    entropy = -(probs * torch.log(probs + 1e-5)).sum(dim=1).detach()
    weight = 1.0 + torch.exp(-entropy)
    weight = (batch * weight / weight.sum()).unsqueeze(1)
    confusion = (probs * weight).t() @ probs
    confusion = confusion / confusion.sum(dim=1, keepdim=True)
    return (confusion.sum() - confusion.trace()) / num_classes


def pseudo_label_loss(target_logits, pseudo_labels, label_smoothing=0.0):
    """CE on the target rows that carry a pseudo-label (label >= 0); 0 when none do."""
    keep = pseudo_labels >= 0
    if not keep.any():
        return target_logits.sum() * 0.0
    return F.cross_entropy(target_logits[keep], pseudo_labels[keep], label_smoothing=label_smoothing)
