"""Decode what people upload or record into RGB frames and 16 kHz mono audio, with PyAV only.

PyAV ships its own FFmpeg, so no system ffmpeg is needed. Bad input never crashes: a file we
cannot use at all raises a `MediaError` with a one-line reason; a file we can partly use comes back
with the missing part empty and a notice saying so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from .errors import CorruptMediaError, EmptyFileError, MediaError, TooLargeError, UnsupportedMediaError
from .features.spec import SAMPLE_RATE, VISUAL_FPS

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".weba", ".aac")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
DEFAULT_MAX_SECONDS = float(os.environ.get("MSA_MAX_SECONDS", 60))
DEFAULT_MAX_UPLOAD_MB = float(os.environ.get("MSA_MAX_UPLOAD_MB", 200))  # also Gradio's max_file_size
DEFAULT_MAX_SIDE = 640  # frames are scaled down to this longest side: faces stay large enough
# FFmpeg picks a demuxer from the bytes, not the name: a text file called .mp4 can be a playlist
# (concat, HLS) that opens other files or URLs. Only the containers we promise are allowed, and only
# local files, so an upload never makes FFmpeg read anything but itself.
OPEN_OPTIONS = {
    "format_whitelist": "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,wav,mp3,flac,ogg,aac",
    "protocol_whitelist": "file",
}
MAX_DECODE_ERRORS = 50  # damaged packets tolerated before we stop and keep what we have


@dataclass
class MediaClip:
    """Decoded input. frames [N, H, W, 3] uint8 at ~`fps`; audio [S] float32 at 16 kHz."""

    kind: str  # "video", "audio" or "image"
    frames: np.ndarray
    frame_times: np.ndarray
    audio: np.ndarray
    duration: float
    source_duration: float | None = None
    notices: list[str] = field(default_factory=list)
    sample_rate: int = SAMPLE_RATE

    @property
    def has_video(self) -> bool:
        return len(self.frames) > 0

    @property
    def has_audio(self) -> bool:
        return len(self.audio) > 0


def media_kind(path: str | os.PathLike) -> str:
    """"video", "audio" or "image" from the file name; UnsupportedMediaError otherwise."""
    suffix = Path(path).suffix.lower()
    for kind, extensions in (
        ("video", VIDEO_EXTENSIONS),
        ("audio", AUDIO_EXTENSIONS),
        ("image", IMAGE_EXTENSIONS),
    ):
        if suffix in extensions:
            return kind
    known = " ".join(VIDEO_EXTENSIONS + AUDIO_EXTENSIONS + IMAGE_EXTENSIONS)
    raise UnsupportedMediaError(f"unsupported file type '{suffix or 'none'}' (we read: {known})")


def load_media(
    path: str | os.PathLike,
    fps: float = VISUAL_FPS,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_side: int = DEFAULT_MAX_SIDE,
    max_mb: float = DEFAULT_MAX_UPLOAD_MB,
    audio_only: bool = False,
) -> MediaClip:
    """Decode a video, audio or image file. Raises MediaError only when nothing is usable.
    `audio_only` skips a video's frames (see `load_audio_track`).

    A file over `max_mb` megabytes (MSA_MAX_UPLOAD_MB, default 200) is refused from its size alone,
    before any byte is decoded (TooLargeError)."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"file not found: {path.name}")
    kind = media_kind(path)
    if path.stat().st_size == 0:
        raise EmptyFileError(f"{path.name} is empty (0 bytes): the upload or recording failed")
    check_size(path, max_mb)
    if kind == "image":
        return load_image(path.read_bytes(), name=path.name)
    try:
        container = av.open(str(path), options=dict(OPEN_OPTIONS))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptMediaError(f"{path.name} is not a readable {kind} file ({_reason(exc)})") from exc
    with container:
        return _decode(container, path.name, kind, fps, max_seconds, max_side, audio_only)


def load_audio_track(path: str | os.PathLike, max_seconds: float = DEFAULT_MAX_SECONDS,
                     max_mb: float = DEFAULT_MAX_UPLOAD_MB) -> np.ndarray | None:
    """A video's audio decoded alone (tens of ms, where the frames take ~0.5 s for 12 s), on the
    timeline `load_media` gives it, so transcription can start while the frames are decoded.
    None when there is no usable audio; `load_media` then says why."""
    try:
        clip = load_media(path, max_seconds=max_seconds, max_mb=max_mb, audio_only=True)
    except MediaError:
        return None
    return clip.audio if len(clip.audio) else None


def upload_limit_bytes(max_mb: float = DEFAULT_MAX_UPLOAD_MB) -> int:
    return int(max_mb * 1024 * 1024)


def check_size(path: str | os.PathLike, max_mb: float = DEFAULT_MAX_UPLOAD_MB) -> None:
    """TooLargeError when the file is over the upload limit (MiB); nothing is read."""
    size = Path(path).stat().st_size
    if size > upload_limit_bytes(max_mb):
        raise TooLargeError(f"{Path(path).name} is {size / 2**20:,.0f} MB, over the {max_mb:g} MB upload "
                            "limit: trim or compress it (only the first minute is analysed anyway)")


def load_image(data: bytes, name: str = "image") -> MediaClip:
    """Decode a still (jpg, png, …) from bytes; used for uploads and for FER2013 inside its zip."""
    import cv2  # comes with mediapipe (opencv-contrib-python); no second OpenCV wheel

    array = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
    if image is None:
        raise CorruptMediaError(f"{name} is not a readable image")
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return MediaClip(
        kind="image",
        frames=rgb[None],
        frame_times=np.zeros(1),
        audio=np.zeros(0, np.float32),
        duration=0.0,
    )


