"""Feature-matching GAN for semi-supervised MNIST (Salimans et al. 2016, arXiv:1606.03498, section 5) with
100 labelled images (10 per digit, chosen from the seed and saved as workdir/labelled_subset.json).

The discriminator (MLP 784-1000-500-250-250-250-10, weight norm, Gaussian noise) is the classifier: its 10
logits are the classes and their logsumexp the logit of "real"; the generator (uniform 100 -> 500 -> 500 ->
784) learns by matching the mean of the discriminator's last hidden features on real and generated batches.
Adam 3e-3, beta1 0.5 (1e-8 under the square root, as their Theano Adam), batch 100, 30 epochs (18000
steps; theirs: 300), the test error of the discriminator's running average (decay 0.999) every epoch.
    python -m jaxgen.main --config=configs/fm_gan.py --workdir=runs/fm_gan --seeds=0,1,2
    python -m jaxgen.main --config=configs/fm_gan.py --workdir=runs/fm_gan_1000 --config.data.num_labels=1000
    python -m jaxgen.main --config=configs/fm_gan.py --workdir=runs/fm_gan_supervised \
        --config.model.supervised_only=True      # the same network on the 100 labelled images alone
Test error: --mode=eval (test_error); the paper: 0.93 +- 0.065% at 100 labels (Table 1).
"""

from jaxgen.config import base_config


def get_config():
    return base_config("fm_gan")
