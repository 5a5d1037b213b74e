"""Eq. 6 class weights, the config object and the training loop's stop handling."""
import numpy as np
import pytest
import torch

from gdc_core.config import SegmenterConfig, parse_context_conv
from gdc_core.network import LightweightSegNet
from gdc_core.training import RunCancelled, StratifiedPixelSampler, class_weights, fit


def test_paper_weights_are_eq6_as_printed():
    np.testing.assert_allclose(class_weights([30, 10], "paper"), [0.75, 0.25])


def test_balanced_weights_equalise_class_totals():
    counts = np.array([300.0, 100.0, 20.0])
    w = class_weights(counts, "balanced")
    np.testing.assert_allclose(w * counts, np.full(3, counts.sum() / 3))
    np.testing.assert_allclose(class_weights(counts, "none"), 1.0)
    with pytest.raises(ValueError):
        class_weights([1, 0], "balanced")
    with pytest.raises(ValueError):
        class_weights([1, 2], "inverse")


def test_weighted_loss_matches_hand_computation():
    logits = torch.tensor([[[[2.0, 0.0]], [[0.0, 1.0]]]])  # (1, K=2, 1, 2)
    target = torch.tensor([[[0, 1]]])
    w = torch.tensor([0.2, 0.8])
    loss = torch.nn.functional.cross_entropy(logits, target, weight=w)
    p0 = torch.softmax(torch.tensor([2.0, 0.0]), 0)[0]
    p1 = torch.softmax(torch.tensor([0.0, 1.0]), 0)[1]
    expected = -(0.2 * torch.log(p0) + 0.8 * torch.log(p1)) / (0.2 + 0.8)
    torch.testing.assert_close(loss, expected)


def test_fit_lowers_the_loss_and_stops_on_request():
    torch.manual_seed(0)
    features = torch.randn(1, 8, 12, 12)
    target = torch.full((12, 12), 255, dtype=torch.long)
    target[:, :3] = 0
    target[:, -3:] = 1
    features[0, 0, :, :6] += 3
    net = LightweightSegNet(8, 2, width=8, context_conv="normal")
    losses = fit(net, features, target, torch.ones(2), steps=30, lr=0.05, momentum=0.9)
    assert losses[-1] < 0.5 * losses[0]
    calls = []
    with pytest.raises(RunCancelled):
        fit(net, features, target, torch.ones(2), steps=30, lr=0.05, momentum=0.9,
            on_step=calls.append, should_stop=lambda: len(calls) >= 3)
    assert calls == [1, 2, 3]


def test_sparse_training_runs_on_one_thread_and_restores_the_count(monkeypatch):
    torch.manual_seed(0)
    features = torch.randn(1, 8, 12, 12)
    target = torch.full((12, 12), 255, dtype=torch.long)
    target[:, :3] = 0
    target[:, -3:] = 1
    net = LightweightSegNet(8, 2, width=8)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = []
        fit(net, features, target, torch.ones(2), steps=3, lr=0.05, momentum=0.9, pixels_per_step=16,
            on_step=lambda step: seen.append(torch.get_num_threads()))
        assert seen == [1, 1, 1] and torch.get_num_threads() == 2
        with pytest.raises(RunCancelled):  # restored on the way out of a cancelled run too
            fit(net, features, target, torch.ones(2), steps=3, lr=0.05, momentum=0.9, pixels_per_step=16,
                should_stop=lambda: True)
        assert torch.get_num_threads() == 2
        seen.clear()  # the full-map (literal) loss keeps torch's thread count: its convs are large
        fit(net, features, target, torch.ones(2), steps=2, lr=0.05, momentum=0.9,
            on_step=lambda step: seen.append(torch.get_num_threads()))
        assert seen == [2, 2]
    finally:
        torch.set_num_threads(previous)


def test_config_defaults_are_the_papers_and_unknown_keys_fail():
    config = SegmenterConfig()
    assert (config.steps, config.samples, config.lr, config.sigma, config.context_conv) == (50, 50, 0.01, 0.2, "gdc")
    with pytest.raises(ValueError, match="unknown config key"):
        SegmenterConfig.from_dict({"stepz": 3})
    with pytest.raises(ValueError):
        config.replace(context_conv="dilated:x")
    with pytest.raises(ValueError):
        config.replace(steps=0)
    with pytest.raises(ValueError):
        config.replace(class_weighting="inverse")
    assert config.replace(steps=3).steps == 3 and config.steps == 50
    assert parse_context_conv("dilated:6") == ("dilated", 6)


