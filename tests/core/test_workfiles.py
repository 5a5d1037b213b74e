"""gdc_core.workfiles: where an image's work lives, which files of a folder are images, and a save that is one
consistent version (an interrupted save is dropped or rolled forward, never mixed with the previous one)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from gdc_core.io import read_label_map, write_label_map
from gdc_core.workfiles import (KINDS, WorkPaths, current_files, find_work, list_images, natural_key, recover,
                                save_version, search_folders, side_file_stem, work_folder)


def write_text(value: str):
    return lambda path: path.write_text(value, encoding="utf-8")


def contents(paths: WorkPaths) -> dict[str, str]:
    return {kind: path.read_text(encoding="utf-8") for kind, path in current_files(paths).items()}


def leftovers(folder) -> list[str]:
    """Temporary files and staging folders under ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.endswith(".tmp") or p.name.endswith(".saving"))


def test_work_folder_rule_and_where_older_layouts_are_searched(tmp_path):
    images = tmp_path / "shots"
    images.mkdir()
    assert work_folder(images) == images.resolve() / "gdc-seg"
    assert work_folder(images, tmp_path / "work") == tmp_path / "work" / "shots"
    assert search_folders(images) == [images.resolve() / "gdc-seg", images.resolve()]
    assert search_folders(images, tmp_path / "work") == [tmp_path / "work" / "shots", images.resolve() / "gdc-seg",
                                                         images.resolve()]


