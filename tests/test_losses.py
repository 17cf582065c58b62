import math

import torch

from stages.core.losses import dann_lambda, domain_loss, mcc_loss, pseudo_label_loss
from stages.core.models import reverse_gradient


def test_lambda_schedules():
    assert dann_lambda(0.7, "fixed", 0.1) == 0.1
    assert dann_lambda(0.0, "adaptive", 1.0) == 0.0
    assert math.isclose(dann_lambda(0.5, "adaptive", 1.0), 2 / (1 + math.exp(-5)) - 1)
    assert math.isclose(dann_lambda(1.0, "adaptive", 0.5), 0.5 * (2 / (1 + math.exp(-10)) - 1))
    values = [dann_lambda(p / 10, "adaptive", 1.0) for p in range(11)]
    assert values == sorted(values) and values[-1] < 1.0


def test_gradient_reversal_flips_and_scales_the_gradient():
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = reverse_gradient(x, 0.3)
    assert torch.equal(y, x)
    (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert torch.allclose(x.grad, torch.tensor([-0.3, -0.6, -0.9]))


def test_domain_loss_labels_source_one_target_zero():
    logits = torch.tensor([10.0, 10.0, -10.0])
    assert domain_loss(logits, num_source=2) < 1e-3
    assert domain_loss(logits, num_source=1) > 3


def test_mcc_matches_a_hand_computed_case():
    # Two samples, two classes, T = 1: softmax rows y1 = [1/4, 3/4], y2 = [1/2, 1/2].
    # Entropies 0.56233 and 0.69315 -> weights 1 + e^-H = 1.56987, 1.5 -> x B / sum = 1.022759, 0.977241.
    # C = sum_i w_i y_i y_i^T = [[0.308232, 0.436077], [0.436077, 0.819612]];
    # rows normalised: C01 = 0.585884, C10 = 0.347281; loss = (C01 + C10) / K = 0.466582.
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]])
    assert abs(float(mcc_loss(logits, temperature=1.0)) - 0.466582) < 1e-4
    # the temperature softens: T = 2.5 on the same logits confuses more
    assert float(mcc_loss(logits, temperature=2.5)) > 0.466582


def test_mcc_is_zero_for_confident_distinct_predictions_and_has_no_gradient_through_weights():
    logits = torch.tensor([[50.0, 0.0], [0.0, 50.0]], requires_grad=True)
    loss = mcc_loss(logits, temperature=1.0)
    assert float(loss.detach()) < 1e-6
    loss.backward()
    assert logits.grad is not None


def test_pseudo_label_loss_ignores_unlabelled_rows():
    logits = torch.tensor([[5.0, 0.0], [0.0, 5.0], [9.0, -9.0]])
    labels = torch.tensor([0, -1, -1])
    assert torch.isclose(pseudo_label_loss(logits, labels), torch.nn.functional.cross_entropy(logits[:1], labels[:1]))
    assert float(pseudo_label_loss(logits, torch.full((3,), -1))) == 0.0
