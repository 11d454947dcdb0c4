"""Perturbation robustness on the media itself: degrade the audio, the face or the transcript at a
chosen severity, re-extract, and watch the score (OpenVNA's idea, on this app's own path).

dsp.py (shared with training's voice augmentation) -> audio.py, video.py, text.py (one degradation
each, pure functions of the media) -> kinds.py (the catalogue: names, units, defaults, ranges) ->
sweep.py (re-extract over severities and score). Nothing here is imported eagerly: training imports
dsp.py without the app.
"""
