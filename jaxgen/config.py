"""The base experiment config: every field jaxgen reads is defined here once, with a comment.

Experiment files in `configs/` call `base_config()` and override a few fields. `validate()` is the one
place where incompatible values are rejected, with a message that names the field.
"""

from __future__ import annotations

import ml_collections


def base_config() -> ml_collections.ConfigDict:
    """Return the unlocked base config; experiment files override fields and return it."""
    c = ml_collections.ConfigDict()
    c.seed = 0  # every random draw (init, noise, data order) derives from this

    c.data = ml_collections.ConfigDict()
    c.data.name = "mnist"  # 'mnist' (offline sources) or a TFDS name ('fashion_mnist', 'celeb_a')
    c.data.source = "auto"  # auto | cache | idx | mirror | tfds (auto: cache -> idx -> mirror -> tfds)
    c.data.idx_dir = ""  # folder with train-images-idx3-ubyte[.gz] etc. (the originals' ./data)
    c.data.tfds_dir = ""  # TFDS data_dir; empty = TFDS default (~/tensorflow_datasets)
    c.data.image_size = 32  # MNIST is zero-padded 28 -> 32; CelebA is centre-cropped and resized
    c.data.val_size = 0  # images held out of the end of train as a validation split
    c.data.num_labels = 0  # semi-supervised models: labelled train images, balanced over 10 classes; 0 = all

    c.model = ml_collections.ConfigDict()
    c.model.name = ""  # a name in jaxgen.models.REGISTRY
    c.model.latent_dim = 100  # size of the noise / code vector
    c.model.arch = "conv"  # network shape of encoder/decoder families (autoencoders, VAE; see each family)
    c.model.width = 64  # channels of the first conv layer; later layers double it
    c.model.gan_loss = "non_saturating"  # non_saturating | minimax (GAN family)
    c.model.n_critic = 1  # discriminator updates per generator update
    c.model.disc_batch_norm = True  # BatchNorm in the discriminator / critic (GAN family)
    c.model.clip_value = 0.01  # WGAN: critic weights are clipped to [-c, c] after every update
    c.model.gp_weight = 10.0  # WGAN-GP: weight lambda of the gradient penalty
    c.model.info_continuous = 2  # InfoGAN: continuous codes, uniform on (-1, 1), besides the 10-way category
    c.model.info_weight = 1.0  # InfoGAN: weight lambda of the mutual-information loss
    c.model.disc_code_dim = 64  # BEGAN / EBGAN: code size of the autoencoder discriminator
    c.model.began_gamma = 0.5  # BEGAN: diversity ratio gamma = E L(G(z)) / E L(x) at equilibrium
    c.model.began_lambda_k = 0.001  # BEGAN: learning rate of the control variable k
    c.model.ebgan_margin = 1.0  # EBGAN: margin m of the discriminator's hinge on fake energies (MSE units)
    c.model.pt_weight = 0.1  # EBGAN: weight of the pulling-away term in the generator loss (0 = off)
    c.model.prior = "gaussian"  # AAE code prior: gaussian | mixture | triangle | donut | swiss_roll
    c.model.adversarial_weight = 1.0  # AAEs: weight of the encoder's adversarial loss (0: no discriminator)
    c.model.label_weight = 1.0  # style / semi-supervised AAEs: weight of the digit cross-entropy
    c.model.recon_loss = "mse"  # mse | bce | l1 (autoencoders)
    c.model.code_activation = "none"  # none | sigmoid: codes bounded to (0, 1) (autoencoders)
    c.model.code_l2 = 0.0  # weight of the mean squared code in the loss (the seeds' L2 latent penalty: 0.2)
    c.model.code_l1 = 0.0  # weight of the mean absolute code in the loss (sparse autoencoder)
    c.model.input_dropout = 0.0  # denoising AE: each input pixel zeroed with this probability; clean target
    c.model.contractive = 0.0  # weight of the encoder Jacobian's squared Frobenius norm (contractive AE)
    c.model.hidden = 400  # units of each hidden layer of MLP networks
    c.model.depth = 1  # hidden layers of MLP networks (before the output layer)
    c.model.crop = 0  # pixels cut from each border before an MLP model (2: MNIST's 28x28 inside the padding)
    c.model.binarize = False  # train on dynamically binarised images, x ~ Bernoulli(pixel) (VAE)
    c.model.iwae_k = 1  # VAE objective: 1 = ELBO, k > 1 = importance-weighted bound with k samples
    c.model.decoder_dist = "bernoulli"  # VAE likelihood: bernoulli | gaussian (learned shared scale)
    c.model.feature_weight = 1.0  # VAE-GAN: weight of the feature-space reconstruction in the decoder loss
    c.model.kl_weight = 1.0  # weight of the KL term in the VAE loss (1 = the ELBO; beta-VAE otherwise)
    c.model.compute_dtype = "float32"  # float32 | bfloat16: conv operands only (sums, params stay float32)
    c.model.conv_impl = "auto"  # auto | xla | cpu | matmul: how convs are lowered (jaxgen/layers.py)

    c.optim = ml_collections.ConfigDict()
    c.optim.name = "adam"  # adam | rmsprop | sgd; one optimizer per network
    c.optim.lr = 2e-4  # learning rate of every network
    c.optim.schedule = "constant"  # constant | cosine (decay to 0 over train.num_steps)
    c.optim.b1 = 0.5  # Adam beta1 (DCGAN setting)
    c.optim.b2 = 0.999  # Adam beta2
    c.optim.decay = 0.99  # RMSProp decay (PyTorch's alpha)
    c.optim.momentum = 0.0  # SGD / RMSProp momentum
    c.optim.weight_decay = 0.0  # decoupled weight decay (0 = off)

    c.train = ml_collections.ConfigDict()
    c.train.batch_size = 64  # global batch, split over all local devices
    c.train.num_steps = 10_000  # one step = one pass through the model's list of updates
    c.train.steps_per_call = 0  # steps fused into one compiled call (lax.scan); 0 = per-backend default
    c.train.log_every = 100  # steps between metric logs (the only host transfers of metrics)
    c.train.eval_every = 1000  # steps between sample grids and evaluation metrics
    c.train.checkpoint_every = 1000  # steps between checkpoints
    c.train.keep_checkpoints = 3  # how many recent checkpoints are kept
    c.train.num_grid_images = 64  # images in each sample / reconstruction grid
    c.train.compilation_cache = True  # use JAX's persistent compilation cache (see jaxgen/train.py)

    c.sample = ml_collections.ConfigDict()
    c.sample.num = 1000  # images written by --mode=sample
    c.sample.seed = 1  # key for --mode=sample, separate from training noise

    c.eval = ml_collections.ConfigDict()  # --mode=eval and --mode=viz (jaxgen/evaluate.py, jaxgen/embed.py)
    c.eval.seed = 2  # key for evaluation samples, KID subsets, binarisation and IWAE draws
    c.eval.num_samples = 10_000  # generated images scored; the real-vs-real floor uses as many train images
    c.eval.extractor = ""  # feature extractor .npz (with its .json); empty = the one packaged with jaxgen
    c.eval.kid_subsets = 100  # KID: MMD^2 averaged over this many random subsets ...
    c.eval.kid_subset_size = 1000  # ... of this size (capped by the number of images)
    c.eval.pr_k = 3  # precision/recall: k of the k-NN balls (Kynkäänniemi et al. 2019)
    c.eval.knn_k = 5  # k-NN accuracy of codes
    c.eval.probe_l2 = 1e-4  # linear probe: L2 weight on standardised codes
    c.eval.probe_steps = 300  # linear probe: L-BFGS iterations
    c.eval.iwae_k = 5000  # importance samples per image for the IWAE bound (Burda et al. 2015)
    c.eval.iwae_chunk = 500  # importance samples drawn per pass (memory bound; divides iwae_k)
    c.eval.likelihood_images = 0  # test images in ELBO / IWAE (0 = all)
    c.eval.chunk = 500  # images per compiled pass of feature extraction (results do not depend on it)
    c.eval.embed_points = 5000  # test images shown in the PCA / t-SNE pictures
    return c


