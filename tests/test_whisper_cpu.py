"""Whisper in bf16/int8 on CPU (msa_demo/whisper_cpu.py): what is converted, and that the answers stay
those of float32 Whisper within quantisation error."""

import pytest
import torch
import whisper

from msa_demo import whisper_cpu
from msa_demo.asr import WhisperASR
from msa_demo.media import load_media


def _pair(checkpoint, precision="auto"):
    """The same checkpoint twice: untouched, and sped up."""
    plain = whisper.load_model(str(checkpoint), device="cpu")
    fast = whisper.load_model(str(checkpoint), device="cpu")
    return plain, fast, whisper_cpu.speed_up(fast, precision)


needs_bfloat16 = pytest.mark.skipif(not whisper_cpu.native_bfloat16(),
                                    reason="no native bfloat16 on this CPU: Whisper stays float32")


@needs_bfloat16
def test_decoder_linears_become_int8_and_fp32_leaves_whisper_untouched(tiny_whisper):
    plain, fast, done = _pair(tiny_whisper)
    assert done == "encoder bf16, decoder int8 weights"
    plain_linears = sum(isinstance(m, torch.nn.Linear) for m in plain.decoder.modules())
    assert plain_linears > 0
    assert sum(isinstance(m, torch.nn.Linear) for m in fast.decoder.modules()) == 0
    assert "forward" in fast.decoder.__dict__
    untouched = whisper.load_model(str(tiny_whisper), device="cpu")
    assert whisper_cpu.speed_up(untouched, "fp32") == "fp32"
    assert "forward" not in untouched.decoder.__dict__ and "forward" not in untouched.encoder.__dict__


def test_bad_precision_is_refused():
    with pytest.raises(ValueError, match="MSA_WHISPER_PRECISION"):
        whisper_cpu.speed_up(object(), "int8")
    with pytest.raises(ValueError):
        WhisperASR("base", precision="fp8")


@needs_bfloat16
def test_bfloat16_encoder_is_float32_within_bfloat16_error(tiny_whisper):
    plain, fast, _ = _pair(tiny_whisper)
    mel = torch.randn(1, 80, 3000, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        reference, converted = plain.encoder(mel), fast.encoder(mel)
    assert converted.dtype == torch.float32 and converted.shape == reference.shape
    relative = (converted - reference).norm() / reference.norm()
    assert relative < 0.02  # bfloat16 keeps 8 significant bits: ~0.4% a value, through 2 layers


@needs_bfloat16
def test_int8_logits_match_float32_logits(tiny_whisper):
    plain, fast, _ = _pair(tiny_whisper)
    generator = torch.Generator().manual_seed(1)
    audio = torch.randn(1, 1500, 64, generator=generator)
    tokens = torch.randint(0, 50000, (1, 12), generator=generator)
    with torch.inference_mode():
        reference, converted = plain.decoder(tokens, audio), fast.decoder(tokens, audio)
    assert converted.dtype == torch.float32 and converted.shape == reference.shape
    # errors small next to the logits, and the same top token at every position
    error = (converted - reference).abs()
    assert error.max() < 0.01 * reference.abs().max() and error.median() < 0.01 * reference.std()
    assert torch.equal(converted.argmax(-1), reference.argmax(-1))


@needs_bfloat16
def test_kv_cache_decoding_equals_one_full_pass(tiny_whisper):
    """Whisper decodes one token a step from its key/value cache; the rewritten forward must read the
    cache the way Whisper's does (offsets of the positional embedding included)."""
    _, fast, _ = _pair(tiny_whisper)
    audio = torch.randn(1, 1500, 64, generator=torch.Generator().manual_seed(2))
    tokens = torch.tensor([[50258, 50259, 50359, 400, 401, 402]])
    with torch.inference_mode():
        full = fast.decoder(tokens, audio)
        cache, hooks = fast.install_kv_cache_hooks()
        steps = [fast.decoder(tokens[:, :3], audio, kv_cache=cache)[:, -1]]
        steps += [fast.decoder(tokens[:, i: i + 1], audio, kv_cache=cache)[:, -1] for i in range(3, 6)]
        for hook in hooks:
            hook.remove()
    # equal up to bfloat16 rounding (8 bits; products of other shapes round differently): a handful
    # of the 200k logits may be off by more; a wrong position offset puts ~1/3 of them off
    stepwise, reference = torch.stack(steps, 1), full[:, 2:]
    off = (stepwise - reference).abs() > 0.02 * float(full.std()) + 2 ** -6 * reference.abs()
    assert off.float().mean() < 1e-3
    assert torch.equal(stepwise.argmax(-1), reference.argmax(-1))


def test_transcript_matches_float32_whisper(tiny_whisper, mosi_clips):
    clip = load_media(mosi_clips[0])
    plain = WhisperASR(str(tiny_whisper), device="cpu", precision="fp32").transcribe(clip.audio).transcript
    fast_asr = WhisperASR(str(tiny_whisper), device="cpu", precision="auto")
    fast = fast_asr.transcribe(clip.audio).transcript
    assert fast_asr.precision == ("encoder bf16, decoder int8 weights" if whisper_cpu.native_bfloat16() else "fp32")
    # word times are not compared: a random model's cross-attention is nearly flat, so its DTW word
    # alignment moves with any rounding (up to ~1 s here); real alignment heads are sharp
    assert fast.text == plain.text and len(fast.words) == len(plain.words) > 0
    # the encoder keeps its bf16 forward across calls (the per-call encoder memo restores it)
    again = fast_asr.transcribe(clip.audio).transcript
    assert again.text == fast.text
    if whisper_cpu.native_bfloat16():
        assert "forward" in fast_asr.load().encoder.__dict__