def _reason(exc: Exception) -> str:
    """FFmpeg's reason without the file's path (a server path means nothing to a visitor)."""
    text = getattr(exc, "strerror", None) or str(exc).split(":")[-1].strip() or type(exc).__name__
    return str(text)[:120]


def _decode(container, name: str, kind: str, fps: float, max_seconds: float, max_side: int,
            audio_only: bool = False) -> MediaClip:
    notices: list[str] = []
    # an audio file's "video" stream is cover art, not a face to read
    video = container.streams.video[0] if container.streams.video and kind == "video" else None
    audio = container.streams.audio[0] if container.streams.audio else None
    if video is None and audio is None:
        raise CorruptMediaError(f"{name} has neither a video nor an audio stream")
    source_duration = container.duration / av.time_base if container.duration else None
    if source_duration and source_duration > max_seconds + 0.5:
        notices.append(
            f"input is {source_duration:.0f} s long: only the first {max_seconds:.0f} s are analysed"
        )
    origin = _stream_origin([s for s in (video, audio) if s is not None])  # with the video, even if skipped
    if audio_only:
        if audio is None:
            raise CorruptMediaError(f"{name} has no audio stream")
        video = None
    if video is not None:
        video.thread_type = "AUTO"
    streams = [s for s in (video, audio) if s is not None]

    frames: list[np.ndarray] = []
    frame_times: list[float] = []
    chunks: list[np.ndarray] = []
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE) if audio else None
    audio_start: float | None = None
    next_frame_time = 0.0
    finished = {s.index: False for s in streams}
    errors = 0
    cut = False
    try:
        for packet in container.demux(*streams):
            if finished[packet.stream.index]:
                if all(finished.values()):
                    break
                continue
            try:
                decoded = packet.decode()
            except av.FFmpegError:
                errors += 1
                if errors > MAX_DECODE_ERRORS:
                    notices.append("file is damaged: decoding stopped early, the rest is ignored")
                    break
                continue
            for frame in decoded:
                t = _frame_time(frame, origin)
                if t is None:
                    continue
                if t >= max_seconds:
                    finished[packet.stream.index] = True
                    cut = True
                    break
                if packet.stream.type == "video":
                    if t + 1e-6 >= next_frame_time:
                        frames.append(_to_rgb(frame, max_side))
                        frame_times.append(t)
                        while next_frame_time <= t + 1e-6:
                            next_frame_time += 1.0 / fps
                else:
                    if audio_start is None:
                        audio_start = max(t, 0.0)
                    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    except av.FFmpegError:
        notices.append("file is damaged: decoding stopped early, the rest is ignored")
    if resampler is not None:
        try:
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
        except av.FFmpegError:
            pass
    if errors and errors <= MAX_DECODE_ERRORS:
        notices.append(f"{errors} damaged packet(s) skipped")
    if cut and not any("only the first" in n for n in notices):
        notices.append(f"input is longer than {max_seconds:.0f} s: only the first part is analysed")

    samples = _assemble_audio(chunks, audio_start, max_seconds)
    frame_array = np.stack(frames) if frames else np.zeros((0, 0, 0, 3), np.uint8)
    if not frames and not len(samples):
        raise CorruptMediaError(f"{name} holds no decodable audio or video")
    if kind == "video" and video is None:
        notices.append("no video stream: visual modality off")
    elif video is not None and not frames:
        notices.append("the video stream could not be decoded: visual modality off")
    if audio is None and kind == "video":
        notices.append("no audio track: audio modality off, speech cannot be transcribed")
    elif audio is not None and not len(samples):
        notices.append("the audio track could not be decoded: audio modality off")
    duration = max(
        len(samples) / SAMPLE_RATE,
        (frame_times[-1] + 1.0 / fps) if frame_times else 0.0,
    )
    return MediaClip(
        kind="video" if frames else "audio",
        frames=frame_array,
        frame_times=np.asarray(frame_times, dtype=np.float64),
        audio=samples,
        duration=min(duration, max_seconds),
        source_duration=source_duration,
        notices=notices,
    )


def _stream_origin(streams) -> float:
    """Earliest stream start, so that time 0 is the start of the clip and A/V stay in sync."""
    starts = [
        float(s.start_time * s.time_base) for s in streams if s.start_time is not None and s.time_base
    ]
    return min(starts) if starts else 0.0


def _frame_time(frame, origin: float) -> float | None:
    if frame.pts is None or frame.time_base is None:
        return None
    return float(frame.pts * frame.time_base) - origin


def _to_rgb(frame, max_side: int) -> np.ndarray:
    width, height = frame.width, frame.height
    scale = min(1.0, max_side / max(width, height))
    if scale < 1.0:
        width, height = max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
    rgb = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    rotation = getattr(frame, "rotation", 0) or 0  # counter-clockwise degrees to display upright
    if rotation % 360:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=int(round(rotation / 90)) % 4))
    return rgb


def _assemble_audio(chunks: list[np.ndarray], start: float | None, max_seconds: float) -> np.ndarray:
    if not chunks:
        return np.zeros(0, np.float32)
    samples = np.concatenate(chunks).astype(np.float32, copy=False)
    lead = int(round((start or 0.0) * SAMPLE_RATE))
    if lead > 0:  # audio starts after the video: keep the timelines aligned
        samples = np.concatenate([np.zeros(lead, np.float32), samples])
    return samples[: int(max_seconds * SAMPLE_RATE)]
