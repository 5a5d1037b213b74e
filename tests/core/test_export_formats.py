"""Dataset formats (``gdc_core.export``), each read back by its reference reader: COCO through pycocotools,
YOLO polygons parsed and rasterised here, probabilities through numpy; and the batch's ``--format``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from gdc_core import export
from gdc_core.cli import main
from gdc_core.io import write_label_map

from test_cli import TINY, write_pair

mask_utils = pytest.importorskip("pycocotools.mask")
from pycocotools.coco import COCO  # noqa: E402


pytestmark = pytest.mark.usefixtures("offline_stem")


def scene(seed: int = 0, shape=(60, 80)) -> np.ndarray:
    """Background 0; class 1 a ring (a disc with a hole of background); class 4 two rectangles apart; a void
    (255) band; random speckles of class 2 (seeded)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, np.uint8)
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    radius = np.hypot(rows - 30, cols - 25)
    labels[(radius < 16) & (radius >= 6)] = 1
    labels[5:20, 50:75] = 4
    labels[40:55, 60:78] = 4
    labels[:, :2] = 255
    speckles = rng.random(shape) < 0.01
    labels[speckles & (labels == 0)] = 2
    return labels


def bbox_reference(region: np.ndarray) -> list[int]:
    """[x, y, w, h] by looking at every pixel."""
    xs, ys = [], []
    for y in range(region.shape[0]):
        for x in range(region.shape[1]):
            if region[y, x]:
                xs.append(x)
                ys.append(y)
    return [min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1]


def components_reference(region: np.ndarray) -> int:
    """8-connected regions of a bool map, by flood fill."""
    seen = np.zeros_like(region)
    count = 0
    for start in zip(*np.nonzero(region)):
        if seen[start]:
            continue
        count += 1
        stack = [start]
        seen[start] = True
        while stack:
            y, x = stack.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < region.shape[0] and 0 <= nx < region.shape[1] and region[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
    return count


@pytest.mark.parametrize("instances", [False, True])
def test_coco_round_trips_through_pycocotools(tmp_path, instances):
    masks = [("first.jpg", scene(0)), ("second.png", scene(1)), ("empty.png", np.zeros((20, 30), np.uint8))]
    path = tmp_path / "coco.json"
    export.write_json(path, export.coco_document(masks, {1: "ring", 4: "boxes"}, instances=instances))
    coco = COCO(str(path))
    assert [coco.imgs[i]["file_name"] for i in sorted(coco.imgs)] == ["first.jpg", "second.png", "empty.png"]
    assert {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())} == {1: "ring", 2: "class 2", 4: "boxes"}
    for image_id, (_, labels) in enumerate(masks, start=1):
        info = coco.imgs[image_id]
        assert (info["height"], info["width"]) == labels.shape
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
        for class_id in (1, 2, 4):
            region = labels == class_id
            mine = [a for a in annotations if a["category_id"] == class_id]
            if not region.any():
                assert not mine
                continue
            rebuilt = np.zeros(labels.shape, bool)
            for annotation in mine:
                part = coco.annToMask(annotation).astype(bool)
                assert not (rebuilt & part).any()  # instances do not overlap
                assert annotation["area"] == part.sum() == mask_utils.area(annotation["segmentation"])
                assert annotation["bbox"] == bbox_reference(part)
                rebuilt |= part
            assert np.array_equal(rebuilt, region)
            assert len(mine) == (components_reference(region) if instances else 1)
        assert not any(a["category_id"] in (0, 255) for a in annotations)


def rasterise_yolo(text: str, shape: tuple[int, int]) -> np.ndarray:
    """Read a YOLO segmentation label file as its users do: ``class x1 y1 ...`` fractions of width and height,
    each polygon filled (PIL), later lines on top."""
    height, width = shape
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for line in text.splitlines():
        class_id, *values = line.split()
        points = [(float(x) * width, float(y) * height) for x, y in zip(values[::2], values[1::2])]
        draw.polygon(points, fill=int(class_id), outline=int(class_id))
    return np.asarray(canvas)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return (a & b).sum() / (a | b).sum()