@pytest.mark.parametrize("block", [1, 2, 3])
def test_block_minibatch_is_an_unbiased_estimate_of_the_dense_loss(block):
    """Exact expectation over every anchor a draw can pick (slow enumeration) against the dense weighted mean loss
    of Eq. 5, on a map whose class regions have ragged edges (squares cut by other classes and by the border)."""
    generator = torch.Generator().manual_seed(3)
    target = torch.full((9, 11), 255, dtype=torch.long)
    target[1:7, 0:5] = 0
    target[4:9, 6:11] = 1
    target[3, 2] = 1
    target[8, 0:3] = 2
    per_pixel_loss = torch.rand(9, 11, generator=generator, dtype=torch.float64)
    weights = torch.tensor([0.5, 1.5, 3.0], dtype=torch.float64)
    labelled = target != 255
    dense = (weights[target[labelled]] * per_pixel_loss[labelled]).sum() / weights[target[labelled]].sum()

    sampler = StratifiedPixelSampler(target, weights, per_step=36, generator=generator, block=block)
    expected = 0.0
    for c, (squares, square_weights) in enumerate(zip(sampler.squares, sampler.square_weights)):
        for anchor in range(len(squares)):  # each anchor is drawn sampler.anchors times out of n_c, on average
            contribution = (square_weights[anchor].double() * per_pixel_loss.reshape(-1)[squares[anchor]]).sum()
            expected += float(contribution) * sampler.anchors / len(squares)
    assert expected / sampler.normaliser == pytest.approx(float(dense), rel=1e-5)

    positions, draw_weights = sampler.draw()
    assert positions.shape == draw_weights.shape == sampler.labels.shape
    drawn = draw_weights > 0
    assert torch.equal(target.reshape(-1)[positions[drawn]], sampler.labels[drawn])  # only pixels of the drawn class


def test_single_pixel_draws_are_stratified_with_equal_class_totals():
    target = torch.full((6, 6), 255, dtype=torch.long)
    target[0, :] = 0
    target[5, :2] = 1
    sampler = StratifiedPixelSampler(target, torch.tensor([1.0, 3.0]), per_step=8,
                                     generator=torch.Generator().manual_seed(0))
    positions, weights = sampler.draw()
    assert sampler.labels.tolist() == [0] * 4 + [1] * 4
    assert torch.equal(target.reshape(-1)[positions], sampler.labels)
    torch.testing.assert_close(weights, torch.tensor([1.0 * 6 / 4] * 4 + [3.0 * 2 / 4] * 4))


def test_weighting_groups_train_their_class_with_their_own_weight():
    """Group 2 (e.g. the far background) trains class 0 with its own weight: the dense loss of one step equals the
    hand-computed weighted mean over pixels, and the sparse sampler labels its draws with class 0."""
    torch.manual_seed(0)
    features = torch.randn(1, 4, 6, 6)
    groups = torch.full((6, 6), 255, dtype=torch.long)
    groups[:, 0] = 0
    groups[:, 5] = 1
    groups[0, 1:5] = 2
    weights = torch.tensor([1.0, 2.0, 0.25])
    group_class = torch.tensor([0, 1, 0])
    net = LightweightSegNet(4, 2, width=4, context_conv="normal")
    with torch.no_grad():
        log_p = torch.log_softmax(net(features)[0], 0)
    labelled = groups != 255
    classes = group_class[groups[labelled]]
    pixel_weights = weights[groups[labelled]]
    expected = -(pixel_weights * log_p[:, labelled][classes, torch.arange(len(classes))]).sum() / pixel_weights.sum()
    losses = fit(net, features, groups, weights, steps=1, lr=0.0, momentum=0.0, group_class=group_class)
    assert losses[0] == pytest.approx(float(expected), rel=1e-5)

    sampler = StratifiedPixelSampler(groups, weights, per_step=12, block=1, group_class=group_class)
    positions, _ = sampler.draw()
    assert torch.equal(group_class[groups.reshape(-1)[positions]], sampler.labels)
    assert set(sampler.labels.tolist()) == {0, 1}
