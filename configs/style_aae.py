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
    return base_config("style_aae")
