"""A trained model in three lines of Python:

    import jaxgen
    model = jaxgen.load("runs/gan")     # the workdir's config.json and its newest intact checkpoint
    images = model.sample(16)           # float32 [16, 32, 32, 1] in [0, 1]

`load` reads only (a damaged newest checkpoint is reported and an older one used) and needs no config
file: the workdir recorded the resolved config it was trained with. What the model can do depends on its
family: `sample`, `reconstruct`, `encode`, `decode`, `encode_b`, `decode_b`, `reconstruct_b`, `classify`,
`classify_b`, `translate`, `translate_back` raise a clear error where it cannot.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen import metrics, runtime
from jaxgen.config import ConfigError, validate
from jaxgen.data import to_float
from jaxgen.workdir import recorded_config


class Trained:
    """A restored model: its config, family (pure functions) and train state, with plain-numpy methods."""

    def __init__(self, config: ml_collections.ConfigDict, family, state, workdir: Path):
        self.config, self.family, self.state, self.workdir = config, family, state, workdir

    @property
    def step(self) -> int:
        return int(self.state["step"])

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """n generated images, float32 [n, H, W, C] in [0, 1] (the same n for the same seed)."""
        drawn = runtime.draw_many(self._needs("sample"), self.state, jax.random.key(seed), n)
        return np.asarray(drawn["images"])

    def reconstruct(self, images) -> np.ndarray:
        """The model's reconstructions of images (uint8 [N, H, W, C] or float in [0, 1])."""
        return self._apply("reconstruct", images)

    def encode(self, images) -> np.ndarray:
        """The codes of images."""
        return self._apply("encode", images)

    def decode(self, codes) -> np.ndarray:
        """Images decoded from codes [N, D] (float)."""
        return self._apply("decode", codes)

    def encode_b(self, images) -> np.ndarray:
        """The codes of images of the second domain, in the latent space both domains share (UNIT)."""
        return self._apply("encode_b", images)

    def decode_b(self, codes) -> np.ndarray:
        """Images of the second domain decoded from shared-latent codes [N, D] (UNIT)."""
        return self._apply("decode_b", codes)

    def reconstruct_b(self, images) -> np.ndarray:
        """Images of the second domain through its own autoencoder (UNIT; in their own styles where the
        model has them)."""
        return self._apply("reconstruct_b", images)

    def classify(self, images) -> np.ndarray:
        """Class logits of images."""
        return self._apply("classify", images)

    def classify_b(self, images) -> np.ndarray:
        """Class logits of images of the second domain (UNIT's adaptation: no label of theirs was seen)."""
        return self._apply("classify_b", images)

    def translate(self, images) -> np.ndarray:
        """Images translated to the second domain (two-domain models)."""
        return self._apply("translate", images)

    def translate_back(self, images) -> np.ndarray:
        """Images of the second domain translated to the first (unpaired two-domain models)."""
        return self._apply("translate_back", images)

    def _needs(self, ability: str):
        if getattr(self.family.can, ability, None) is None:
            raise ConfigError(f"model {self.config.model.name!r} cannot {ability}")
        return self.family

    def _apply(self, ability: str, inputs) -> np.ndarray:
        """The ability on images (uint8 ones scaled to [0, 1]) or codes, config.eval.chunk rows at a time:
        a whole test split at once would hold every layer's activations of all its images (10,000 through
        a CycleGAN generator ran out)."""
        fn = getattr(self._needs(ability).can, ability)
        inputs = np.asarray(inputs)
        floats = (
            to_float(jnp.asarray(inputs)) if inputs.dtype == np.uint8 else jnp.asarray(inputs, jnp.float32)
        )
        return np.asarray(
            _chunked(fn, self.state["params"], self.state["state"], floats, self.config.eval.chunk)
        )


@functools.partial(jax.jit, static_argnums=(0, 4))
def _chunked(fn, params, state, pixels, chunk: int) -> jax.Array:
    return metrics.map_chunks(lambda x: fn(params, state, x), pixels, chunk)


def load(workdir: str | Path) -> Trained:
    """The model trained in workdir: its recorded config.json and newest intact checkpoint."""
    workdir = Path(workdir)
    config = recorded_config(workdir)
    if config is None:
        raise FileNotFoundError(f"no {workdir / 'config.json'}: train with --workdir={workdir} first")
    validate(config)
    family, state = runtime.restore_model(config, workdir)
    runtime.log(f"loaded {config.model.name} from {workdir} at step {int(state['step'])}")
    return Trained(config, family, state, workdir)
