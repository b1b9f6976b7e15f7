"""Model registry: name -> family factory. The only way the trainer finds a model.

A factory is `make(model_config, optimizer, image_shape) -> Family` (see jaxgen/models/family.py).
"""

from __future__ import annotations

from jaxgen.models import aae, autoencoder, classifier, conditional_gan, energy_gan, gan, vae, vaegan
from jaxgen.models.family import Family, Update, apply_net, init_networks

REGISTRY = {
    "classifier": classifier.make,
    "ae": autoencoder.make,
    "gan": gan.make_gan,
    "wgan": gan.make_wgan,
    "wgan_gp": gan.make_wgan_gp,
    "lsgan": gan.make_lsgan,
    "ebgan": energy_gan.make_ebgan,
    "began": energy_gan.make_began,
    "cgan": conditional_gan.make_cgan,
    "acgan": conditional_gan.make_acgan,
    "infogan": conditional_gan.make_infogan,
    "vae": vae.make,
    "vaegan": vaegan.make,
    "aae": aae.make_aae,
    "style_aae": aae.make_style_aae,
    "ssaae": aae.make_semi_supervised_aae,
}

__all__ = ["REGISTRY", "Family", "Update", "apply_net", "init_networks"]
