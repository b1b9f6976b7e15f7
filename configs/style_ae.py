"""The plain handwriting-style autoencoder (train-sae of the mnist-style repository): the style AAE of
configs/style_aae.py without a discriminator (model.adversarial_weight = 0). Its styles are not pushed to
any prior, so decoding N(0, I) styles (the samples) shows what the adversary adds.
    python -m jaxgen.main --config=configs/style_ae.py --workdir=runs/style_ae
"""

from jaxgen.config import base_config


def get_config():
    return base_config("style_aae", model={"adversarial_weight": 0.0})
