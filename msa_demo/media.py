"""Decode what people upload or record into RGB frames and 16 kHz mono audio, with PyAV only.

PyAV ships its own FFmpeg, so no system ffmpeg is needed. Bad input never crashes: a file we
cannot use at all raises a `MediaError` with a one-line reason; a file we can partly use comes back
with the missing part empty and a notice saying so. Damage is contained where it is: a packet that
will not decode is skipped, a stream with too many of them is given up alone (the other one is still
read), audio whose format changes mid-stream is resampled piece by piece (audio_track.py), and any
other error inside the demuxer ends decoding with what was read so far kept.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from .audio_track import AudioTrack
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
MAX_DECODE_ERRORS = 50  # damaged packets tolerated in one stream before we stop reading it

log = logging.getLogger(__name__)


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

    @classmethod
    def of_audio(cls, samples: np.ndarray) -> "MediaClip":
        """16 kHz audio held in memory (a waveform made by training's voice augmentation)."""
        audio = np.asarray(samples, dtype=np.float32)
        return cls(kind="audio", frames=np.zeros((0, 1, 1, 3), np.uint8), frame_times=np.zeros(0),
                   audio=audio, duration=len(audio) / SAMPLE_RATE)

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
    for threaded in (True, False):
        try:
            container = av.open(str(path), options=dict(OPEN_OPTIONS))
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise CorruptMediaError(f"{path.name} is not a readable {kind} file ({_reason(exc)})") from exc
        try:
            with container:
                return _decode(container, path.name, kind, fps, max_seconds, max_side, audio_only, threaded)
        except _DamagedVideo:
            continue  # again, one thread: the same file must give the same frames every time
    raise AssertionError("unreachable: the single-threaded pass does not raise _DamagedVideo")


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


class _DamagedVideo(Exception):
    """A damaged picture seen while frame-threaded: FFmpeg's error concealment then depends on thread
    timing (the fuzzer's audio_format_change.mp4 gave other pixels, and another score, on each run),
    so the video is decoded again on one thread, which conceals the same way every time."""


def _decode(container, name: str, kind: str, fps: float, max_seconds: float, max_side: int,
            audio_only: bool = False, threaded: bool = True) -> MediaClip:
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
    if video is not None and threaded:
        video.thread_type = "AUTO"
    streams = [s for s in (video, audio) if s is not None]

    frames: list[np.ndarray] = []
    frame_times: list[float] = []
    track = AudioTrack(max_seconds) if audio is not None else None
    next_frame_time = 0.0
    finished = {s.index: False for s in streams}
    errors = {s.type: 0 for s in streams}  # packets that would not decode, per stream
    unreadable = 0  # decoded video frames that would not convert to RGB
    concealed = 0  # damaged video frames the decoder patched up
    abandoned: list[str] = []  # streams given up on after too many damaged packets
    cut = stopped = False
    try:
        for packet in container.demux(*streams):
            index = packet.stream.index
            if index not in finished:  # (an "empty" flush packet may carry another stream)
                continue
            if finished[index]:
                if all(finished.values()):
                    break
                continue
            try:
                decoded = packet.decode()
            except (av.FFmpegError, ValueError) as exc:
                if packet.stream.type == "video" and threaded:
                    raise _DamagedVideo from exc
                errors[packet.stream.type] += 1
                if packet.stream.type == "audio":
                    track.lost(_packet_seconds(packet))
                if errors[packet.stream.type] > MAX_DECODE_ERRORS:  # give up on this stream only
                    finished[index] = True
                    abandoned.append(packet.stream.type)
                log.debug("%s: %s packet not decoded: %s", name, packet.stream.type, exc)
                continue
            for frame in decoded:
                t = _frame_time(frame, origin)
                if t is None:
                    continue
                if t >= max_seconds:
                    finished[index] = True
                    cut = True
                    break
                if packet.stream.type == "video":
                    if frame.is_corrupt:
                        if threaded:
                            raise _DamagedVideo
                        concealed += 1
                    if t + 1e-6 >= next_frame_time:
                        try:
                            frames.append(_to_rgb(frame, max_side))
                        except (av.FFmpegError, ValueError) as exc:
                            unreadable += 1
                            log.debug("%s: video frame not converted: %s", name, exc)
                            continue
                        frame_times.append(t)
                        while next_frame_time <= t + 1e-6:
                            next_frame_time += 1.0 / fps
                else:
                    track.add(frame, t)
    except _DamagedVideo:
        raise
    except Exception as exc:  # noqa: BLE001 - damaged input: keep what decoded (logged, in case it is ours)
        log.warning("%s: decoding stopped early (%s: %s)", name, type(exc).__name__, exc,
                    exc_info=not isinstance(exc, av.FFmpegError))
        stopped = True
    lost = sum(errors.values())
    if stopped:
        notices.append("file is damaged: decoding stopped early, the rest is ignored")
    for kind_lost in abandoned:
        notices.append(f"the {kind_lost} stream is badly damaged: the rest of it is ignored")
    if lost:
        where = ", ".join(f"{kind} {n}" for kind, n in errors.items() if n)
        notices.append(f"{lost} damaged packet(s) skipped ({where})")
    if concealed:
        notices.append(f"the video is damaged: the decoder patched {concealed} frame(s)")
    if unreadable:
        notices.append(f"{unreadable} video frame(s) could not be converted and were skipped")
    if track is not None:
        notices += track.notices()
    if cut and not any("only the first" in n for n in notices):
        notices.append(f"input is longer than {max_seconds:.0f} s: only the first part is analysed")

    samples = track.samples() if track is not None else np.zeros(0, np.float32)
    frame_array = _stack(frames, notices) if frames else np.zeros((0, 0, 0, 3), np.uint8)
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


def _packet_seconds(packet) -> float:
    """How long a packet plays (0 when the container does not say)."""
    try:
        return float(packet.duration * packet.time_base) if packet.duration and packet.time_base else 0.0
    except (TypeError, ValueError, OverflowError):
        return 0.0


def _frame_time(frame, origin: float) -> float | None:
    if frame.pts is None or frame.time_base is None:
        return None
    return float(frame.pts * frame.time_base) - origin


def _stack(frames: list[np.ndarray], notices: list[str]) -> np.ndarray:
    """[N, H, W, 3]. A stream whose picture size changes mid-way (a damaged or spliced file) has its
    odd frames scaled to the first frame's size, instead of failing the whole clip."""
    height, width = frames[0].shape[:2]
    odd = [i for i, f in enumerate(frames) if f.shape[:2] != (height, width)]
    if odd:
        import cv2  # comes with mediapipe

        for i in odd:
            frames[i] = cv2.resize(frames[i], (width, height), interpolation=cv2.INTER_AREA)
        notices.append(f"the picture size changes mid-stream: {len(odd)} frame(s) rescaled to {width}x{height}")
    return np.stack(frames)


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