def test_find_work_takes_the_first_folder_holding_scribbles_or_a_mask(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    second.mkdir()
    (second / "a_scribbles.png").write_text("x")
    (second / "a_classes.json").write_text("x")
    assert find_work("a", [first, second]) == WorkPaths(second, "a")
    assert find_work("b", [first, second]) is None
    first.mkdir()
    (first / "a_classes.json").write_text("x")  # a class list alone is no work
    assert find_work("a", [first, second]) == WorkPaths(second, "a")
    (first / "a_mask.png").write_text("x")
    assert find_work("a", [first, second]) == WorkPaths(first, "a")


def test_save_version_writes_the_set_and_removes_what_the_new_version_lacks(tmp_path):
    paths = WorkPaths(tmp_path / "gdc-seg", "photo")
    written = save_version(paths, {"classes": write_text("c1"), "scribbles": write_text("s1"),
                                   "mask": write_text("m1"), "overlay": write_text("o1")})
    assert written == [paths.classes, paths.scribbles, paths.mask, paths.overlay]
    assert contents(paths) == {"classes": "c1", "scribbles": "s1", "mask": "m1", "overlay": "o1"}
    save_version(paths, {"classes": write_text("c2"), "scribbles": write_text("s2")})  # e.g. the accept undone
    assert contents(paths) == {"classes": "c2", "scribbles": "s2"}
    assert not paths.mask.exists() and not paths.overlay.exists()
    assert sorted(p.name for p in paths.folder.iterdir()) == ["photo_classes.json", "photo_scribbles.png"]
    with pytest.raises(ValueError):
        save_version(paths, {"thumbnail": write_text("t")})


def test_a_failing_writer_keeps_the_previous_version_and_leaves_nothing(tmp_path):
    paths = WorkPaths(tmp_path, "photo")
    save_version(paths, {"classes": write_text("c1"), "scribbles": write_text("s1"), "mask": write_text("m1")})

    def broken(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_version(paths, {"classes": write_text("c2"), "scribbles": write_text("s2"), "mask": broken})
    assert contents(paths) == {"classes": "c1", "scribbles": "s1", "mask": "m1"}
    assert leftovers(tmp_path) == []


def stage(paths: WorkPaths, files: dict[str, str], manifest: bool) -> None:
    """An interrupted save by hand: staged files (and their manifest when ``manifest``), nothing moved yet."""
    paths.staging.mkdir()
    for kind, value in files.items():
        (paths.staging / paths.name(kind)).write_text(value)
    (paths.staging / f".{paths.name('mask')}.abc123.tmp").write_text("partial")
    if manifest:
        (paths.staging / "manifest.json").write_text(json.dumps(
            {"format": "gdc-seg saved work", "version": 1, "files": [paths.name(k) for k in files]}))


def test_a_save_interrupted_before_its_manifest_is_dropped_at_the_next_open(tmp_path):
    paths = WorkPaths(tmp_path, "photo")
    save_version(paths, {"classes": write_text("c1"), "scribbles": write_text("s1"), "mask": write_text("m1")})
    stage(paths, {"classes": "c2", "scribbles": "s2"}, manifest=False)
    (tmp_path / ".photo_mask.png.xyz987.tmp").write_text("partial")  # an atomic write interrupted in the folder
    assert contents(paths) == {"classes": "c1", "scribbles": "s1", "mask": "m1"}
    recover(paths)
    assert contents(paths) == {"classes": "c1", "scribbles": "s1", "mask": "m1"}
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("moved", [0, 1, 2])
def test_a_save_interrupted_after_its_manifest_is_rolled_forward(tmp_path, moved):
    """Killed while moving the staged files into place (``moved`` of them already moved): the new version is what
    every reader sees, before and after the next open finishes the move; the older mask does not come back."""
    paths = WorkPaths(tmp_path, "photo")
    save_version(paths, {"classes": write_text("c1"), "scribbles": write_text("s1"), "mask": write_text("m1")})
    stage(paths, {"classes": "c2", "scribbles": "s2"}, manifest=True)
    for kind in ("classes", "scribbles")[:moved]:
        os.replace(paths.staging / paths.name(kind), paths.path(kind))
    assert contents(paths) == {"classes": "c2", "scribbles": "s2"}
    recover(paths)
    assert contents(paths) == {"classes": "c2", "scribbles": "s2"} and not paths.mask.exists()
    assert leftovers(tmp_path) == []
    save_version(paths, {"classes": write_text("c3"), "scribbles": write_text("s3")})
    assert contents(paths) == {"classes": "c3", "scribbles": "s3"}


def test_a_new_save_finishes_an_interrupted_one_first(tmp_path):
    paths = WorkPaths(tmp_path, "photo")
    stage(paths, {"classes": "c1", "scribbles": "s1", "mask": "m1"}, manifest=False)
    save_version(paths, {"classes": write_text("c2"), "scribbles": write_text("s2")})
    assert contents(paths) == {"classes": "c2", "scribbles": "s2"} and leftovers(tmp_path) == []


def test_work_of_similar_stems_is_kept_apart(tmp_path):
    """``a`` and ``a_mask`` are two images: neither's save or recovery touches the other's files."""
    a, a_mask = WorkPaths(tmp_path, "a"), WorkPaths(tmp_path, "a_mask")
    save_version(a_mask, {"classes": write_text("c"), "scribbles": write_text("s"), "mask": write_text("m")})
    save_version(a, {"classes": write_text("c"), "scribbles": write_text("s")})
    recover(a)
    assert contents(a_mask) == {"classes": "c", "scribbles": "s", "mask": "m"}
    assert contents(a) == {"classes": "c", "scribbles": "s"}


def test_label_maps_round_trip_through_a_version(tmp_path):
    paths = WorkPaths(tmp_path, "photo")
    labels = np.random.default_rng(0).integers(0, 4, (12, 9), dtype=np.uint8)
    save_version(paths, {"scribbles": lambda path: write_label_map(path, labels)})
    assert np.array_equal(read_label_map(current_files(paths)["scribbles"]), labels)


def test_side_files_are_not_images_but_a_lone_mask_named_image_is(tmp_path):
    pixel = Image.new("RGB", (2, 2))
    for name in ("img10.png", "img2.JPG", "teddy.png", "teddy_scribbles.png", "teddy_mask.png", "teddy_overlay.png",
                 "road_mask.png", ".hidden.png", "notes.txt"):
        pixel.save(tmp_path / name, format="PNG")
    (tmp_path / "folder.png").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["img2.JPG", "img10.png", "road_mask.png", "teddy.png"]
    assert side_file_stem("teddy_scribbles.png") == "teddy" and side_file_stem("teddy.png") is None
    assert sorted(["a10", "a9", "A1"], key=natural_key) == ["A1", "a9", "a10"]
    assert set(KINDS) == {"classes", "scribbles", "mask", "overlay"}


@pytest.mark.parametrize("stem", ["n" * 246, "é" * 120, os.fsdecode(b"caf\xe9_\xff") + "x" * 230,
                                  os.fsdecode(b"caf\xe9_\xff")])
def test_long_and_undecodable_stems_save_recover_and_list_under_one_shortened_stem(tmp_path, stem):
    """Every derived name (work files, staging folder, export marker) is fit_stem(stem) + ending, so each fits a file
    name and is found from the image; an interrupted atomic write's temporary file (io.atomic_path's
    ``.<name>.XXXXXXXX.tmp``) is removed at the next open."""
    from gdc_core.io import NAME_MAX, atomic_path, fit_stem

    paths = WorkPaths(tmp_path, stem)
    assert paths.name_stem == fit_stem(stem)
    names = [paths.name(kind) for kind in KINDS] + [paths.staging.name, paths.export_marker.name]
    assert all(name.startswith(("." + fit_stem(stem), fit_stem(stem))) for name in names)
    assert all(len(os.fsencode(name)) <= NAME_MAX for name in names)
    save_version(paths, {"classes": write_text("c1"), "scribbles": write_text("s1")})
    assert contents(paths) == {"classes": "c1", "scribbles": "s1"}
    assert find_work(stem, [tmp_path]) == paths

    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted), atomic_path(paths.mask) as temp:  # an atomic write cut short ...
        temp.write_text("partial")
        left = temp.name
        raise Interrupted
    (tmp_path / left).write_text("partial")  # ... by a kill: its temporary file stays behind
    assert leftovers(tmp_path) == [left]
    recover(paths)
    assert leftovers(tmp_path) == [] and contents(paths) == {"classes": "c1", "scribbles": "s1"}

    pixel = Image.new("RGB", (2, 2))
    pixel.save(tmp_path / f"{stem}.png", format="PNG")
    pixel.save(tmp_path / f"{fit_stem(stem)}_mask.png", format="PNG")  # an older layout's side file beside it
    assert [p.name for p in list_images(tmp_path)] == [f"{stem}.png"]
