"""Convolutional VAE on CelebA faces at 64x64x3 (Kingma & Welling 2013, arXiv:1312.6114), the CelebA VAE
of the original PyTorch repositories: the DCGAN down stack to the mean and log-variance of a 128-d code,
the DCGAN up stack back to the pixels, per-pixel cross-entropy on the [0, 1] colours (no binarisation, no
border crop), Adam 1e-3, batch 128. Faces are centre-cropped to 108x108 and resized to 64x64.
    python -m jaxgen.main --config=configs/celeba_vae.py --workdir=runs/celeba_vae \
        --config.data.image_dir=~/data/celeba/img_align_celeba
(or TFDS celeb_a when it is prepared; any folder of photos with --config.data.name=image_folder).
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "vae",
        model={"arch": "conv", "width": 64, "latent_dim": 128, "binarize": False, "crop": 0},
        data={"name": "celeba", "image_size": 64, "channels": 3, "crop_size": 108},
        optim={"lr": 1e-3},
        train={"batch_size": 128, "num_steps": 30_000, "eval_every": 1000, "checkpoint_every": 1000},
        eval={"likelihood_images": 200},
    )
