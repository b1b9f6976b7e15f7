"""Semi-supervised adversarial autoencoder (Makhzani et al. 2015, arXiv:1511.05644, section 5) with 100
labelled MNIST images (10 per digit, chosen from the seed and saved as workdir/labelled_subset.json).

MLP encoder 784-1000-1000 -> (softmax over 10 digits, 10-d style), decoder (y, z) -> 1000-1000-784
(sigmoid, cross-entropy); a discriminator 1000-1000 on y (real: one-hot uniform digits) and one on z
(real: N(0, I)). Each step runs the paper's phases, each on its own batch with its own optimizer state and
learning rate (optim.lr x model.recon_lr_scale / adversarial_lr_scale / label_lr_scale; Adam 2e-4, the
reconstruction phase 5x that): reconstruction (encoder and decoder); regularisation (both discriminators,
then the encoder fooling them); semi-supervised classification (the encoder's cross-entropy on a labelled
batch). Batch 100. Not from the paper: N(0, 0.3^2) noise on the encoder's input pixels in every training
phase (model.input_noise; 0 = off), which slows the memorising of the 100 labelled images.
    python -m jaxgen.main --config=configs/ssaae.py --workdir=runs/ssaae_100
    python -m jaxgen.main --config=configs/ssaae.py --workdir=runs/ssaae_1000 --config.data.num_labels=1000
    python -m jaxgen.main --config=configs/ssaae.py --workdir=runs/ssaae --seeds=0,1,2   # mean +- std
Test error: --mode=eval (test_error); the paper reports 1.90% (100 labels), 1.60% (1000), 0.85% (all).
"""

from jaxgen.config import base_config


def get_config():
    return base_config("ssaae")
