"""Errors a user can cause, each with a message a user understands.

Everything the UI or CLI shows to a person is a `MediaError` (or subclass); anything else is a bug.
"""


class MediaError(Exception):
    """The input cannot be used at all (the CLI exits non-zero, the UI shows the message)."""


class EmptyFileError(MediaError):
    """The file has zero bytes (an interrupted upload or recording)."""


class UnsupportedMediaError(MediaError):
    """The file type is not one we decode."""


class TooLargeError(MediaError):
    """The file is larger than the upload limit (MSA_MAX_UPLOAD_MB); refused before decoding."""


class CorruptMediaError(MediaError):
    """The file claims a media type but holds no decodable audio or video."""


class AssetUnavailable(Exception):
    """A model file (face model, text encoder, Whisper weights) cannot be found or fails its hash.

    Never fatal: the pipeline turns it into "modality off" plus a notice.
    """


class PerturbationError(MediaError):
    """A perturbation that cannot apply: a face perturbation on audio, a severity out of range."""
