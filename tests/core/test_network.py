"""The lightweight network, its context branches and the frozen stem."""
import pytest
import torch

from gdc_core.backbone import FilterBankStem, MobileNetV2Stem, choose_stem, read_weights_file, BackboneWeightsError
from gdc_core.inference import monte_carlo
from oracles import monte_carlo_reference
from gdc_core.network import LightweightSegNet
from gdc_core.gdc import tap_indices


@pytest.mark.parametrize("conv", ["gdc", "normal", "dilated:6", "deformable", "uniform"])
def test_every_context_conv_trains(conv):
    torch.manual_seed(0)
    net = LightweightSegNet(40, 3, width=8, context_conv=conv)
    features = torch.randn(1, 40, 12, 14)
    logits = net(features)
    assert logits.shape == (1, 3, 12, 14)
    logits.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_unknown_conv_is_rejected():
    with pytest.raises(ValueError, match="unknown context conv"):
        LightweightSegNet(40, 2, context_conv="fancy")


def test_stem_receives_no_gradient_and_has_paper_shapes():
    stem = MobileNetV2Stem()
    image = torch.rand(1, 3, 31, 45, requires_grad=True)
    features = stem(image)
    assert features.shape == (1, 40, 16, 23)
    assert not any(p.requires_grad for p in stem.parameters())
    net = LightweightSegNet(40, 2, width=8)
    net(features).sum().backward()
    assert all(p.grad is None for p in stem.parameters())
    stem.train()
    assert not stem.training, "the stem's batch norm stays in eval mode"


def test_monte_carlo_batched_equals_one_pass_per_sample():
    torch.manual_seed(1)
    net = LightweightSegNet(40, 3, width=8)
    features = torch.randn(1, 40, 10, 12)
    net.set_generator(torch.Generator().manual_seed(5))
    fast_mean, fast_disagree = monte_carlo(net, features, 6, chunk=1)
    net.set_generator(torch.Generator().manual_seed(5))
    ref_mean, ref_disagree = monte_carlo_reference(net, features, 6)
    torch.testing.assert_close(fast_mean, ref_mean)
    torch.testing.assert_close(fast_disagree, ref_disagree)


def test_deterministic_branch_has_zero_uncertainty():
    net = LightweightSegNet(40, 2, width=8, context_conv="dilated:2")
    mean, disagree = monte_carlo(net, torch.randn(1, 40, 8, 8), 5)
    assert torch.all(disagree == 0)
    torch.testing.assert_close(mean.sum(0), torch.ones(8, 8))


def test_weights_files_full_and_stem_only_load(tmp_path):
    from torchvision.models import mobilenet_v2

    full = mobilenet_v2(weights=None).state_dict()
    torch.save(full, tmp_path / "full.pt")
    torch.save({k: v for k, v in full.items() if k.startswith(("features.0.", "features.1.", "features.2.", "features.3."))},
               tmp_path / "stem.pt")
    a = choose_stem(tmp_path / "full.pt", allow_download=False)
    b = choose_stem(tmp_path / "stem.pt", allow_download=False)
    assert a.pretrained and b.pretrained and a.warning is None
    image = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(a.stem(image), b.stem(image))


