"""Semi-supervised GAN with a K+1-class discriminator (Odena 2016, arXiv:1606.01583) at 100 labels.

The discriminator's eleventh output is "fake"; the generator learns by the non-saturating GAN loss on
"not fake". Same networks, data and schedule as configs/fm_gan.py (Salimans et al.'s MNIST model), so the
two rows differ only in the fake logit and the generator's objective.
    python -m jaxgen.main --config=configs/sgan.py --workdir=runs/sgan --seeds=0,1,2
Test error: --mode=eval (test_error).
"""

from jaxgen.config import base_config


def get_config():
    return base_config("sgan")