_CHOICES = {
    "data.source": ("auto", "cache", "idx", "mirror", "tfds"),
    "model.gan_loss": ("non_saturating", "minimax"),
    "model.recon_loss": ("mse", "bce", "l1"),
    "model.prior": ("gaussian", "mixture", "triangle", "donut", "swiss_roll"),
    "model.code_activation": ("none", "sigmoid"),
    "model.decoder_dist": ("bernoulli", "gaussian"),
    "model.conv_impl": ("auto", "xla", "cpu", "matmul"),
    "model.compute_dtype": ("float32", "bfloat16"),
    "optim.name": ("adam", "rmsprop", "sgd"),
    "optim.schedule": ("constant", "cosine"),
}

_POSITIVE = (
    "model.latent_dim",
    "model.width",
    "model.n_critic",
    "model.disc_code_dim",
    "model.hidden",
    "model.depth",
    "model.iwae_k",
    "data.image_size",
    "train.batch_size",
    "train.num_steps",
    "train.log_every",
    "train.eval_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.num_grid_images",
    "sample.num",
    "eval.num_samples",
    "eval.kid_subsets",
    "eval.kid_subset_size",
    "eval.pr_k",
    "eval.knn_k",
    "eval.probe_steps",
    "eval.iwae_k",
    "eval.iwae_chunk",
    "eval.chunk",
    "eval.embed_points",
)


