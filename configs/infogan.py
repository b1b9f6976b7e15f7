"""InfoGAN (Chen et al. 2016, arXiv:1606.03657), MNIST setting: 62 noise dimensions, uniform(-1, 1) like the
reference code's (model.noise; 'normal' was jaxgen's earlier choice), one 10-way categorical and 2
uniform(-1, 1) continuous codes; the Q head shares the discriminator's body, and the mutual-information
loss (weight 1) is minimised by the generator and, on the discriminator's side, by the body with the Q head,
as in the paper's reference code. Its schedule too: Adam (beta1 0.5) at 2e-4 for the discriminator and Q,
1e-3 for the generator (model.gen_lr_scale = 5), batch 128, 5000 updates; and its networks (Table 1,
model.arch = 'paper'; 'dcgan' for the DCGAN stacks).
    python -m jaxgen.main --config=configs/infogan.py --workdir=runs/infogan
    python -m jaxgen.main --config=configs/infogan.py --workdir=runs/infogan --mode=eval   # category error
"""

from jaxgen.config import base_config


def get_config():
    return base_config("infogan")
