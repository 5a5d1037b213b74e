"""SegmenterConfig's field declarations: every field declared, validation from the declared ranges and choices, the
paper's settings, and the command-line options generated from the declarations."""
from __future__ import annotations

import dataclasses
import math

import pytest

from gdc_core.cli import build_parser, config_from_args, config_options, option_name
from gdc_core.config import BASIC, EXPERT, NOT_IN_PAPER, Param, SegmenterConfig, params

DEFAULTS = SegmenterConfig()


def test_every_field_is_declared_once_with_a_label_and_help():
    declared = params()
    assert list(declared) == [f.name for f in dataclasses.fields(SegmenterConfig)]
    for name, param in declared.items():
        assert isinstance(param, Param) and param.label and param.help, name
        assert param.level in (BASIC, EXPERT, None), name
        if param.level == BASIC and not param.choices:  # a spin box needs a span within the valid range
            low, high = param.span
            for value in (low, high, getattr(DEFAULTS, name)):
                param.check(name, value)
            assert low <= getattr(DEFAULTS, name) <= high, name


@pytest.mark.parametrize("name", [n for n, p in params().items() if p.low is not None])
def test_the_declared_lower_bound_is_enforced(name):
    param = params()[name]
    kind = type(getattr(DEFAULTS, name))
    below = kind(param.low) - (1 if kind is int else 0.001)
    with pytest.raises(ValueError, match=f"^{name} must be"):
        DEFAULTS.replace(**{name: below})
    if param.above:
        with pytest.raises(ValueError, match=name):
            DEFAULTS.replace(**{name: kind(param.low)})
    else:
        assert getattr(DEFAULTS.replace(**{name: kind(param.low)}), name) == param.low
    if kind is float:
        with pytest.raises(ValueError, match=name):
            DEFAULTS.replace(**{name: math.nan})


def test_upper_bounds_and_choices_are_enforced():
    with pytest.raises(ValueError, match=r"momentum must be at least 0 and less than 1 \(got 1.0\)"):
        DEFAULTS.replace(momentum=1.0)
    assert DEFAULTS.replace(momentum=0.0).momentum == 0.0
    for name in ("class_weighting", "device", "superpixel_resolution", "context_conv", "refine"):
        with pytest.raises(ValueError, match="unknown"):
            DEFAULTS.replace(**{name: "bogus"})
    assert DEFAULTS.replace(context_conv="dilated:3", refine="snap+prior").refine == "snap+prior"


def test_papers_settings_are_sec_v_a_and_the_defaults_elsewhere():
    paper = SegmenterConfig.paper()
    # 50 steps, lr 0.01, 50 samples averaged, Σ 0.2, GDC, Eq. 6 as printed, SLIC on the input image, the loss on
    # every labelled pixel, every sample at every pixel, the network's own mask
    assert (paper.steps, paper.lr, paper.samples, paper.sigma, paper.context_conv, paper.class_weighting,
            paper.superpixel_resolution, paper.pixels_per_step, paper.settle_after, paper.refine) == \
        (50, 0.01, 50, 0.2, "gdc", "paper", "input", 0, 0, "none")
    unsaid = [name for name, param in params().items() if param.paper is NOT_IN_PAPER]
    assert "max_side" in unsaid and "momentum" in unsaid
    assert all(getattr(paper, name) == getattr(DEFAULTS, name) for name in unsaid)


def _other_value(name: str, param: Param):
    """A valid value of ``name`` other than its default, as the command line would take it."""
    default = getattr(DEFAULTS, name)
    if isinstance(default, bool):
        return True
    if param.choices:
        return next(choice for choice in param.choices if choice != default)
    return default + 1 if isinstance(default, int) else default / 2


def test_every_option_offered_on_the_command_line_sets_its_field():
    offered = config_options()
    assert {n for n, p in params().items() if p.level in (BASIC, EXPERT)} == set(offered)
    assert {"context_conv", "refine", "literal", "seed", "steps"} <= set(offered)
    for name, param in offered.items():
        value = _other_value(name, param)
        argv = ["segment", "in.png", "--scribbles", "s.png", "--out", "o.png", f"--{option_name(name, param)}"]
        argv += [] if value is True else [str(value)]
        config = config_from_args(build_parser().parse_args(argv))
        assert getattr(config, name) == value, argv
        assert config == DEFAULTS.replace(**{name: value})


def test_the_help_of_an_option_gives_the_default_and_the_papers_value(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["segment", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--conv CONV" in text and "--refine REFINE" in text
    assert "(default prior+grabcut+seeded+snap; paper: none)" in text
    assert "(default 400)" in text  # the working resolution: the paper gives none
