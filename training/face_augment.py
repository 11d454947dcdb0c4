"""Augmentation of 48x48 face crops for the face CNN, designed for the webcam gap.

FER2013 is web photos (mostly well lit, often posed, JPEG'd, upscaled from small faces); the app
sees webcam frames cropped by our own aligner: a different pose jitter, motion and focus blur,
sensor noise, dim rooms, auto-exposure and gamma, video compression, small faces. Each training
batch gets, per image, a random draw of:

- geometry: rotation ±10° (the aligner levels the eyes, but landmarks jitter), scale 0.9-1.1,
  shift ±2 px, horizontal flip (p 0.5) — all in one bilinear warp with border replication;
- low resolution (p 0.15): down to 16-32 px and back (a face far from the camera);
- blur (p 0.2): Gaussian, sigma 0.4-1.3 px (focus, motion);
- brightness, contrast, gamma (p 0.8): ±0.15, x0.6-1.4, gamma 0.6-1.6 (exposure, tone curves);
- low light (p 0.15), after those: intensity x0.15-0.45, then shot and read noise and 8-bit
  quantisation (a dim room: the banding and noise, not just a darker picture; the CNN standardises
  each crop, as auto-gain would);
- noise (p 0.2): Gaussian, sigma 1-5 % of full scale;
- occlusion (p 0.15): a grey rectangle of 8-20 px (a hand, a microphone);
- JPEG (p 0.25): quality 15-70 (video and upload compression).

Batched in torch where it can be (everything but JPEG), one numpy Generator per call, so a seed
fixes every draw. Validation and test crops are never augmented.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

SETTINGS = {
    "rotation_deg": 10.0, "scale": [0.9, 1.1], "shift_px": 2.0, "flip_p": 0.5,
    "lowres_p": 0.15, "lowres_px": [16, 32],
    "blur_p": 0.2, "blur_sigma": [0.4, 1.3],
    "lowlight_p": 0.15, "lowlight_gain": [0.15, 0.45],
    "photometric_p": 0.8, "brightness": 0.15, "contrast": [0.6, 1.4], "gamma": [0.6, 1.6],
    "noise_p": 0.2, "noise_sigma": [0.01, 0.05],
    "occlusion_p": 0.15, "occlusion_px": [8, 20],
    "jpeg_p": 0.25, "jpeg_quality": [15, 70],
}


def augment(crops: np.ndarray, rng: np.random.Generator, s: dict = SETTINGS) -> torch.Tensor:
    """uint8 [B, 48, 48] -> float [B, 48, 48] on 0..255, augmented."""
    b, h, w = crops.shape
    x = torch.from_numpy(crops).float().div(255).reshape(b, 1, h, w)
    x = _geometry(x, rng, s)
    x = _where(rng.random(b) < s["lowres_p"], x, lambda y: _lowres(y, rng, s))
    x = _where(rng.random(b) < s["blur_p"], x, lambda y: _blur(y, rng.uniform(*s["blur_sigma"], len(y))))
    x = _where(rng.random(b) < s["photometric_p"], x, lambda y: _photometric(y, rng, s).clamp(0, 1))
    x = _where(rng.random(b) < s["lowlight_p"], x, lambda y: _lowlight(y, rng, s))
    x = _where(rng.random(b) < s["noise_p"], x, lambda y: y + _randn(rng, y.shape) *
               _col(rng.uniform(*s["noise_sigma"], len(y))))
    x = _where(rng.random(b) < s["occlusion_p"], x, lambda y: _occlude(y, rng, s))
    out = (x.clamp(0, 1) * 255).round().reshape(b, h, w)
    jpeg = np.flatnonzero(rng.random(b) < s["jpeg_p"])
    if len(jpeg):
        out[jpeg] = torch.from_numpy(_jpeg(out[jpeg].numpy().astype(np.uint8), rng, s)).float()
    return out


def _where(chosen: np.ndarray, x: torch.Tensor, fn) -> torch.Tensor:
    index = torch.from_numpy(np.flatnonzero(chosen))
    if len(index):
        x = x.clone()
        x[index] = fn(x[index])
    return x


def _col(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values), dtype=torch.float32).reshape(-1, 1, 1, 1)


def _randn(rng: np.random.Generator, shape) -> torch.Tensor:
    return torch.from_numpy(rng.standard_normal(tuple(shape)).astype(np.float32))


def _geometry(x: torch.Tensor, rng: np.random.Generator, s: dict) -> torch.Tensor:
    b, _, h, w = x.shape
    angle = np.deg2rad(rng.uniform(-s["rotation_deg"], s["rotation_deg"], b))
    scale = np.exp(rng.uniform(math.log(s["scale"][0]), math.log(s["scale"][1]), b))
    flip = np.where(rng.random(b) < s["flip_p"], -1.0, 1.0)
    shift = rng.uniform(-1, 1, (b, 2)) * s["shift_px"] * 2 / np.array([w, h])
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale  # output -> input sampling grid
    theta = np.stack([np.stack([cos * flip, -sin, shift[:, 0]], 1),
                      np.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(torch.from_numpy(theta).float(), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _lowres(x: torch.Tensor, rng: np.random.Generator, s: dict) -> torch.Tensor:
    side = int(rng.integers(s["lowres_px"][0], s["lowres_px"][1] + 1))
    small = F.interpolate(x, size=(side, side), mode="area")
    return F.interpolate(small, size=x.shape[-2:], mode="bilinear", align_corners=False)


def _blur(x: torch.Tensor, sigma: np.ndarray) -> torch.Tensor:
    """Per-image Gaussian blur: separable, one kernel per image (a grouped convolution)."""
    b = len(x)
    r = np.arange(-3, 4, dtype=np.float64)
    kernel = np.exp(-(r[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    kernel = torch.from_numpy(kernel / kernel.sum(1, keepdims=True)).float()
    y = F.pad(x.reshape(1, b, *x.shape[-2:]), (3, 3, 3, 3), mode="replicate")
    y = F.conv2d(y, kernel.reshape(b, 1, 1, 7), groups=b)
    y = F.conv2d(y, kernel.reshape(b, 1, 7, 1), groups=b)
    return y.reshape(x.shape)


def _lowlight(x: torch.Tensor, rng: np.random.Generator, s: dict) -> torch.Tensor:
    dark = x * _col(rng.uniform(*s["lowlight_gain"], len(x)))
    shot = _randn(rng, x.shape) * (dark.clamp_min(0) * 0.006).sqrt()  # photon noise ~ sqrt(signal)
    read = _randn(rng, x.shape) * 0.003
    return ((dark + shot + read).clamp(0, 1) * 255).round() / 255  # the sensor's 8 bits


def _photometric(x: torch.Tensor, rng: np.random.Generator, s: dict) -> torch.Tensor:
    n = len(x)
    y = x.clamp(0, 1) ** _col(np.exp(rng.uniform(math.log(s["gamma"][0]), math.log(s["gamma"][1]), n)))
    y = (y - 0.5) * _col(rng.uniform(*s["contrast"], n)) + 0.5
    return y + _col(rng.uniform(-s["brightness"], s["brightness"], n))


def _occlude(x: torch.Tensor, rng: np.random.Generator, s: dict) -> torch.Tensor:
    x = x.clone()
    h, w = x.shape[-2:]
    for i in range(len(x)):
        bh, bw = rng.integers(s["occlusion_px"][0], s["occlusion_px"][1] + 1, 2)
        top, left = rng.integers(0, h - bh + 1), rng.integers(0, w - bw + 1)
        x[i, :, top:top + bh, left:left + bw] = float(rng.uniform(0, 1))
    return x


def _jpeg(images: np.ndarray, rng: np.random.Generator, s: dict) -> np.ndarray:
    import cv2

    out = np.empty_like(images)
    for i, image in enumerate(images):
        quality = int(rng.integers(s["jpeg_quality"][0], s["jpeg_quality"][1] + 1))
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        out[i] = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) if ok else image
    return out
