"""DCGAN on CelebA faces at 64x64x3 (Radford et al. 2015, arXiv:1511.06434), the CelebA model of the
original PyTorch repositories: Adam 2e-4, betas (0.5, 0.999), batch 128, the DCGAN stacks (4x4 convs,
BatchNorm, ReLU / LeakyReLU 0.2, tanh output), 100-d noise. Faces are centre-cropped to 108x108 (the
aligned images' face region, as DCGAN-tensorflow) and resized to 64x64.

Data: TFDS celeb_a when it is prepared (its manual download folder, --config.data.tfds_dir), otherwise the
unpacked img_align_celeba folder:
    python -m jaxgen.main --config=configs/celeba_dcgan.py --workdir=runs/celeba_dcgan \
        --config.data.image_dir=~/data/celeba/img_align_celeba
Any other folder of photos: --config.data.name=image_folder --config.data.image_dir=FOLDER.
The first run decodes the images once into $JAXGEN_DATA_DIR/folders (CelebA: 202,599 images, 2.5 GB).
FID-MNIST does not apply (its features are a digit classifier's); the sample grids are the output.
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "gan",
        data={"name": "celeba", "image_size": 64, "channels": 3, "crop_size": 108},
        train={"batch_size": 128, "num_steps": 30_000, "eval_every": 1000, "checkpoint_every": 1000},
    )
