"""The likelihood config: MLP VAE 784-500-500-(50)-500-500-784 trained on the IWAE bound with k=5 samples.

Burda et al. 2015 (arXiv:1509.00519), Table 1, on dynamically binarised MNIST report test NLL 86.76 nats
(VAE, k=1) and 84.78 (IWAE, k=50) for one stochastic layer after 3280 epochs. This config is what fits a
CPU budget: ~170 epochs (100k steps of 100 images), Adam 1e-3 with cosine decay. Score it with
--mode=eval (test ELBO and IWAE bound, k=5000):
    python -m jaxgen.main --config=configs/vae_iwae.py --workdir=runs/vae_iwae
    python -m jaxgen.main --config=configs/vae_iwae.py --workdir=runs/vae_iwae --mode=eval
(--config.eval.likelihood_dtype=bfloat16 computes the bounds about twice as fast on a CPU with bf16 units,
0.001 nats from float32's in the README's measurements.)
"""

from jaxgen.config import base_config


def get_config():
    return base_config(
        "vae",
        model={"hidden": 500, "depth": 2, "latent_dim": 50, "iwae_k": 5},
        optim={"schedule": "cosine"},
        train={
            "batch_size": 100,
            "num_steps": 100_000,
            "log_every": 1000,
            "eval_every": 10_000,
            "checkpoint_every": 10_000,
        },
    )
