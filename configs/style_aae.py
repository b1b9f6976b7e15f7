"""The handwriting-style adversarial autoencoder (train-aae of the mnist-style repository; Makhzani et al.
2015, arXiv:1511.05644, section 5 with a cross-entropy on the labels instead of the categorical adversary).

The encoder (GroupNorm convs) gives digit logits and a 4-d style; the decoder writes (one-hot digit, style);
a digit-aware discriminator on (one-hot digit, style) pushes each digit's styles to N(0, I).
That repository's settings: AdamW lr 4e-4 (weight decay 0.01), batch 64, feature size 4, L1 reconstruction,
adversarial weight 0.1; 12 epochs.
    python -m jaxgen.main --config=configs/style_aae.py --workdir=runs/style_aae
    python -m jaxgen.main --config=configs/style_aae.py --workdir=runs/style_aae --mode=viz
The plain style autoencoder (train-sae): configs/style_ae.py.
"""

from jaxgen.config import base_config


def get_config():
    config = base_config()
    config.model.name = "style_aae"
    config.model.arch = "conv"
    config.model.latent_dim = 4  # the style vector (--feat-size)
    config.model.crop = 2  # reconstruction loss over the 784 digit pixels
    config.model.recon_loss = "l1"
    config.model.adversarial_weight = 0.1
    config.model.label_weight = 1.0
    config.optim.lr = 4e-4
    config.optim.b1 = 0.9
    config.optim.weight_decay = 0.01  # PyTorch's AdamW default
    config.train.batch_size = 64
    config.train.num_steps = 11_244  # 12 epochs of 937 batches
    config.train.eval_every = 937
    config.train.checkpoint_every = 937
    return config
