"""librosa's Viterbi decoding, the same numbers twice as fast and without the GIL.

pyin ends with a Viterbi pass over 736 pitch/voicing states (60-500 Hz in 0.1 semitones, voiced or
not): 0.67 of its 0.85 s on a 12 s clip. librosa's kernel builds a 736 x 736 temporary per 20 ms
frame (`value + log_trans.T`), then takes each row's arg-max. This kernel makes the same additions
and the same comparisons (first maximum wins, as `np.argmax`) in one pass without the temporary,
so the path and the features are bit for bit librosa's (tests/test_features.py checks), in about
half the time; and it runs without holding the GIL, so Whisper's thread is not kept waiting.

`install()` swaps it into librosa for this process; it does so only for the librosa version it was
checked against (requirements.txt pins it), and leaves any other version alone.
"""

from __future__ import annotations

import numba
import numpy as np

CHECKED_LIBROSA = "0.11."
_replaced: list = []  # librosa's own kernel, once swapped out (for the equality test)


@numba.njit(cache=True, nogil=True)
def fused_viterbi(log_prob, log_trans, log_p_init):  # pragma: no cover - compiled
    """librosa.sequence._viterbi's contract: (states, log-probability of the path)."""
    n_steps, n_states = log_prob.shape
    state = np.zeros(n_steps, dtype=np.uint16)
    value = np.zeros((n_steps, n_states), dtype=np.float64)
    ptr = np.zeros((n_steps, n_states), dtype=np.uint16)
    value[0] = log_prob[0] + log_p_init
    into = np.ascontiguousarray(log_trans.T)  # into[j, k] = log P(k -> j), read along k
    for t in range(1, n_steps):
        previous = value[t - 1]
        for j in range(n_states):
            row = into[j]
            best = previous[0] + row[0]
            arg = 0
            for k in range(1, n_states):
                candidate = previous[k] + row[k]
                if candidate > best:
                    best = candidate
                    arg = k
            ptr[t, j] = arg
            value[t, j] = log_prob[t, j] + best
    state[-1] = np.argmax(value[-1])
    for t in range(n_steps - 2, -1, -1):
        state[t] = ptr[t + 1, state[t + 1]]
    return state, value[-1:, state[-1]]


def install() -> bool:
    """Use `fused_viterbi` inside librosa (pyin and every other Viterbi caller). True if done."""
    import librosa
    from librosa import sequence

    if not librosa.__version__.startswith(CHECKED_LIBROSA) or not hasattr(sequence, "_viterbi"):
        return False
    if sequence._viterbi is not fused_viterbi:
        _replaced[:] = [sequence._viterbi]
        sequence._viterbi = fused_viterbi
    return True


def librosa_viterbi():
    """librosa's own kernel (whether or not `install` has run)."""
    from librosa import sequence

    return _replaced[0] if _replaced else sequence._viterbi
