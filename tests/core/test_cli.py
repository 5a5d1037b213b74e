"""The headless command line, run in-process on tiny synthetic images (steps 3, samples 2)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gdc_core.backbone import WEIGHTS_ENV
from gdc_core.cli import build_parser, config_from_args, main
from tiny_run import TINY
from gdc_core.segmenter import Segmenter

SHAPE = (30, 40)  # (H, W)


pytestmark = pytest.mark.usefixtures("offline_stem")


def write_pair(folder: Path, stem: str = "photo", classes=(0, 3), shape=SHAPE,
               scribbles_dir: Path | None = None) -> tuple[Path, Path]:
    """A two-band RGB image ``folder/<stem>.png`` and scribbles with one stroke per class, as
    ``scribbles_dir/<stem>.png`` or else ``folder/<stem>_scribbles.png``: (image path, scribbles path)."""
    scribbles_path = scribbles_dir / f"{stem}.png" if scribbles_dir else folder / f"{stem}_scribbles.png"
    for parent in (folder, scribbles_path.parent):
        parent.mkdir(parents=True, exist_ok=True)
    height, width = shape
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[:, : width // 2] = (30, 40, 160)
    image[:, width // 2:] = (220, 200, 50)
    scribbles = np.full(shape, 255, dtype=np.uint8)
    for index, c in enumerate(classes):
        column = int((index + 0.5) * width / len(classes))
        scribbles[5:-5, column] = c
    image_path = folder / f"{stem}.png"
    Image.fromarray(image).save(image_path)
    Image.fromarray(scribbles, mode="L").save(scribbles_path)
    return image_path, scribbles_path


def leftovers(folder: Path) -> list[str]:
    """Temporary files an interrupted atomic write could leave behind."""
    return [p.name for p in folder.rglob("*.tmp")]


# --------------------------------------------------------------------------------------------- segment


def test_segment_round_trip(tmp_path, capsys):
    image, scribbles = write_pair(tmp_path)
    out, over, unc = tmp_path / "out" / "mask.png", tmp_path / "over.png", tmp_path / "unc.png"
    status = main(["segment", str(image), "--scribbles", str(scribbles), "--out", str(out), "--overlay", str(over),
                   "--uncertainty", str(unc), *TINY])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    with Image.open(out) as mask:
        assert mask.mode == "P" and mask.size == (SHAPE[1], SHAPE[0])
        assert mask.getpalette()[:6] == [0, 0, 0, 128, 0, 0]  # VOC colours embedded
        values = set(np.unique(np.asarray(mask)).tolist())
    assert values <= {0, 3}
    with Image.open(unc) as grey:
        assert grey.mode == "L" and grey.size == (SHAPE[1], SHAPE[0])
    with Image.open(over) as blended:
        assert blended.mode == "RGB" and blended.size == (SHAPE[1], SHAPE[0])
    assert "classes 0,3" in captured.out and "training" in captured.out and captured.out.count("\n") == 1
    assert "WARNING:" in captured.err  # no ImageNet weights here: said loudly


def test_segment_literal_with_imagenet_weights_has_no_warning(tmp_path, capsys, stem_weights):
    image, scribbles = write_pair(tmp_path)
    status = main(["segment", str(image), "--scribbles", str(scribbles), "--out", str(tmp_path / "m.png"),
                   "--backbone-weights", str(stem_weights), "--require-pretrained", "--literal", *TINY])
    assert status == 0 and "WARNING" not in capsys.readouterr().err


def test_weights_from_environment_variable(tmp_path, capsys, monkeypatch):
    image, scribbles = write_pair(tmp_path)
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "missing.pt"))
    status = main(["segment", str(image), "--scribbles", str(scribbles), "--out", str(tmp_path / "m.png"), *TINY])
    assert status == 2 and "missing.pt" in capsys.readouterr().err


def bad_input_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (segment argv, text the one-line error must contain)."""
    image, scribbles = write_pair(tmp_path)
    _, small = write_pair(tmp_path / "small", shape=(20, 20))
    one_class = tmp_path / "one_class.png"
    strokes = np.asarray(Image.open(scribbles))
    Image.fromarray(np.where(strokes == 3, 255, strokes).astype(np.uint8)).save(one_class)
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image")
    weights = tmp_path / "weights.pt"
    weights.write_bytes(b"garbage")

    def argv(img=image, scrib=scribbles, *extra):
        return ["segment", str(img), "--scribbles", str(scrib), "--out", str(tmp_path / "out" / "m.png"), *TINY,
                *extra]

    return {
        "missing image": (argv(tmp_path / "absent.png"), "absent.png"),
        "not an image": (argv(text_file), "notes.png"),
        "missing scribbles": (argv(image, tmp_path / "absent_scribbles.png"), "absent_scribbles.png"),
        "scribbles not a label map": (argv(image, text_file), "notes.png"),
        "scribbles of another size": (argv(image, small), small.name),
        "one class": (argv(image, one_class), "one_class.png"),
        "unknown device": (argv(image, scribbles, "--device", "tpu"), "--device"),
        "bad weights file": (argv(image, scribbles, "--backbone-weights", str(weights)), "weights.pt"),
        "no pretrained weights": (argv(image, scribbles, "--require-pretrained"), WEIGHTS_ENV),
        "unknown conv": (argv(image, scribbles, "--conv", "foo"), "foo"),
        "zero steps": (argv(image, scribbles, "--steps", "0"), "steps"),
        "negative sigma": (argv(image, scribbles, "--sigma", "-1"), "sigma"),
        "negative pixels per step": (argv(image, scribbles, "--pixels-per-step", "-5"), "pixels_per_step"),
        "zero slic iterations": (argv(image, scribbles, "--slic-iterations", "0"), "slic_iterations"),
        "steps not a number": (argv(image, scribbles, "--steps", "many"), "--steps"),
        "output over input": (["segment", str(image), "--scribbles", str(scribbles), "--out", str(scribbles)],
                              scribbles.name),
        "two outputs in one file": (argv(image, scribbles, "--overlay", str(tmp_path / "out" / "m.png")), "m.png"),
    }