# model.arch values each family builds (families not listed ignore the field)
_ARCHS = {
    "ae": ("conv", "mlp", "fully_conv", "conv_linear", "linear"),
    "vae": ("mlp", "conv"),
    "style_aae": ("conv", "mlp"),
    "ssaae": ("conv", "mlp"),
}


class ConfigError(ValueError):
    """An invalid config value; the message names the field."""


def _get(config: ml_collections.ConfigDict, dotted: str):
    value = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def validate(config: ml_collections.ConfigDict) -> None:
    """Raise ConfigError naming the first field whose value is invalid or incompatible."""
    from jaxgen.models import REGISTRY  # late import: models import this module

    if config.model.name not in REGISTRY:
        raise ConfigError(
            f"model.name={config.model.name!r} is not a model; choose one of {sorted(REGISTRY)}"
        )
    for field, choices in _CHOICES.items():
        if _get(config, field) not in choices:
            raise ConfigError(f"{field}={_get(config, field)!r} is invalid; choose one of {list(choices)}")
    for field in _POSITIVE:
        if not _get(config, field) > 0:
            raise ConfigError(f"{field}={_get(config, field)!r} must be positive")
    if config.optim.lr <= 0:
        raise ConfigError(f"optim.lr={config.optim.lr} must be positive")
    if config.model.crop < 0 or 2 * config.model.crop >= config.data.image_size:
        raise ConfigError(
            f"model.crop={config.model.crop} must be >= 0 and leave pixels of a "
            f"{config.data.image_size}x{config.data.image_size} image"
        )
    archs = _ARCHS.get(config.model.name)
    if archs is not None and config.model.arch not in archs:
        raise ConfigError(
            f"model.arch={config.model.arch!r} is not an architecture of model {config.model.name!r}; "
            f"choose one of {list(archs)}"
        )
    if config.model.name == "ae":
        from jaxgen.models.autoencoder import config_problem

        problem = config_problem(config.model, config.data.image_size)
        if problem:
            raise ConfigError(problem)
    for field in (
        "model.code_l2",
        "model.code_l1",
        "model.contractive",
        "model.kl_weight",
        "model.feature_weight",
        "model.gp_weight",
        "model.info_weight",
        "model.info_continuous",
        "model.began_gamma",
        "model.began_lambda_k",
        "model.ebgan_margin",
        "model.pt_weight",
        "model.adversarial_weight",
        "model.label_weight",
    ):
        if _get(config, field) < 0:
            raise ConfigError(f"{field}={_get(config, field)} must be >= 0")
    if config.model.name == "aae":
        from jaxgen.models.priors import prior_problem

        problem = prior_problem(config.model.prior, config.model.latent_dim)
        if problem:
            raise ConfigError(problem)
    if config.data.num_labels < 0 or config.data.num_labels % 10:
        raise ConfigError(
            f"data.num_labels={config.data.num_labels} must be 0 (every label) or a positive multiple of 10 "
            "(the same number of labelled images of each class)"
        )
    if not 0.0 <= config.model.input_dropout < 1.0:
        raise ConfigError(f"model.input_dropout={config.model.input_dropout} must be in [0, 1)")
    if config.data.val_size < 0:
        raise ConfigError(f"data.val_size={config.data.val_size} must be >= 0")
    if config.train.steps_per_call < 0:
        raise ConfigError(f"train.steps_per_call={config.train.steps_per_call} must be >= 0 (0 = automatic)")
    if config.data.name != "mnist" and config.data.source in ("cache", "idx", "mirror"):
        raise ConfigError(
            f"data.source={config.data.source!r} only serves MNIST; "
            f"data.name={config.data.name!r} needs data.source='tfds' or 'auto'"
        )
    if config.eval.iwae_k % min(config.eval.iwae_chunk, config.eval.iwae_k):
        raise ConfigError(
            f"eval.iwae_k={config.eval.iwae_k} must be at most, or a multiple of, "
            f"eval.iwae_chunk={config.eval.iwae_chunk}"
        )
    if config.eval.kid_subset_size < 2:
        raise ConfigError("eval.kid_subset_size must be at least 2 (the unbiased MMD^2 leaves out diagonals)")
    if config.data.source == "idx" and not config.data.idx_dir:
        raise ConfigError("data.source='idx' needs data.idx_dir, the folder holding the IDX files")
