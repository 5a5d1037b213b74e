"""The malformed-input corpus (tests/malformed_corpus.py) through the library's loaders, ``gdc-seg segment`` and
``gdc-seg batch``: a result or one line with a reason (exit 2 / a FAILED line), never a traceback, never unbounded
memory, and good neighbours in a batch always processed."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gdc_core.backbone
from gdc_core.backbone import WEIGHTS_ENV
from gdc_core.cli import main
from gdc_core.io import MAX_PIXELS_ENV, ImageReadError, fit_name, fit_stem, read_image, read_label_map

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from malformed_corpus import EITHER, IMAGE, OK, REFUSED, SCRIBBLES, Case, cases  # noqa: E402

TINY = ["--steps", "2", "--samples", "2", "--pixels-per-step", "64", "--superpixel-resolution", "features",
        "--device", "cpu", "--refine", "none"]
CASES = cases()
CLASS_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception|Warning)\b|Traceback")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No weights variable and no torchvision cache or download: the untrained stem; the default pixel limit."""
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.delenv(MAX_PIXELS_ENV, raising=False)
    monkeypatch.setattr(gdc_core.backbone, "_torchvision_state", lambda allow_download: None)


def one_reason(text: str, path_name: str) -> None:
    """``text`` is one line that names the file and gives a reason without exception class names."""
    assert "\n" not in text.strip(), text
    assert path_name in text or os.fsencode(path_name).decode("utf-8", "replace") in text, text
    assert not CLASS_NAME.search(text), text


def test_the_corpus_is_deterministic_and_covers_every_class_of_the_issue():
    again = cases()
    assert [(c.name, c.image, c.scribbles) for c in again] == [(c.name, c.image, c.scribbles) for c in CASES]
    groups = {c.group for c in CASES}
    assert groups == {"bomb", "truncated", "corrupt", "garbage", "valid", "tiny", "scribbles", "names"}
    assert len(CASES) >= 300


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.encode("ascii", "backslashreplace").decode()[:60])
def test_loaders_return_an_array_or_refuse_with_a_reason(case: Case, tmp_path):
    image_path, scribbles_path = case.write(tmp_path)
    for path, read in ((image_path, read_image), (scribbles_path, read_label_map)):
        odd = (case.target == IMAGE) == (path == image_path)
        try:
            array = read(path)
        except ImageReadError as exc:
            one_reason(str(exc), path.name)
            assert odd, f"a good file refused: {exc}"
            continue
        assert array.dtype == np.uint8 and array.ndim in (2, 3)
        if odd and case.group in ("bomb", "garbage") and case.expect == REFUSED:
            pytest.fail(f"{path.name} was decoded ({array.shape}) instead of refused")
        if case.shape is not None and case.expect == OK:
            assert array.shape[:2] == case.shape


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.encode("ascii", "backslashreplace").decode()[:60])
def test_segment_writes_a_mask_or_exits_2_with_one_line(case: Case, tmp_path, capfdbinary):
    image_path, scribbles_path = case.write(tmp_path / "in")
    out = tmp_path / "out" / fit_name(case.name, ".png")
    status = main(["segment", str(image_path), "--scribbles", str(scribbles_path), "--out", str(out), *TINY])
    captured = capfdbinary.readouterr()
    err = os.fsdecode(captured.err)
    errors = [line for line in err.splitlines() if not line.startswith("WARNING:")]
    assert status in {OK: (0,), REFUSED: (2,), EITHER: (0, 2)}[case.expect], err
    if status == 0:
        assert not errors, err
        assert captured.out.count(b" -> ") == 1 and b": classes " in captured.out  # bytes: test_an_undecodable_...
        with Image.open(out) as mask:
            if case.shape is not None:
                assert (mask.height, mask.width) == case.shape
    else:
        assert len(errors) == 1 and errors[0].startswith("gdc-seg segment: error: "), err
        one_reason(errors[0], "")
        named = [p.name for p in (image_path, scribbles_path) if str(p) in errors[0]]
        odd = image_path if case.target == IMAGE else scribbles_path
        assert named == [odd.name] or (case.expect == EITHER and named), errors[0]  # a damaged image may decode to
        assert not out.exists()                                                     # another size than its strokes


