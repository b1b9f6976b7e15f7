"""The plain handwriting-style autoencoder (train-sae of the mnist-style repository): the style AAE of
configs/style_aae.py without a discriminator (model.adversarial_weight = 0). Its styles are not pushed to
any prior, so decoding N(0, I) styles (the samples) shows what the adversary adds.
    python -m jaxgen.main --config=configs/style_ae.py --workdir=runs/style_ae
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "style_aae"
    config.model.arch = "conv"
    config.model.latent_dim = 4
    config.model.crop = 2
    config.model.recon_loss = "l1"
    config.model.adversarial_weight = 0.0  # no discriminator
    config.model.label_weight = 1.0
    config.optim.lr = 4e-4
    config.optim.b1 = 0.9
    config.optim.weight_decay = 0.01
    config.train.batch_size = 64
    config.train.num_steps = 11_244
    config.train.eval_every = 937
    config.train.checkpoint_every = 937
    return config
