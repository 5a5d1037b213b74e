"""The GDC layer against its loop reference, its gradients, and the statistics of its offsets."""
import math

import pytest
import torch

from gdc_core.gdc import (
    CENTRE_TAP, TAP_DIRECTIONS, GaussianDynamicConv2d, GaussianDynamicPyramidPooling,
    VariantGaussianDynamicConv2d, gdc_conv2d, sample_offsets,
)
from oracles import gdc_conv2d_reference


def _case(seed=0, batch=2, channels=3, out=4, height=7, width=9, sigma=0.3, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, channels, height, width, generator=g, dtype=dtype)
    w = torch.randn(out, channels, 3, 3, generator=g, dtype=dtype)
    b = torch.randn(out, generator=g, dtype=dtype)
    offsets = sample_offsets(batch, height, width, sigma, generator=g)
    return x, w, b, offsets


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_gdc_equals_loop_reference(seed):
    x, w, b, offsets = _case(seed)
    torch.testing.assert_close(gdc_conv2d(x, w, b, offsets), gdc_conv2d_reference(x, w, b, offsets))


def test_shared_offsets_broadcast_over_batch():
    x, w, b, offsets = _case(3)
    one = offsets[:1]
    torch.testing.assert_close(gdc_conv2d(x, w, None, one), gdc_conv2d_reference(x, w, None, one))


def test_zero_offsets_is_a_pointwise_conv_with_summed_taps():
    x, w, b, _ = _case(4)
    zero = torch.zeros(x.shape[0], 9, 2, x.shape[2], x.shape[3], dtype=torch.long)
    expected = torch.nn.functional.conv2d(x, w.sum(dim=(2, 3), keepdim=True), b)
    torch.testing.assert_close(gdc_conv2d(x, w, b, zero), expected)


def test_unit_offsets_equal_normal_conv_inside_the_map():
    x, w, b, _ = _case(5, height=8, width=8)
    unit = TAP_DIRECTIONS.view(1, 9, 2, 1, 1).expand(x.shape[0], 9, 2, 8, 8)
    normal = torch.nn.functional.conv2d(x, w, b, padding=1)
    fast = gdc_conv2d(x, w, b, unit)
    # Borders differ: the GDC clamps (replicates edge pixels) where a normal conv pads with zeros.
    torch.testing.assert_close(fast[..., 1:-1, 1:-1], normal[..., 1:-1, 1:-1])


def test_gradcheck_float64():
    x, w, b, offsets = _case(6, batch=1, channels=2, out=2, height=4, width=5, dtype=torch.float64)
    x.requires_grad_(True)
    w.requires_grad_(True)
    b.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x, w, b: gdc_conv2d(x, w, b, offsets), (x, w, b))


def test_offsets_half_normal_statistics_and_signs():
    sigma, height, width = 0.2, 200, 300
    g = torch.Generator().manual_seed(0)
    offsets = sample_offsets(4, height, width, sigma, generator=g)
    assert offsets.dtype == torch.long and offsets.shape == (4, 9, 2, height, width)
    assert torch.all(offsets[:, CENTRE_TAP] == 0)
    for tap in range(9):
        for axis, size in ((0, height), (1, width)):
            direction = int(TAP_DIRECTIONS[tap, axis])
            values = offsets[:, tap, axis].double()
            if direction == 0:
                assert torch.all(values == 0)
                continue
            assert torch.all(values * direction >= 0), "offsets must point along the tap's direction"
            magnitude = values.abs() / size
            # |N(0, s)| has mean s*sqrt(2/pi) and second moment s^2; truncation to whole pixels lowers the mean
            # by about half a pixel.
            expected_mean = sigma * math.sqrt(2 / math.pi) - 0.5 / size
            assert magnitude.mean().item() == pytest.approx(expected_mean, rel=0.03)
            assert (magnitude.pow(2).mean().sqrt()).item() == pytest.approx(sigma, rel=0.03)


def test_offsets_are_reproducible_with_a_generator_and_fresh_every_pass():
    layer = GaussianDynamicConv2d(3, 4)
    x = torch.randn(1, 3, 16, 16)
    layer.generator = torch.Generator().manual_seed(7)
    first, second = layer(x), layer(x)
    assert not torch.allclose(first, second), "fresh offsets every forward pass"
    layer.generator = torch.Generator().manual_seed(7)
    torch.testing.assert_close(layer(x), first)
    layer.eval()
    assert not torch.allclose(layer(x), layer(x)), "still stochastic in eval mode (Monte-Carlo sampling)"


