"""Model registry: name -> ModelSpec (jaxgen/models/family.py). The only way the trainer finds a model.

Each family module lists its models in `MODELS`; `register` adds a model from outside the package (a
user's own family file, imported by the config file that trains it).
"""

from __future__ import annotations

from jaxgen.models import (
    aae,
    autoencoder,
    classifier,
    conditional_gan,
    energy_gan,
    gan,
    semi_gan,
    translation,
    vae,
    vaegan,
)
from jaxgen.models.family import (
    Abilities,
    Boosted,
    Family,
    ModelSpec,
    Pictures,
    Prior,
    Setup,
    Update,
    apply_net,
    init_networks,
)

REGISTRY: dict[str, ModelSpec] = {}
for _module in (
    classifier,
    autoencoder,
    vae,
    vaegan,
    gan,
    energy_gan,
    conditional_gan,
    aae,
    semi_gan,
    translation,
):
    REGISTRY.update(_module.MODELS)


def register(name: str, spec: ModelSpec) -> ModelSpec:
    """Make `name` a model: `base_config(name)` then builds its config block and the trainer its family."""
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"register({name!r}, ...) needs a ModelSpec, got {type(spec).__name__}")
    REGISTRY[name] = spec
    return spec


__all__ = [
    "REGISTRY",
    "Abilities",
    "Boosted",
    "Family",
    "ModelSpec",
    "Pictures",
    "Prior",
    "Setup",
    "Update",
    "apply_net",
    "init_networks",
    "register",
]
