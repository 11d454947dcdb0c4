"""One registry for the six models (timm-like): `create_model(name, **cfg)`, `list_models()`.

Each model class carries a `Config` dataclass; `create_model` builds it from keyword arguments, so
a checkpoint's card (`dataclasses.asdict(model.cfg)`) is all that is needed to rebuild the model.
"""

from __future__ import annotations

from typing import Callable

_MODELS: dict[str, type] = {}


def register_model(name: str) -> Callable[[type], type]:
    def decorate(cls: type) -> type:
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(f"model {name!r} is registered twice")
        cls.model_name = name
        _MODELS[name] = cls
        return cls

    return decorate


def list_models() -> list[str]:
    return sorted(_MODELS)


def model_class(name: str) -> type:
    try:
        return _MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(list_models())}") from None


def create_model(name: str, **cfg):
    """Build model `name` with config overrides, e.g. `create_model("midg", d=64, experts=6)`."""
    cls = model_class(name)
    try:
        config = cls.Config(**cfg)
    except TypeError as exc:
        raise TypeError(f"bad config for {name!r}: {exc}") from None
    return cls(config)