def test_batch_processes_every_good_image_and_gives_each_bad_one_a_reason(tmp_path, capfdbinary):
    images, scribbles, out = tmp_path / "images", tmp_path / "scribbles", tmp_path / "masks"
    scribbles.mkdir(parents=True)
    good = [Case(f"good_{i}", "good", IMAGE, c.image, "png", c.scribbles, OK, c.shape)
            for i, c in enumerate([c for c in CASES if c.group == "valid" and c.image_suffix == "png"][:3])]
    chosen = [c for c in CASES if c.group != "valid"]  # every odd case once, the valid ones by their good copies
    everything = good[:1] + chosen[: len(chosen) // 2] + good[1:2] + chosen[len(chosen) // 2:] + good[2:]
    for case in everything:
        image_path, scribbles_path = case.write(images)
        scribbles_path.rename(scribbles / fit_name(Path(case.image_name).stem, ".png"))
    status = main(["batch", str(images), "--scribbles", str(scribbles), "--out", str(out), *TINY])
    raw = capfdbinary.readouterr()
    captured = type(raw)(os.fsdecode(raw.out), os.fsdecode(raw.err))
    assert status == 1, captured.err
    assert "Traceback" not in captured.err
    done = {p.stem for p in out.glob("*.png")}
    for case in good:
        assert case.name in done
    failed_lines = [line for line in captured.err.splitlines() if "FAILED" in line]
    listed = [case for case in everything if not case.image_name.startswith(".")]
    for case in everything:
        stem = Path(case.image_name).stem
        mine = [line for line in failed_lines if f"/{case.image_name}:" in line or f"/{case.scribbles_name}" in line
                or f"{stem}.png:" in line]
        if case.image_name.startswith("."):  # a hidden file is not an image to the batch, as in the app (workfiles.list_images)
            assert not mine and fit_name(stem, ".png")[:-4] not in done, case.name
        elif case.expect == OK:
            assert fit_name(stem, ".png")[:-4] in done, (case.name, mine)
        elif case.expect == REFUSED:
            assert len(mine) == 1 and fit_name(stem, ".png")[:-4] not in done, case.name
            one_reason(mine[0].split("FAILED ", 1)[1], "")
    summary = captured.out.strip().splitlines()[-1]
    assert f"{len(listed)} images: {len(done)} done, 0 skipped, {len(failed_lines)} failed" in summary


def test_pixel_limit_is_configurable(tmp_path, monkeypatch, capsys):
    case = next(c for c in CASES if c.name == "scribbles_noise_20_classes")
    image_path, scribbles_path = case.write(tmp_path)
    pixels = case.shape[0] * case.shape[1]
    arguments = ["segment", str(image_path), "--scribbles", str(scribbles_path), "--out", str(tmp_path / "m.png"),
                 *TINY]
    assert main([*arguments, "--max-pixels", str(pixels - 1)]) == 2
    assert "32x24 is 0.0 MP, above the limit of 0.000767 MP (set GDC_SEG_MAX_PIXELS or --max-pixels to raise it)" \
        in capsys.readouterr().err
    assert main([*arguments, "--max-pixels", str(pixels)]) == 0
    monkeypatch.setenv(MAX_PIXELS_ENV, str(pixels - 1))
    assert main(arguments) == 2
    monkeypatch.setenv(MAX_PIXELS_ENV, "lots")
    assert main(arguments) == 2
    assert f"{MAX_PIXELS_ENV}='lots'" in capsys.readouterr().err
    monkeypatch.setenv(MAX_PIXELS_ENV, "200000000")  # above Pillow's own bomb limit: ours decides, from the header
    bomb = next(c for c in CASES if c.name == "bomb_png_20000x20000_c2")
    bomb_path, _ = bomb.write(tmp_path)
    with pytest.raises(ImageReadError, match="20000x20000 is 400.0 MP, above the limit of 200 MP"):
        read_image(bomb_path)


def test_a_run_whose_classes_need_too_much_memory_is_refused(tmp_path, capsys):
    """400 x 400 with 255 classes in noise: within the pixel limit, but its estimate (full size 7 x 255 + 8 bytes a
    pixel, working size 35 bytes per class and pixel at 2 samples: 1.7 GB) exceeds the budget of a two-class run on
    the limit (43 bytes a pixel plus 2 classes x 400 x 400 x 35 bytes) until the limit is about 40 MP."""
    rng = np.random.default_rng(0)
    image_path, scribbles_path = tmp_path / "image.png", tmp_path / "scribbles.png"
    Image.fromarray(rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)).save(image_path)
    Image.fromarray(np.arange(400 * 400, dtype=np.int64).reshape(400, 400).astype(np.uint8) % 255).save(scribbles_path)
    needed = 400 * 400 * (7 * 255 + 8) + 255 * 400 * 400 * 35
    for limit, refused in ((400 * 400, True), (int((needed - 2 * 400 * 400 * 35) / 43) - 1, True)):
        status = main(["segment", str(image_path), "--scribbles", str(scribbles_path), "--out",
                       str(tmp_path / "m.png"), *TINY, "--max-pixels", str(limit)])
        err = capsys.readouterr().err
        assert status == 2 and "400x400 with 255 classes and 2 samples needs about 1.7 GB" in err, err
    from gdc_core.images import run_too_large

    assert run_too_large((400, 400), 255, 400, 2, int((needed - 2 * 400 * 400 * 35) / 43) + 1) is None
    # a 24 MP photo: 2 and 8 classes fit the default limit (measured 1.5 and 2.1 GB), 20 classes do not
    assert run_too_large((4000, 6000), 8, 400, 50, 50_000_000) is None
    assert "20 classes" in run_too_large((4000, 6000), 20, 400, 50, 50_000_000)
    assert run_too_large((6250, 8000), 2, 400, 50, 50_000_000) is None  # an image at the limit can be segmented