@pytest.mark.parametrize("case", ["missing image", "not an image", "missing scribbles", "scribbles not a label map",
                                  "scribbles of another size", "one class", "unknown device", "bad weights file",
                                  "no pretrained weights", "unknown conv", "zero steps", "negative sigma",
                                  "zero slic iterations", "negative pixels per step",
                                  "steps not a number", "output over input", "two outputs in one file"])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, case):
    argv, named = bad_input_cases(tmp_path)[case]
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert named in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cuda_without_gpu_is_exit_2(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    image, scribbles = write_pair(tmp_path)
    status = main(["segment", str(image), "--scribbles", str(scribbles), "--out", str(tmp_path / "m.png"),
                   "--device", "cuda"])
    err = capsys.readouterr().err
    assert status == 2 and "cuda" in err and "Traceback" not in err


def test_ctrl_c_during_run_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    image, scribbles = write_pair(tmp_path)

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Segmenter, "run", interrupted)
    status = main(["segment", str(image), "--scribbles", str(scribbles), "--out", str(tmp_path / "out" / "m.png"),
                   *TINY])
    assert status == 130 and "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_ctrl_c_while_writing_leaves_nothing_half_written(tmp_path, capsys, monkeypatch):
    image, scribbles = write_pair(tmp_path)
    out = tmp_path / "out" / "m.png"

    def partial_save(self, target, *args, **kwargs):
        Path(target).write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", partial_save)
    status = main(["segment", str(image), "--scribbles", str(scribbles), "--out", str(out), *TINY])
    assert status == 130 and "Traceback" not in capsys.readouterr().err
    assert not out.exists() and leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------------- batch


def batch_folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """images/ with a (scribbled), b (scribbled, mask already there), c (no scribbles), d (corrupt, scribbled)."""
    images, scribbles, out = tmp_path / "images", tmp_path / "scribbles", tmp_path / "masks"
    for stem in ("a", "b", "d"):
        write_pair(images, stem, scribbles_dir=scribbles)
    write_pair(images, "c")[1].unlink()
    (images / "d.png").write_bytes(b"not a png")
    (images / "readme.txt").write_text("ignored: not an image suffix")
    out.mkdir()
    (out / "b.png").write_bytes(b"existing mask")
    return images, scribbles, out


def test_batch_skips_and_reports(tmp_path, capsys):
    images, scribbles, out = batch_folders(tmp_path)
    status = main(["batch", str(images), "--scribbles", str(scribbles), "--out", str(out),
                   "--uncertainty", str(tmp_path / "unc"), *TINY])
    captured = capsys.readouterr()
    assert status == 1  # one image failed
    assert "4 images: 1 done, 2 skipped, 1 failed" in captured.out
    assert "b.png: skipped, mask exists" in captured.err
    assert "c.png: skipped, no scribbles" in captured.err
    assert "FAILED" in captured.err and "d.png" in captured.err and "Traceback" not in captured.err
    assert "4/4" in captured.err  # the progress bar reached the end
    with Image.open(out / "a.png") as mask:
        assert mask.mode == "P" and mask.size == (SHAPE[1], SHAPE[0])
    assert (tmp_path / "unc" / "a.png").is_file()
    assert (out / "b.png").read_bytes() == b"existing mask"
    assert not (out / "d.png").exists() and leftovers(tmp_path) == []

    assert main(["batch", str(images), "--scribbles", str(scribbles), "--out", str(out), *TINY]) == 1
    assert "0 done, 3 skipped, 1 failed" in capsys.readouterr().out  # a is now done: skipped on the rerun