def test_yolo_polygons_round_trip_by_rasterising(tmp_path):
    labels = scene(0)
    labels[labels == 2] = 0  # single-pixel speckles have no polygon of 3 points
    path = tmp_path / "first.txt"
    export.write_yolo(path, labels)
    text = path.read_text(encoding="ascii")
    lines = text.splitlines()
    assert sorted({line.split()[0] for line in lines}) == ["1", "4"]  # background and void are not objects
    assert sum(line.startswith("4 ") for line in lines) == 2  # one polygon per region
    for line in lines:
        values = [float(v) for v in line.split()[1:]]
        assert len(values) % 2 == 0 and len(values) >= 6 and all(0 <= v <= 1 for v in values)
    drawn = rasterise_yolo(text, labels.shape)
    assert iou(drawn == 4, labels == 4) > 0.97
    ring_filled = np.hypot(*(np.mgrid[:60, :80] - np.array([30, 25])[:, None, None])) < 16  # YOLO has no holes
    assert iou(drawn == 1, ring_filled) > 0.95
    assert export.yolo_text(np.zeros((5, 5), np.uint8)) == ""


def test_probabilities_round_trip_through_numpy(tmp_path):
    rng = np.random.default_rng(3)
    probabilities = rng.dirichlet(np.ones(3), size=(12, 9)).transpose(2, 0, 1).astype(np.float32)
    export.write_probabilities(tmp_path / "p.npz", probabilities, (0, 2, 7))
    with np.load(tmp_path / "p.npz") as loaded:
        assert loaded["classes"].tolist() == [0, 2, 7]
        assert loaded["probabilities"].dtype == np.float16
        assert np.allclose(loaded["probabilities"], probabilities, atol=1e-3)


def test_export_masks_writes_coco_and_yolo_from_mask_files(tmp_path):
    for stem, seed in (("a", 0), ("b", 1)):
        write_label_map(tmp_path / "masks" / f"{stem}.png", scene(seed))
    written = export.export_masks([("a.jpg", tmp_path / "masks" / "a.png"), ("b.jpg", tmp_path / "masks" / "b.png")],
                                  tmp_path / "out", ["png", "coco", "yolo"], {1: "ring"})
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == ["coco.json", "yolo/a.txt",
                                                                                   "yolo/b.txt"]
    coco = COCO(str(tmp_path / "out" / "coco.json"))
    assert [img["file_name"] for img in coco.imgs.values()] == ["a.jpg", "b.jpg"]
    assert export.export_masks([], tmp_path / "none", ["png"]) == [] and not (tmp_path / "none").exists()
    with pytest.raises(ValueError, match="unknown export format"):
        export.export_masks([], tmp_path / "out", ["voc-xml"])


def test_batch_writes_the_formats_asked_for_and_rebuilds_coco_on_resume(tmp_path, capsys):
    images, scribbles, out = tmp_path / "images", tmp_path / "scribbles", tmp_path / "masks"
    for stem in ("a", "b"):
        write_pair(images, stem, classes=(0, 3), scribbles_dir=scribbles)
    arguments = ["batch", str(images), "--scribbles", str(scribbles), "--out", str(out), "--workers", "1",
                 "--format", "coco,yolo", "--probabilities", str(tmp_path / "prob"), *TINY]
    assert main(arguments) == 0
    coco = COCO(str(out / "coco.json"))
    assert sorted(img["file_name"] for img in coco.imgs.values()) == ["a.png", "b.png"]
    for image in coco.imgs.values():
        mask = np.asarray(Image.open(out / image["file_name"]))
        rebuilt = np.zeros(mask.shape, np.uint8)
        for annotation in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]])):
            rebuilt[coco.annToMask(annotation).astype(bool)] = annotation["category_id"]
        assert np.array_equal(rebuilt, np.where(mask == 3, 3, 0))
        assert (out / "yolo" / f"{Path(image['file_name']).stem}.txt").is_file()
        with np.load(tmp_path / "prob" / f"{Path(image['file_name']).stem}.npz") as saved:
            assert saved["classes"].tolist() == [0, 3]
            assert saved["probabilities"].shape == (2, *mask.shape)
            assert np.allclose(saved["probabilities"].astype(np.float32).sum(0), 1, atol=3e-3)
    (out / "coco.json").unlink()
    assert main(arguments) == 0  # everything skipped: the dataset files are rebuilt from the masks
    assert "0 done, 2 skipped" in capsys.readouterr().out
    assert len(json.loads((out / "coco.json").read_text())["images"]) == 2
    assert main([*arguments[:-len(TINY)], "--format", "png,pascal"]) == 2
    assert "unknown format pascal" in capsys.readouterr().err
