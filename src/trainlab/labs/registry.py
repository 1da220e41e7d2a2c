"""The lab registry: lab name -> ``Lab`` subclass. Each lab module registers itself with
``@register`` (the class's ``name``); ``trainlab.labs`` imports them all."""

from __future__ import annotations

from trainlab.labs.base import Lab
from trainlab.registry import Registry

LABS = Registry("lab")


def register(cls: type[Lab]) -> type[Lab]:
    if not cls.name or not cls.title:
        raise TypeError(f"lab class {cls.__name__} needs a name and a title")
    return LABS.register(cls.name, cls)
