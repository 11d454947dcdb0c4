"""Whisper on a CPU in the precisions CPU inference of Whisper usually runs in: the encoder in
bfloat16, the decoder's weights in int8.

Why: openai-whisper on a CPU runs everything in float32. Its encoder (one pass over a 30 s window)
is compute-bound, and on a CPU with native bfloat16 (AVX512-BF16 or AMX) a bfloat16 pass takes ~60%
of the float32 time. Its decoder is memory-bound: each of the ~40 greedy steps of a 12 s clip reads
every decoder weight, above all the 51,865 x 512 output projection (106 MB in float32: ~14 ms a
step here). With int8 weights (one scale per output channel) that read is a quarter. Activations
are not quantised: each product runs in bfloat16 on int8 weights and returns float32, so the only
errors are the weights' rounding (<0.4% of a channel's largest weight) and bfloat16's 8 bits.
The same trade that faster-whisper and whisper.cpp make on CPUs, here with torch alone.

`MSA_WHISPER_PRECISION`: `auto` (default: the above where the CPU has native bfloat16, float32
elsewhere, where bfloat16 is emulated and slower) or `fp32` (Whisper untouched). On CUDA Whisper
keeps its own fp16.
"""

from __future__ import annotations

import os
import types

import torch

PRECISION = os.environ.get("MSA_WHISPER_PRECISION", "auto")
PRECISIONS = ("auto", "fp32")


def native_bfloat16() -> bool:
    """True where bfloat16 matrix products run in hardware and torch has the int8-weight kernel."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
                    and hasattr(torch.ops.aten, "_weight_int8pack_mm"))
    except (AttributeError, RuntimeError):  # pragma: no cover - builds without oneDNN
        return False


def speed_up(model, precision: str = PRECISION) -> str:
    """Convert a CPU Whisper model in place; return what it now runs in (for reports and the UI)."""
    if precision not in PRECISIONS:
        raise ValueError(f"MSA_WHISPER_PRECISION must be one of {PRECISIONS}, not '{precision}'")
    device = next(model.parameters()).device.type
    if device != "cpu":
        return "fp16"
    if precision == "fp32" or not native_bfloat16():
        return "fp32"
    _encoder_in_bfloat16(model.encoder)
    _decoder_in_int8(model.decoder)
    return "encoder bf16, decoder int8 weights"


def _encoder_in_bfloat16(encoder) -> None:
    """Convolutions and linear layers in bfloat16; layer norms stay float32 (Whisper's LayerNorm
    computes in float32 anyway). Mel in as bfloat16, features out as float32, as the decoder and
    Whisper's dtype checks expect."""
    for module in encoder.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv1d)):
            module.to(torch.bfloat16)
    float32_forward = encoder.forward

    def forward(mel):
        return float32_forward(mel.to(torch.bfloat16)).float()

    encoder.forward = forward


def _decoder_in_int8(decoder) -> None:
    """Every linear layer of the decoder blocks, and the output projection (tied to the token
    embedding, which stays float32 for the lookup), with int8 weights."""
    for block in decoder.blocks:
        for parent in block.modules():
            for name, child in list(parent.named_children()):
                if isinstance(child, torch.nn.Linear):
                    setattr(parent, name, Int8WeightLinear(child.weight, child.bias))
    decoder.output_projection = Int8WeightLinear(decoder.token_embedding.weight, None)
    decoder.forward = types.MethodType(_decoder_forward, decoder)


class Int8WeightLinear(torch.nn.Module):
    """y = x W^T + b with W stored as int8 and one bfloat16 scale per output channel (weight-only
    quantisation); x goes in and y comes out in float32."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        weight = weight.detach().float()
        scale = (weight.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
        self.register_buffer("weight", torch.round(weight / scale[:, None]).to(torch.int8))
        self.register_buffer("scale", scale.to(torch.bfloat16))
        self.register_buffer("bias", None if bias is None else bias.detach().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1]).to(torch.bfloat16)
        y = torch.ops.aten._weight_int8pack_mm(flat, self.weight, self.scale).float()
        y = y.reshape(*x.shape[:-1], self.weight.shape[0])
        return y if self.bias is None else y + self.bias


def _decoder_forward(self, tokens, audio_features, kv_cache=None):
    """Whisper's TextDecoder.forward with the output projection in int8: same inputs, same cache
    use, float32 logits."""
    offset = next(iter(kv_cache.values())).shape[1] if kv_cache else 0
    x = self.token_embedding(tokens) + self.positional_embedding[offset: offset + tokens.shape[-1]]
    x = x.to(audio_features.dtype)
    for block in self.blocks:
        x = block(x, audio_features, mask=self.mask, kv_cache=kv_cache)
    return self.output_projection(self.ln(x).float()).float()