def test_derived_names_fit_and_keep_undecodable_bytes(tmp_path):
    odd = os.fsdecode(b"caf\xe9")
    assert fit_name(odd, "_mask.png") == odd + "_mask.png"  # fits: unchanged, bytes and all
    long = "é" * 200  # 400 bytes
    fitted = fit_name(long, "_scribbles.png")
    assert len(os.fsencode(fitted)) <= 255 and fitted.endswith("_scribbles.png") and fitted.startswith("é" * 100)
    assert fit_name(long + "x", "_scribbles.png") != fitted  # different long stems, different names
    assert fit_stem(long) + "_classes.json" == fit_name(fit_stem(long), "_classes.json")  # one stem for all files
    (tmp_path / fitted).write_bytes(b"")  # the file system takes it


def test_an_undecodable_file_name_is_printed_as_its_bytes(tmp_path, capfdbinary):
    case = next(c for c in CASES if c.name == os.fsdecode(b"caf\xe9_\xff\xfe"))
    image_path, scribbles_path = case.write(tmp_path)
    out = tmp_path / os.fsdecode(b"mask_\xe9.png")
    script = textwrap.dedent(f"""
        import sys, gdc_core.backbone
        gdc_core.backbone._torchvision_state = lambda allow_download: None
        from gdc_core.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    environment.pop(WEIGHTS_ENV, None)
    done = subprocess.run([sys.executable, "-c", script, "segment", os.fsencode(image_path), "--scribbles",
                           os.fsencode(scribbles_path), "--out", os.fsencode(out), *TINY],
                          capture_output=True, env=environment, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert done.stdout.startswith(os.fsencode(image_path) + b": classes 0,1")
    assert done.stdout.rstrip().endswith(os.fsencode(out))
    assert out.is_file()


def test_bombs_stay_within_3_gb_of_memory(tmp_path):
    """Every bomb and huge header in one process, capped at 3 GB of data: refused from the header, so the cap is
    never approached (before, a 0.7 KB JPEG declaring 30000x20000 took more than 8 GB)."""
    paths = []
    for case in (c for c in CASES if c.group == "bomb"):
        image_path, scribbles_path = case.write(tmp_path / "bombs")
        paths.append((str(image_path), str(scribbles_path)))
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_DATA, (3 << 30, 3 << 30))
        import gdc_core.backbone
        gdc_core.backbone._torchvision_state = lambda allow_download: None
        from gdc_core.cli import main
        statuses = [main(["segment", image, "--scribbles", scribbles, "--out", image + ".mask.png", "--device", "cpu"])
                    for image, scribbles in {paths!r}]
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(statuses.count(2), len(statuses), int(peak_mb))
    """)
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    environment.pop(WEIGHTS_ENV, None)
    environment.pop(MAX_PIXELS_ENV, None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    refused, total, peak_mb = map(int, done.stdout.split())
    assert refused == total == len(paths)
    assert peak_mb < 3 * 1024
    assert "Traceback" not in done.stderr


def overlay_reference(image: np.ndarray, labels: np.ndarray, palette: np.ndarray, alpha: float, skip) -> np.ndarray:
    """Pixel by pixel: the class colour blended over the image, the image alone where the label is in ``skip``."""
    out = np.empty((*labels.shape, 3), np.uint8)
    for y in range(labels.shape[0]):
        for x in range(labels.shape[1]):
            pixel = image[y, x, :3] if image.ndim == 3 else np.repeat(image[y, x], 3)
            if labels[y, x] in skip:
                out[y, x] = pixel
            else:
                mixed = pixel.astype(np.float32) * (1 - alpha) + palette[labels[y, x]].astype(np.float32) * alpha
                out[y, x] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out


@pytest.mark.parametrize("channels", [None, 3, 4])
def test_overlay_in_row_blocks_matches_a_pixel_loop(channels):
    from gdc_core.io import overlay, voc_palette

    rng = np.random.default_rng(3)
    shape = (23, 17) if channels is None else (23, 17, channels)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    labels = rng.choice(np.array([0, 1, 5, 255], np.uint8), (23, 17))
    palette = np.array([[10, 20, 30], [200, 100, 0]], np.uint8)
    colours = voc_palette()
    colours[:2] = palette
    for block_rows in (1, 5, 256):
        got = overlay(image, labels, palette, alpha=0.3, skip=(255, 5), block_rows=block_rows)
        assert np.array_equal(got, overlay_reference(image, labels, colours, 0.3, (255, 5)))


@pytest.mark.parametrize("block", [1, 2])
def test_a_class_without_pixels_is_left_out_of_an_unbiased_minibatch(block):
    """Class 1's strokes vanished at the network's size (almost every pixel one class): the sampler draws the other
    classes only, and the exact expectation over every anchor (slow enumeration) is still the dense weighted loss."""
    import torch

    from gdc_core.training import StratifiedPixelSampler

    generator = torch.Generator().manual_seed(5)
    target = torch.full((7, 9), 255, dtype=torch.long)
    target[0:5, 0:6] = 0
    target[5:7, 3:9] = 2
    per_pixel_loss = torch.rand(7, 9, generator=generator, dtype=torch.float64)
    weights = torch.tensor([0.5, 4.0, 2.0], dtype=torch.float64)
    labelled = target != 255
    dense = (weights[target[labelled]] * per_pixel_loss[labelled]).sum() / weights[target[labelled]].sum()
    sampler = StratifiedPixelSampler(target, weights, per_step=24, generator=generator, block=block)
    expected = 0.0
    for squares, square_weights in zip(sampler.squares, sampler.square_weights):
        for anchor in range(len(squares)):
            contribution = (square_weights[anchor].double() * per_pixel_loss.reshape(-1)[squares[anchor]]).sum()
            expected += float(contribution) * sampler.anchors / len(squares)
    assert expected / sampler.normaliser == pytest.approx(float(dense), rel=1e-5)
    assert set(sampler.labels.tolist()) == {0, 2}
    positions, draw_weights = sampler.draw()
    drawn = draw_weights > 0
    assert torch.equal(target.reshape(-1)[positions[drawn]], sampler.labels[drawn])
    with pytest.raises(ValueError, match="no labelled pixel"):
        StratifiedPixelSampler(torch.full((3, 3), 255, dtype=torch.long), weights, per_step=8, block=block)


def test_batch_finds_the_apps_autosave_of_a_long_named_image(tmp_path, capfdbinary):
    """The app saves ``<fit_stem(stem)>_scribbles.png`` into ``FOLDER/gdc-seg``; batch looks for the same name."""
    case = next(c for c in CASES if c.name == "n" * 246)
    images = tmp_path / "images"
    image_path, scribbles_path = case.write(images)
    (images / "gdc-seg").mkdir()
    saved = images / "gdc-seg" / f"{fit_stem(case.name)}_scribbles.png"
    scribbles_path.rename(saved)
    assert saved.name != f"{case.name}_scribbles.png" and len(saved.name) <= 255
    status = main(["batch", str(images), "--out", str(tmp_path / "masks"), *TINY])
    assert status == 0, capfdbinary.readouterr().err
    assert (tmp_path / "masks" / fit_name(case.name, ".png")).is_file()
