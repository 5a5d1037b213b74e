"""Kill-during-save driver for tests/app/test_save_versions.py (run as a script, not collected by pytest).

    python save_loop.py FOLDER ROUNDS SEED

``FOLDER`` holds ``photo.png``. Each round forks a saver that saves version after version of the work on it
with :func:`app.work_io.write_snapshot` (what autosave runs) and reports each finished save on a pipe; the
driver kills it with SIGKILL after a random delay, then reopens the image as the app does
(:func:`app.work_io.open_document`) and checks that the work it resumes is one complete version: the last one
reported, or the one in flight when the kill came after its manifest. Version ``k`` is recognisable in every file:
its class list holds an extra class ``2 + k % 5`` named ``v<k>``, the scribbles and the mask spell ``k`` in bits
with that class, and only versions with ``k % 3 != 0`` have a mask (a stale mask of an older version is caught).
Prints one JSON object: rounds, saves, outcomes, failures (empty when every check held).
"""
from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np

from app.classes import LabelClass
from app.work_io import WorkSnapshot, open_document, write_snapshot
from gdc_core.workfiles import WorkPaths, work_folder

SHAPE = (48, 64)
BITS = 24


def extra_class(version: int) -> int:
    return 2 + version % 5


def layer(version: int, offset: int) -> np.ndarray:
    """(H, W) uint8: row ``offset`` spells ``version`` in bits (its extra class = 1, class 0 = 0), 255 elsewhere."""
    labels = np.full(SHAPE, 255, np.uint8)
    for bit in range(BITS):
        labels[offset, bit] = extra_class(version) if version >> bit & 1 else 0
    return labels


def snapshot(version: int, paths: WorkPaths, image: np.ndarray) -> WorkSnapshot:
    classes = (LabelClass(0, "background", (0, 0, 0)), LabelClass(1, "object", (128, 0, 0)),
               LabelClass(extra_class(version), f"v{version}", (0, 128, 0)))
    mask = layer(version, 5) if version % 3 else None
    return WorkSnapshot(paths, image, layer(version, 1), mask, classes, 0.5 if version % 2 else None)


def read_version(labels: np.ndarray, offset: int, extra: int) -> int:
    row = labels[offset, :BITS]
    if not np.isin(row, (0, extra)).all():
        raise ValueError(f"row {offset} is not a version: {row.tolist()}")
    return sum(1 << bit for bit in range(BITS) if row[bit] == extra)


def saver(paths: WorkPaths, image: np.ndarray, first: int, pipe: int) -> None:
    """Save versions first, first + 1, ... for ever, writing each finished one's number to ``pipe``."""
    version = first
    while True:
        write_snapshot(snapshot(version, paths, image))
        os.write(pipe, f"{version}\n".encode())
        version += 1


def main() -> None:
    folder, rounds, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    image_path = folder / "photo.png"
    paths = WorkPaths.beside(image_path, work_folder(folder))
    image = np.zeros(SHAPE + (3,), np.uint8)
    rng = random.Random(seed)
    last: int | None = None  # the version the previous reopen resumed
    saves, outcomes, failures = 0, {"nothing saved yet": 0, "last reported": 0, "in flight, rolled forward": 0}, []
    for round_index in range(rounds):
        first = round_index * 10_000 + 1
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the saver
            os.close(read_end)
            try:
                saver(paths, image, first, write_end)
            finally:
                os._exit(1)
        os.close(write_end)
        time.sleep(rng.uniform(0.0, 0.15))  # a save takes 5-50 ms
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(read_end) as pipe:
            reported = [int(line) for line in pipe.read().split()]
        saves += len(reported)
        expected_last = reported[-1] if reported else last
        in_flight = (reported[-1] + 1) if reported else first
        try:
            document, warning = open_document(image_path)
            assert warning is None, warning
            if (document.scribbles == 255).all():
                assert expected_last is None and document.mask is None, "saved work was lost"
                version = None
            else:
                extra = next(c.id for c in document.classes if c.id >= 2)
                version = read_version(document.scribbles, 1, extra)
                names = [c.name for c in document.classes]
                assert names == ["background", "object", f"v{version}"], f"classes {names} with scribbles v{version}"
                if version % 3:
                    assert document.mask is not None, f"v{version} lost its mask"
                    assert read_version(document.mask, 5, extra) == version, "mask of another version"
                else:
                    assert document.mask is None, f"v{version} has no mask, but one was loaded"
                overlay = paths.overlay.is_file()
                assert overlay == bool(version % 3 and version % 2), f"v{version}: overlay present: {overlay}"
            assert version in (expected_last, in_flight), f"resumed v{version}, last saved v{expected_last}"
            key = ("nothing saved yet" if version is None else
                   "last reported" if version == expected_last else "in flight, rolled forward")
            outcomes[key] += 1
            last = version
            left = [str(p) for p in paths.folder.rglob("*") if p.name.endswith((".tmp", ".saving"))]
            assert not left, f"left after reopening: {left}"
        except (AssertionError, ValueError, StopIteration) as exc:
            failures.append(f"round {round_index}: {exc}")
            last = None
    print(json.dumps({"rounds": rounds, "saves": saves, "outcomes": outcomes, "failures": failures}))


if __name__ == "__main__":
    main()
