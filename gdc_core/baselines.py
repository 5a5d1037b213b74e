"""Classical scribble-driven segmenters, scored by the same evaluation code as the GDC network.

Each baseline takes the inputs of :meth:`Segmenter.run`: an (H, W) grey or (H, W, 3) RGB uint8 image and an
(H, W) uint8 scribble map (class id on stroke pixels, 255 = no stroke, at least two classes), and returns
(H, W) uint8 class ids among the scribbled classes. Stroke pixels always keep their stroke's class.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from .images import downscale_labels, working_shape
from .refine import grow_markers
from .scribbles import NO_LABEL, validate_scribbles

GRABCUT_ITERATIONS = 5
GRABCUT_COMPONENTS = 5  # OpenCV's GMM components per model (fixed in its implementation)
RANDOM_WALKER_MAX_SIDE = 256
RANDOM_WALKER_BETA = 130.0


def _rgb(image: np.ndarray) -> np.ndarray:
    """(H, W) grey or (H, W, 3|4) uint8 -> contiguous (H, W, 3) uint8 RGB."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"baselines take uint8 images, got {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def _gmm_log_likelihood(model: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """Log-density of OpenCV GrabCut's colour GMM at each pixel.

    Args:
        model: the (1, 65) float64 ``bgdModel``/``fgdModel`` array OpenCV fills: 5 weights, 5 means (3 each),
            5 covariances (3x3 each), in that order.
        pixels: (N, 3) float64 colours, in the channel order given to ``cv2.grabCut``.

    Returns:
        (N,) float64 log-likelihoods.
    """
    k = GRABCUT_COMPONENTS
    flat = model.ravel()
    weights, means, covs = flat[:k], flat[k:4 * k].reshape(k, 3), flat[4 * k:13 * k].reshape(k, 3, 3)
    densities = np.zeros(len(pixels))
    for weight, mean, cov in zip(weights, means, covs):
        if weight <= 0:
            continue
        cov = cov + np.eye(3) * 1e-6
        diff = pixels - mean
        mahalanobis = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
        densities += weight * np.exp(-0.5 * mahalanobis) / np.sqrt((2 * np.pi) ** 3 * np.linalg.det(cov))
    return np.log(densities + 1e-300)


def _grabcut_one(rgb: np.ndarray, foreground: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One GrabCut of ``foreground`` strokes against ``background`` strokes ((H, W) bool each).

    Initial mask: strokes are sure labels, the bounding box of the foreground strokes is probable foreground,
    the rest probable background. Returns (foreground decision (H, W) bool, confidence (H, W) float64: the
    log-likelihood ratio foreground vs background of the final colour models).
    """
    mask = np.full(rgb.shape[:2], cv2.GC_PR_BGD, dtype=np.uint8)
    rows, cols = np.nonzero(foreground)
    mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = cv2.GC_PR_FGD
    mask[background] = cv2.GC_BGD
    mask[foreground] = cv2.GC_FGD
    bgd_model, fgd_model = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(rgb, mask, None, bgd_model, fgd_model, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    pixels = rgb.reshape(-1, 3).astype(np.float64)
    ratio = _gmm_log_likelihood(fgd_model, pixels) - _gmm_log_likelihood(bgd_model, pixels)
    decided = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return decided, ratio.reshape(rgb.shape[:2])


def grabcut(image: np.ndarray, scribbles: np.ndarray) -> np.ndarray:
    """OpenCV GrabCut (5 iterations) initialised from the scribbles; (H, W) uint8 labels.

    Two classes: the higher class id is the foreground, one GrabCut. More classes: one GrabCut per class
    against all others (one-vs-rest); a pixel goes to the class whose GrabCut claims it as foreground, and when
    several or none claim it, to the class of the highest colour-model log-likelihood ratio among the claimants
    (among all classes when none claims it).
    """
    classes = validate_scribbles(np.asarray(scribbles), np.asarray(image).shape[:2])
    rgb = _rgb(image)
    stroked = scribbles != NO_LABEL
    if len(classes) == 2:
        decided, _ = _grabcut_one(rgb, scribbles == classes[1], scribbles == classes[0])
        labels = np.where(decided, classes[1], classes[0]).astype(np.uint8)
    else:
        scores = []
        for c in classes:
            decided, ratio = _grabcut_one(rgb, scribbles == c, stroked & (scribbles != c))
            scores.append(np.where(decided, 1e6, 0.0) + np.clip(ratio, -1e5, 1e5))
        labels = np.asarray(classes, dtype=np.uint8)[np.argmax(scores, axis=0)]
    labels[stroked] = scribbles[stroked]
    return labels


def watershed(image: np.ndarray, scribbles: np.ndarray) -> np.ndarray:
    """OpenCV marker-based watershed with the strokes as markers; (H, W) uint8 labels.

    The one-pixel watershed lines OpenCV leaves between regions take the largest neighbouring marker.
    """
    validate_scribbles(np.asarray(scribbles), np.asarray(image).shape[:2])
    markers = np.where(scribbles == NO_LABEL, 0, scribbles.astype(np.int32) + 1).astype(np.int32)
    return grow_markers(_rgb(image), markers)


def random_walker(image: np.ndarray, scribbles: np.ndarray, max_side: int = RANDOM_WALKER_MAX_SIDE) -> np.ndarray:
    """scikit-image's random walker (beta 130) on the image brought down to ``max_side`` px.

    The linear system is solved directly (``mode="bf"``): at 256 px that takes about 0.2 s per image on one
    core, where the iterative ``cg_j`` needed about 7 s and stopped short of convergence (lower scores).

    Strokes are brought down without losing thin ones; the per-class probabilities are resized bilinearly to
    the full size and the most probable class is taken. Returns (H, W) uint8 labels.
    """
    from skimage.segmentation import random_walker as skimage_random_walker

    classes = validate_scribbles(np.asarray(scribbles), np.asarray(image).shape[:2])
    full = scribbles.shape
    small_shape = working_shape(full, max_side)
    rgb = cv2.resize(_rgb(image), (small_shape[1], small_shape[0]), interpolation=cv2.INTER_AREA)
    small_scribbles = downscale_labels(np.asarray(scribbles), small_shape, NO_LABEL)
    markers = np.zeros(small_shape, dtype=np.int32)
    for index, c in enumerate(classes, start=1):
        markers[small_scribbles == c] = index
    probabilities = skimage_random_walker(rgb.astype(np.float64) / 255.0, markers, beta=RANDOM_WALKER_BETA,
                                          mode="bf", return_full_prob=True, channel_axis=-1)
    upsized = [cv2.resize(p.astype(np.float32), (full[1], full[0]), interpolation=cv2.INTER_LINEAR)
               for p in probabilities]
    labels = np.asarray(classes, dtype=np.uint8)[np.argmax(upsized, axis=0)]
    stroked = scribbles != NO_LABEL
    labels[stroked] = scribbles[stroked]
    return labels


BASELINES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "grabcut": grabcut,
    "watershed": watershed,
    "random_walker": random_walker,
}
