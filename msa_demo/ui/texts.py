"""Every sentence the page shows, in one place (so the wording is consistent and easy to review)."""

TITLE = "msa-demo · multimodal sentiment analysis"
INTRO = (
    "Record yourself (webcam + mic), upload a clip or an audio file, or just type a sentence. "
    "Whisper writes the transcript (edit it and press **Re-analyse**), MediaPipe reads the face, "
    "librosa the voice; a sentiment model scores the result on **−3 (very negative) … +3 (very "
    "positive)** and the panels below explain the score."
)
NO_INPUT = "Record or upload a clip or an audio file, or type a sentence, then press <b>Analyse</b>."
GENERIC_ERROR = "Something went wrong on our side while analysing this input. It has been logged; please try another input."
CONTRIBUTIONS = (
    "Exact Shapley values over the 8 on/off combinations of text, audio and visual (one batched "
    "pass). **Baseline** = the model's score with every modality switched off (the empty input); "
    "baseline + the three contributions = the score. A modality the input lacks contributes exactly 0."
)
ROUTING = (
    "**Routing, not attribution.** These are the model's internal gates / expert shares / attention "
    "weights: where it sent its computation for this input. They do not measure how much a modality "
    "moved the score; the contributions above do."
)
ROBUSTNESS = (
    "Switch modalities off or drop a share of the time steps (frames, audio frames, tokens; the same "
    "steps for the same slider position) and the model re-scores at once from the cached features: "
    "nothing is re-extracted."
)
COMPARE = ("All six models on the input last analysed in the **Live** tab (or opened from **Error "
           "analysis**), compared when this tab opens.")
COMPARE_EMPTY = "Analyse something in the **Live** tab first; the comparison uses its features."
UNTRAINED = "untrained (random weights): its scores mean nothing"
PERTURB = (
    "**Degrade the media itself** and watch the score: noise, reverb, a narrow band or clipping on the "
    "voice; blur, a covered upper or lower face, low light or dropped frames on the picture; ASR-like "
    "word errors on the transcript. The degraded media is read again (a noisy voice is transcribed "
    "again by Whisper unless you typed the words); the other modalities keep their clean features. "
    "Severities are in the kind's own unit; leave the box empty for the defaults."
)
PERTURB_EMPTY = "Analyse an input first; the perturbation degrades its media."
PERTURB_COMPARE_EMPTY = ("Run a perturbation in the **Live** tab; every model is then scored on the same "
                         "degraded inputs.")
PERTURB_STALE = "The last perturbation was run on another input: run it again in the **Live** tab."
NO_WORDS = "No transcript: no words to weigh."
WORDS = (
    "**Word attribution** (leave-one-word-out): how much each word moves the text's contribution, "
    "measured by re-reading the transcript without it. Green pushes the score up, red down; hover for "
    "the value. The strongest word is fully shaded."
)
OVER_TIME = (
    "The clip in 3 s windows (hop 1 s), each scored and explained alone from the cached features: "
    "when the sentiment turns, and which modality turns it. Typed text has no times, so it is in "
    "every window."
)
AROUSAL = ("**How strongly** (arousal: calm ↔ agitated; its own reading of the voice and the face, "
           "not part of the score):")
SESSION_VOICE = ("measure the voice against the median of all your recordings in this session (the "
                 "first: against itself); untick when someone else speaks")