def test_batch_reads_the_apps_autosaved_scribbles_by_default(tmp_path, capsys):
    images = tmp_path / "images"
    write_pair(images, "a", scribbles_dir=images / "gdc-seg")
    (images / "gdc-seg" / "a.png").rename(images / "gdc-seg" / "a_scribbles.png")  # the app's sidecar name
    out = tmp_path / "masks"
    assert main(["batch", str(images), "--out", str(out), *TINY]) == 0
    assert "1 done" in capsys.readouterr().out
    with Image.open(out / "a.png") as mask:
        assert mask.mode == "P"


def test_batch_bad_folders_are_exit_2(tmp_path, capsys):
    status = main(["batch", str(tmp_path / "nowhere"), "--scribbles", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2 and "nowhere" in err and "Traceback" not in err
    images, scribbles, _ = batch_folders(tmp_path)
    assert main(["batch", str(images), "--scribbles", str(scribbles), "--out", str(scribbles)]) == 2
    assert "scribbles: output would overwrite" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------- eval


def eval_folder(tmp_path: Path) -> Path:
    """A tiny evaluation folder: two scribbled images, one with a single scribbled class, one without strokes."""
    root = tmp_path / "data"
    (root / "gt").mkdir(parents=True)
    gt = np.zeros(SHAPE, np.uint8)
    gt[:, SHAPE[1] // 2:] = 1
    gt[:, SHAPE[1] // 2 - 1] = 255
    for stem, classes in (("p1", (0, 1)), ("p2", (0, 1)), ("p3", (0,)), ("p4", (0,))):
        write_pair(root / "images", stem, classes, scribbles_dir=root / "scribbles")
        Image.fromarray(gt).save(root / "gt" / f"{stem}.png")
    Image.fromarray(np.full(SHAPE, 255, np.uint8)).save(root / "scribbles" / "p4.png")  # no strokes at all
    return root


@pytest.mark.parametrize("method", ["gdc", "watershed"])
def test_eval_json(tmp_path, capsys, method):
    status = main(["eval", str(eval_folder(tmp_path)), "--method", method, "--json", *TINY])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out)
    for key in ("miou", "pixel_accuracy", "mean_fg_iou", "seconds_per_image", "per_class_iou", "timings",
                "images", "config"):
        assert key in report
    for key in ("miou", "pixel_accuracy", "mean_fg_iou"):
        assert 0.0 <= report[key] <= 1.0
    assert report["scored"] == 3 and report["failed"] == 1
    assert [r["status"] for r in report["images"]] == ["scored", "scored", "scored", "failed"]
    assert "p4.png" in report["images"][3]["error"]
    assert report["config"]["method"] == method and report["seconds_per_image"] > 0
    if method == "gdc":
        assert report["config"]["pixels_per_step"] == 64 and report["config"]["steps"] == 3
    assert set(report["per_class_iou"]) == {"0", "1"}


def test_eval_table_and_limit(tmp_path, capsys):
    status = main(["eval", str(eval_folder(tmp_path)), "--method", "grabcut", "--limit", "2"])
    out = capsys.readouterr().out
    assert status == 0
    assert "images: 2 scored, 0 failed" in out
    for label in ("mIoU", "pixel accuracy", "mean fg IoU", "seconds per image", "mean stage times"):
        assert label in out


def test_eval_table_names_the_options_that_reproduce_the_run(tmp_path, capsys):
    given = [*TINY, "--conv", "dilated:3", "--refine", "none", "--literal", "--seed", "5"]
    assert main(["eval", str(eval_folder(tmp_path)), "--limit", "1", *given]) == 0
    options = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("options: "))
    argv = ["segment", "x.png", "--scribbles", "s.png", "--out", "o.png", *options.split()[1:], "--device", "cpu"]
    assert config_from_args(build_parser().parse_args(argv)) == \
        config_from_args(build_parser().parse_args(["segment", "x.png", "--scribbles", "s.png", "--out", "o.png",
                                                    *given]))


def test_eval_bad_folder_and_limit_are_exit_2(tmp_path, capsys):
    assert main(["eval", str(tmp_path)]) == 2
    assert "images" in capsys.readouterr().err
    assert main(["eval", str(eval_folder(tmp_path)), "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err
