"""Dataset export formats made from label masks ((H, W) uint8, value = class id, 255 = void): COCO JSON with RLE
masks, YOLO segmentation polygons, and the per-image probability maps. The indexed palette PNG itself is
:func:`gdc_core.io.write_label_map`.

Class ids are kept as they are in every format: COCO ``category_id`` and the YOLO class index are the mask's
value. Background (0) and void (255) are not objects and are written in neither.

- COCO (``coco.json``): one ``images`` entry per mask (``file_name`` the image's name, ``width``, ``height``);
  ``annotations`` with ``segmentation`` as compressed RLE (pycocotools' ``{"size": [H, W], "counts": str}``),
  ``area`` (pixels), ``bbox`` ``[x, y, w, h]`` (pixels) and ``iscrowd`` 0. *Semantic*: one annotation per class
  in an image; *instances*: one per 8-connected region of a class.
- YOLO (``<stem>.txt``): one line per outer contour of a class region, ``class x1 y1 x2 y2 ...`` with coordinates
  as fractions of the image's width and height, as Ultralytics' segmentation format has them: the centres of the
  region's border pixels, ``(x + 0.5) / W``, so that a reader that scales back by W, H and truncates (Ultralytics'
  ``polygon2mask``, Pillow's ``ImageDraw.polygon``) fills the same pixels. The format has no holes: a region's
  holes are filled.
- Probabilities (``<stem>.npz``): ``probabilities`` (K, H, W) float16 and ``classes`` (K,) int, row k for
  ``classes[k]``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import cv2
import numpy as np
from scipy import ndimage

from .io import atomic_path, read_label_map
from .scribbles import BACKGROUND, NO_LABEL

FORMATS = ("png", "coco", "yolo")  # what a batch and the app's folder export can write; png: the masks themselves
COCO_FILE = "coco.json"
YOLO_FOLDER = "yolo"
YOLO_DECIMALS = 6


def object_classes(labels: np.ndarray) -> list[int]:
    """The class ids of ``labels`` that are objects (not background, not void), ascending."""
    return [int(c) for c in np.unique(labels) if c not in (BACKGROUND, NO_LABEL)]


# ----------------------------------------------------------------------------------------------- COCO


def _rle(region: np.ndarray) -> dict:
    """Compressed RLE of an (H, W) bool region, JSON-ready (``counts`` as str)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(region.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def _bbox(region: np.ndarray) -> list[int]:
    rows, cols = np.nonzero(region)
    return [int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1)]


def coco_annotations(labels: np.ndarray, image_id: int, first_id: int, instances: bool = False) -> list[dict]:
    """The COCO annotations of one mask, numbered from ``first_id``: one per object class (``instances``: one per
    8-connected region of each class)."""
    annotations = []
    for class_id in object_classes(labels):
        region = labels == class_id
        if instances:
            components, count = ndimage.label(region, structure=np.ones((3, 3), bool))
            regions = [components == k for k in range(1, count + 1)]
        else:
            regions = [region]
        for part in regions:
            annotations.append({"id": first_id + len(annotations), "image_id": image_id, "category_id": class_id,
                                "segmentation": _rle(part), "area": int(part.sum()), "bbox": _bbox(part),
                                "iscrowd": 0})
    return annotations


def coco_document(masks: Iterable[tuple[str, np.ndarray]], names: Mapping[int, str] | None = None,
                  instances: bool = False) -> dict:
    """A COCO dataset from ``(image file name, (H, W) uint8 labels)`` pairs; categories are the object classes
    that occur, named from ``names`` (default ``class <id>``)."""
    names = names or {}
    images, annotations, seen = [], [], set()
    for image_id, (file_name, labels) in enumerate(masks, start=1):
        images.append({"id": image_id, "file_name": file_name, "width": int(labels.shape[1]),
                       "height": int(labels.shape[0])})
        annotations += coco_annotations(labels, image_id, len(annotations) + 1, instances)
        seen.update(object_classes(labels))
    categories = [{"id": c, "name": names.get(c, f"class {c}"), "supercategory": "object"} for c in sorted(seen)]
    return {"info": {"description": "gdc-seg masks"}, "images": images, "annotations": annotations,
            "categories": categories}


def write_json(path: str | Path, document: dict) -> None:
    """Atomically write ``document`` as UTF-8 JSON (all of it ``\\u``-escaped when it holds a file name whose bytes
    do not decode, which Python keeps as lone surrogates)."""
    try:
        data = json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        data = json.dumps(document).encode("ascii")
    with atomic_path(path) as temp:
        temp.write_bytes(data + b"\n")


# ----------------------------------------------------------------------------------------------- YOLO


def yolo_polygons(labels: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``(class id, (N, 2) float x, y in pixels)`` for each outer contour of each object class's regions (N >= 3;
    vertices at pixel centres, holes not traced)."""
    polygons = []
    for class_id in object_classes(labels):
        region = (labels == class_id).astype(np.uint8)
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        polygons += [(class_id, c.reshape(-1, 2).astype(np.float64)) for c in contours if len(c) >= 3]
    return polygons


def yolo_text(labels: np.ndarray) -> str:
    """The YOLO segmentation label file of one mask (empty when it has no object)."""
    height, width = labels.shape
    lines = []
    for class_id, points in yolo_polygons(labels):
        scaled = (points + 0.5) / [width, height]
        lines.append(" ".join([str(class_id), *(f"{v:.{YOLO_DECIMALS}f}" for v in scaled.reshape(-1))]))
    return "".join(line + "\n" for line in lines)


def write_yolo(path: str | Path, labels: np.ndarray) -> None:
    """Atomically write the YOLO label file of one mask."""
    with atomic_path(path) as temp:
        temp.write_text(yolo_text(labels), encoding="ascii")


# ----------------------------------------------------------------------------------------------- probabilities


def write_probabilities(path: str | Path, probabilities: np.ndarray, classes: Iterable[int]) -> None:
    """Atomically write (K, H, W) class probabilities (as float16) and their K class ids as a ``.npz``."""
    with atomic_path(path) as temp, open(temp, "wb") as handle:
        np.savez_compressed(handle, probabilities=np.asarray(probabilities, np.float16),
                            classes=np.asarray(list(classes), np.int64))


# ----------------------------------------------------------------------------------------------- a folder


def export_masks(masks: Iterable[tuple[str, str | Path]], out: str | Path, formats: Iterable[str],
                 names: Mapping[int, str] | None = None, instances: bool = False) -> list[Path]:
    """Write the dataset formats of ``formats`` other than ``png`` (the masks themselves) into ``out``, from
    ``(image file name, mask PNG path)`` pairs: ``out/coco.json`` and ``out/yolo/<mask stem>.txt``. Returns the
    files written. Raises :class:`gdc_core.io.ImageReadError` for an unreadable mask, OSError when writing fails."""
    formats = set(formats)
    unknown = formats - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    if not formats & {"coco", "yolo"}:
        return []
    out = Path(out)
    written: list[Path] = []

    def read_each() -> Iterator[tuple[str, np.ndarray]]:  # one mask in memory at a time
        for file_name, mask_path in masks:
            labels = read_label_map(mask_path)
            if "yolo" in formats:
                target = out / YOLO_FOLDER / f"{Path(mask_path).stem}.txt"
                write_yolo(target, labels)
                written.append(target)
            yield file_name, labels

    if "coco" in formats:
        write_json(out / COCO_FILE, coco_document(read_each(), names, instances))
        written.append(out / COCO_FILE)
    else:
        for _ in read_each():
            pass
    return written