def test_bad_weights_files_are_errors(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(BackboneWeightsError, match="junk.pt"):
        read_weights_file(tmp_path / "junk.pt")
    with pytest.raises(BackboneWeightsError, match="not found"):
        choose_stem(tmp_path / "missing.pt")
    torch.save({"foo": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(BackboneWeightsError, match="not a MobileNetV2"):
        read_weights_file(tmp_path / "other.pt")


def test_no_weights_falls_back_loudly(monkeypatch, tmp_path):
    monkeypatch.delenv("GDC_SEG_BACKBONE_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    choice = choose_stem(None, allow_download=False)
    assert not choice.pretrained and isinstance(choice.stem, FilterBankStem)
    assert "No ImageNet MobileNetV2 weights" in choice.warning
    with pytest.raises(BackboneWeightsError):
        choose_stem(None, allow_download=False, require_pretrained=True)
    features = choice.stem(torch.rand(1, 3, 21, 30))
    assert features.shape == (1, FilterBankStem.out_channels, 11, 15)


def test_env_variable_names_the_weights(monkeypatch, stem_weights):
    monkeypatch.setenv("GDC_SEG_BACKBONE_WEIGHTS", str(stem_weights))
    choice = choose_stem(None, allow_download=False)
    assert choice.pretrained and choice.source == str(stem_weights)


def test_imagenet_full_weights_classify_the_sample_cat(stem_weights):
    full = stem_weights.parent / "mobilenet_v2_imagenet_full.pt"
    if not full.is_file():
        pytest.skip("full weights not available")
    from torchvision.models import mobilenet_v2
    from gdc_core.io import read_image
    from pathlib import Path
    import numpy as np

    model = mobilenet_v2(weights=None)
    model.load_state_dict(torch.load(full, weights_only=True))
    model.eval()
    image = read_image(Path(__file__).resolve().parents[2] / "resources" / "sample.png")
    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div(255).unsqueeze(0)
    x = torch.nn.functional.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
    x = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    assert 281 <= int(model(x).argmax()) <= 285  # ImageNet's domestic cat classes
    stem = choose_stem(stem_weights).stem
    expected = model.features[0:2](x)
    torch.testing.assert_close(stem(torch.nn.functional.interpolate(
        torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div(255).unsqueeze(0),
        size=(224, 224), mode="bilinear", align_corners=False))[:, :16], expected)


@pytest.mark.parametrize("conv", ["gdc", "uniform", "normal", "dilated:3"])
def test_sparse_forward_equals_dense_at_the_chosen_positions(conv, monkeypatch):
    torch.manual_seed(2)
    net = LightweightSegNet(6, 3, width=5, context_conv=conv)
    features = torch.randn(1, 6, 9, 11)
    positions = torch.tensor([0, 5, 10, 11, 50, 60, 98, 87, 44])  # corners and edges included
    if net.is_stochastic:
        offsets = net.context.sample_offsets(1, 9, 11)
        monkeypatch.setattr(net.context, "sources_at", lambda pos, h, w: tap_indices(offsets)[0].t()[pos])
        dense = net.head(torch.relu(net.local(net.trunk(features))),
                         torch.relu(net.context(net.trunk(features), offsets)))
    else:
        dense = net(features)
    sparse = net.forward_at(features, positions)
    expected = dense[0].reshape(3, -1)[:, positions].t()
    torch.testing.assert_close(sparse, expected, rtol=1e-5, atol=1e-5)
    # and the same gradients for every weight: the sparse pass fuses each touched row once, padding rows are zero
    upstream = torch.randn(expected.shape, generator=torch.Generator().manual_seed(0))
    dense_grads = torch.autograd.grad((expected * upstream).sum(), list(net.parameters()))
    sparse_grads = torch.autograd.grad((sparse * upstream).sum(), list(net.parameters()))
    for got, want in zip(sparse_grads, dense_grads):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_split_classifier_sampling_equals_plain_passes():
    torch.manual_seed(3)
    net = LightweightSegNet(6, 2, width=5, context_conv="normal")
    features = torch.randn(1, 6, 7, 8)
    first = net.sampler(features).dense(1)
    torch.testing.assert_close(first[0], torch.softmax(net(features)[0], 0))
    positions = torch.tensor([0, 7, 30, 55])
    torch.testing.assert_close(net.sampler(features).at(positions, 2)[1], first[0].reshape(2, -1)[:, positions])


def test_sampling_at_positions_equals_dense_pass_for_the_same_offsets(monkeypatch):
    torch.manual_seed(4)
    net = LightweightSegNet(6, 3, width=5)
    features = torch.randn(1, 6, 9, 11)
    offsets = net.context.sample_offsets(1, 9, 11)
    net.eval()
    with torch.no_grad():
        fused = net.trunk(features)
        dense = torch.softmax(net.head(torch.relu(net.local(fused)), torch.relu(net.context(fused, offsets))), 1)
    monkeypatch.setattr(net.context, "sources_at", lambda pos, h, w: tap_indices(offsets)[0].t()[pos])
    positions = torch.tensor([0, 5, 10, 11, 50, 60, 98, 87, 44, 45])  # corners, edges and neighbours
    sparse = net.sampler(features).at(positions, 1)
    torch.testing.assert_close(sparse[0], dense[0].reshape(3, -1)[:, positions], rtol=1e-5, atol=1e-6)


class _ScriptedPasses:
    """Stands in for StochasticPasses: pass i is ``maps[i]`` (n, K, h, w), wherever it is evaluated."""

    def __init__(self, maps):
        self.maps, self.next, self.evaluated = maps, 0, []

    def dense(self, count):
        self.next += count
        return self.maps[self.next - count:self.next]

    def at(self, positions, count):
        self.evaluated.append(positions.clone())
        self.next += count
        chosen = self.maps[self.next - count:self.next]
        return chosen.reshape(count, chosen.shape[1], -1)[:, :, positions]


def test_settled_pixels_keep_their_first_passes_and_the_rest_get_all():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 3, 6, 7, generator=g) * 4 + torch.randn(12, 3, 6, 7, generator=g)
    maps = torch.softmax(logits, dim=1)
    scripted = _ScriptedPasses(maps)
    net = LightweightSegNet(6, 3, width=4)
    net.sampler = lambda features: scripted
    mean, disagree = monte_carlo(net, torch.zeros(1, 6, 6, 7), 12, chunk=2, settle_after=4)

    first_winners = maps[:4].argmax(1)
    settled = (first_winners == first_winners[0]).all(0)
    assert 0 < settled.sum() < settled.numel(), "the case must have both kinds of pixels"
    expected = torch.where(settled, maps[:4].mean(0), maps.mean(0))
    torch.testing.assert_close(mean, expected)
    decision = expected.argmax(0)
    expected_disagree = torch.where(settled, torch.zeros(()),
                                    (maps.argmax(1) != decision).float().mean(0))
    torch.testing.assert_close(disagree, expected_disagree)
    assert all(torch.equal(p, torch.nonzero(~settled.reshape(-1)).squeeze(1)) for p in scripted.evaluated)


def test_adaptive_sampling_keeps_the_decision_of_full_sampling():
    torch.manual_seed(5)
    net = LightweightSegNet(6, 2, width=6, sigma=0.3)
    features = torch.randn(1, 6, 30, 40)
    net.set_generator(torch.Generator().manual_seed(0))
    full, _ = monte_carlo(net, features, 50, settle_after=0)
    net.set_generator(torch.Generator().manual_seed(1))
    adaptive, _ = monte_carlo(net, features, 50, settle_after=10)
    net.set_generator(torch.Generator().manual_seed(2))
    other_seed, _ = monte_carlo(net, features, 50, settle_after=0)
    changed = (adaptive.argmax(0) != full.argmax(0)).float().mean()
    natural = (other_seed.argmax(0) != full.argmax(0)).float().mean()
    assert changed <= natural + 0.01


def test_gather_rows_matches_indexing_and_its_gradient():
    from gdc_core.network import gather_rows

    g = torch.Generator().manual_seed(6)
    table = torch.randn(7, 3, generator=g, dtype=torch.float64, requires_grad=True)
    index = torch.tensor([[0, 6, 6], [2, 2, 2], [5, 0, 1]])
    torch.testing.assert_close(gather_rows(table, index), table[index])
    assert torch.autograd.gradcheck(lambda t: gather_rows(t, index), (table,))
    other = torch.tensor([6, 6, 3, 0])  # several indices: one output each, their gradients summed into the table
    first, second = gather_rows(table, index, other)
    torch.testing.assert_close(second, table[other])
    assert torch.autograd.gradcheck(lambda t: gather_rows(t, index, other), (table,))


def test_unique_indices_equals_torch_unique():
    from gdc_core.network import unique_indices

    generator = torch.Generator().manual_seed(4)
    for shape, size in [((7, 18), 30), ((1000,), 5000), ((3, 9), 1)]:
        index = torch.randint(0, size, shape, generator=generator)
        values, inverse = unique_indices(index, size)
        want_values, want_inverse = torch.unique(index, return_inverse=True)
        assert torch.equal(values, want_values) and torch.equal(inverse, want_inverse)


def test_first_argmax_equals_torch_argmax_ties_included():
    from gdc_core.inference import _first_argmax

    generator = torch.Generator().manual_seed(5)
    for classes in (2, 3, 21):
        values = torch.rand(classes, 500, generator=generator)
        values[:, :50] = 0.25  # all tied: the first class
        values[1:, 50:60] = 2.0  # classes 1.. tied on top: class 1
        assert torch.equal(_first_argmax(values), values.argmax(0))