def test_uniform_law_spreads_over_the_map():
    g = torch.Generator().manual_seed(0)
    offsets = sample_offsets(2, 100, 100, 0.2, law="uniform", generator=g)
    magnitude = offsets[:, 0].abs().double() / 100  # the (-1, -1) tap moves on both axes
    assert magnitude.mean().item() == pytest.approx(0.5 - 0.005, abs=0.01)
    with pytest.raises(ValueError):
        sample_offsets(1, 4, 4, 0.2, law="cauchy")


def test_variant_gdc_degenerates_to_dilated_conv_in_eval_and_varies_in_training():
    layer = VariantGaussianDynamicConv2d(3, 4, base_dilation=2, sigma=2.0)
    x = torch.randn(1, 3, 20, 20)
    layer.eval()
    dilated = torch.nn.functional.conv2d(x, layer.weight, None, padding=2, dilation=2)
    torch.testing.assert_close(layer(x), dilated)
    layer.train()
    layer.generator = torch.Generator().manual_seed(0)
    dilations = {layer.current_dilation() for _ in range(50)}
    assert len(dilations) > 1 and all(dy >= 2 and dx >= 2 for dy, dx in dilations)


def test_gdpp_parameter_count_matches_table_v_order():
    from torchvision.models.segmentation.deeplabv3 import ASPP

    gdpp = GaussianDynamicPyramidPooling(320, 256)
    count = sum(p.numel() for p in gdpp.parameters())
    aspp = sum(p.numel() for p in ASPP(320, [6, 12, 18], 256).parameters())
    assert 4.5e5 < count < 7.5e5, count  # paper: 5.9e5
    assert count / aspp < 0.3  # paper: 5.9e5 against 33.6e5 (ASPP plus its head)
    out = gdpp(torch.randn(2, 320, 33, 33))
    assert out.shape == (2, 256, 33, 33)


def test_projected_gather_equals_reference_for_many_samples():
    from gdc_core.gdc import gather_projected, project_taps, tap_indices

    x, w, b, _ = _case(8, batch=1)
    offsets = sample_offsets(4, x.shape[2], x.shape[3], 0.3, generator=torch.Generator().manual_seed(1))
    sources = tap_indices(offsets).transpose(1, 2)
    fast = gather_projected(project_taps(x, w), sources, b, x.shape[2], x.shape[3])
    expected = torch.cat([gdc_conv2d_reference(x, w, b, offsets[i:i + 1]) for i in range(4)])
    torch.testing.assert_close(fast, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("law", ["gaussian", "uniform"])
def test_sources_are_the_clamped_taps_of_the_same_draw(law):
    from gdc_core.gdc import sample_sources, tap_indices

    offsets = sample_offsets(3, 13, 17, 0.3, law=law, generator=torch.Generator().manual_seed(4))
    sources = sample_sources(3, 13, 17, 0.3, law=law, generator=torch.Generator().manual_seed(4))
    assert sources.shape == (3, 13 * 17, 9)
    torch.testing.assert_close(sources, tap_indices(offsets).transpose(1, 2))


@pytest.mark.parametrize("law", ["gaussian", "uniform"])
def test_sources_at_positions_are_the_clamped_taps_of_the_same_draw(law):
    from gdc_core.gdc import displaced_sources, sample_offsets_at, sample_sources_at

    positions = torch.tensor([0, 16, 17, 100, 220, 110, 5, 5])  # corners, edges, a repeat
    fast = sample_sources_at(positions, 13, 17, 0.4, law=law, generator=torch.Generator().manual_seed(6))
    offsets = sample_offsets_at(len(positions), 13, 17, 0.4, law=law, generator=torch.Generator().manual_seed(6))
    assert fast.dtype == torch.long
    torch.testing.assert_close(fast, displaced_sources(positions, offsets, 13, 17))


def test_sparse_offsets_follow_the_same_law():
    from gdc_core.gdc import sample_offsets_at

    g = torch.Generator().manual_seed(0)
    sparse = sample_offsets_at(40000, 200, 300, 0.2, generator=g)
    assert torch.all(sparse[:, CENTRE_TAP] == 0)
    for tap in range(9):
        for axis, size in ((0, 200), (1, 300)):
            direction = int(TAP_DIRECTIONS[tap, axis])
            values = sparse[:, tap, axis].double()
            if direction == 0:
                assert torch.all(values == 0)
                continue
            assert torch.all(values * direction >= 0)
            assert (values.abs() / size).pow(2).mean().sqrt().item() == pytest.approx(0.2, rel=0.03)
