"""The experiment config: the fields every model shares, defined here once with a comment, plus the `model`
block that the chosen model's family declares (jaxgen/models/*.py `MODELS`).

Experiment files in `configs/` call `base_config("<model>")` and override a few fields. The config is
locked: setting a field that does not exist (a typo) fails at once with the nearest valid name.
`validate()` is the one place where values are rejected, with a message that names the field: the shared
rules below, then the rules the model's `ModelSpec` declares for its block.
"""

from __future__ import annotations

import difflib

import ml_collections


class ConfigError(ValueError):
    """An invalid config value; the message names the field."""


def base_config(model_name: str = "", /, **overrides) -> ml_collections.ConfigDict:
    """The locked config of `model_name` (a name in jaxgen.models.REGISTRY): the shared fields with the
    model's paper settings applied, its `model` block with the family's defaults, then `overrides`: a
    section's fields as a dict (`model={"arch": "mlp"}`), or a top-level field (`seed=3`)."""
    c = ml_collections.ConfigDict()
    c.seed = 0  # every random draw (init, noise, data order) derives from this

    c.data = ml_collections.ConfigDict()
    # 'mnist' (offline sources), 'uci_digits' (scikit-learn's bundled copy), 'image_folder' (data.image_dir),
    # 'celeba' (TFDS celeb_a, or data.image_dir pointed at img_align_celeba) or a TFDS name ('fashion_mnist')
    c.data.name = "mnist"
    c.data.source = "auto"  # auto | cache | idx | mirror | tfds (auto: cache -> idx -> mirror -> tfds)
    c.data.idx_dir = ""  # folder with train-images-idx3-ubyte[.gz] etc. (the originals' ./data)
    c.data.tfds_dir = ""  # TFDS data_dir; empty = TFDS default (~/tensorflow_datasets)
    c.data.image_size = 32  # MNIST is zero-padded 28 -> 32; CelebA is centre-cropped and resized
    c.data.val_size = 0  # images held out of the end of train as a validation split
    c.data.num_labels = 0  # models trained on a labelled subset: its size, balanced over 10 classes; 0 = all
    c.data.domain_a = "original"  # the images as loaded, or a transform of them (jaxgen/data/domains.py)
    # True: every training batch takes a fresh draw of domain A's random transform (the distorted MNISTs'
    # rotations, warps), so an image is not seen twice with one distortion; test and validation images, and
    # the training images evaluation reads, keep their fixed per-index draw
    c.data.redraw_domain_a = False
    c.data.domain_b = ""  # two-domain models: the second domain, a name in jaxgen/data/domains.py
    # two-domain models: the dataset domain B is drawn from; "" = data.name's own images, derived by
    # data.domain_b (unpaired models then take each domain from its own half of the training set); or
    # another dataset ("uci_digits", a TFDS name) whose images data.domain_b transforms ("original": as is)
    c.data.name_b = ""
    # unpaired two-domain models: label domain B's training images from both domains' images and domain A's
    # labels alone (jaxgen/data/matching.py; "gromov_wasserstein"), never B's own; "" = none. Batches then
    # carry them as "matched_label_b" (UNIT reads them with model.matched_weight)
    c.data.match_b = ""
    c.data.match_count = 2000  # images of each domain the matching couples (its time grows as the cube)
    c.data.match_epsilon = 5e-4  # the matching's entropic regularisation (distances have mean 1)
    c.data.classes = ""  # comma-separated digits to keep in every split ('5,6,7,8,9'); "" = all of them
    # > 0: train on only this many images of each class, chosen by data.subset_seed (few-label transfer)
    c.data.train_per_class = 0
    c.data.subset_seed = 0  # which images data.train_per_class keeps
    # data.name='image_folder' (or 'celeba' without TFDS): a folder of PNG / JPEG images, searched recursively
    c.data.image_dir = ""
    c.data.channels = 3  # image_folder: 1 (grey) or 3 (RGB)
    c.data.crop_size = 0  # larger images: centre-cropped to this square (0: the shorter side), then resized
    c.data.mixed_sizes = False  # image_folder: accept images of different sizes (each cropped on its own)

    c.model = ml_collections.ConfigDict()
    c.model.name = model_name  # a name in jaxgen.models.REGISTRY; the block's other fields are its family's

    c.optim = ml_collections.ConfigDict()
    c.optim.name = "adam"  # adam | rmsprop | sgd; one optimizer per network
    c.optim.lr = 2e-4  # learning rate of every network
    # constant | cosine (decay to 0 over train.num_steps) | linear_tail (constant for the first half of
    # train.num_steps, then linear to 0) | halving
    c.optim.schedule = "constant"
    c.optim.halve_every = 100_000  # halving: the learning rate halves every this many updates
    c.optim.b1 = 0.5  # Adam beta1 (DCGAN setting)
    c.optim.b2 = 0.999  # Adam beta2
    c.optim.eps = 1e-8  # Adam: added to the root of the second moment
    c.optim.eps_root = 0.0  # Adam: added under that root (Theano-era code: 1e-8 here, eps 0)
    c.optim.decay = 0.99  # RMSProp decay (PyTorch's alpha)
    c.optim.momentum = 0.0  # SGD / RMSProp momentum
    c.optim.weight_decay = 0.0  # decoupled weight decay (0 = off)

    c.train = ml_collections.ConfigDict()
    c.train.batch_size = 64  # global batch, split over all local devices
    c.train.num_steps = 10_000  # one step = one pass through the model's list of updates
    c.train.log_every = 100  # steps between metric logs (the only host transfers of metrics)
    c.train.eval_every = 1000  # steps between sample grids and evaluation metrics
    c.train.checkpoint_every = 1000  # steps between checkpoints
    c.train.keep_checkpoints = 3  # how many recent checkpoints are kept
    c.train.num_grid_images = 64  # images in each sample / reconstruction grid
    # > 0: also keep a running average of the params (Polyak averaging: each step moves it by
    # max(1 - decay, 1 / steps so far) towards them), which evaluation, samples and pictures then use
    c.train.average_decay = 0.0
    # a workdir whose newest checkpoint's params start this run wherever the network, the param's path and
    # its shape agree (transfer learning; the rest starts fresh); "": a fresh start
    c.train.init_from = ""
    # before matching, move init_from's params under other paths: comma-separated SOURCE=TARGET prefixes,
    # network first ('enc/DownStack_0=cls/DownStack_0': an autoencoder's encoder as a classifier's body)
    c.train.init_rename = ""
    # comma-separated param paths, network first ('cls/DownStack_0'), whose params never change (a linear
    # probe of frozen features); "": train everything
    c.train.frozen = ""

    c.runtime = ml_collections.ConfigDict()  # how the backend computes; results do not depend on it
    c.runtime.conv_impl = (
        "auto"  # auto | xla | cpu | matmul: conv lowering (jaxgen/layers.py); auto: per backend
    )
    # auto | float32 | bfloat16: the operands of the conv layers and of the MLP models' dense layers (sums,
    # params, optimizer states stay float32); auto: the convs in bfloat16 on a CPU where it measured faster,
    # once per machine (jaxgen/precision.py), the dense layers in float32
    c.runtime.compute_dtype = "auto"
    c.runtime.steps_per_call = 0  # training steps fused into one compiled call (lax.scan); 0 = per backend
    c.runtime.compilation_cache = True  # JAX's persistent compilation cache ($JAXGEN_CACHE_DIR)

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
    c.eval.likelihood_dtype = "float32"  # the bounds' products: float32 | bfloat16 operands (faster, README)
    c.eval.chunk = 500  # images per compiled pass of feature extraction (results do not depend on it)
    c.eval.embed_points = 5000  # test images shown in the PCA / t-SNE pictures

    if model_name:
        spec = model_spec(model_name)
        c.model.update(spec.options())
        for field, value in spec.settings.items():
            section, name = field.split(".")
            setattr(c[section], name, value)
    c.lock()
    for section, value in overrides.items():
        if isinstance(value, dict):
            for name, field_value in value.items():
                setattr(getattr(c, section), name, field_value)
        else:
            setattr(c, section, value)
    return c


def with_seed(config: ml_collections.ConfigDict, seed: int) -> ml_collections.ConfigDict:
    """A copy of config with another seed (one run slot of a many-seed run)."""
    copy = config.copy_and_resolve_references()
    copy.seed = seed
    return copy


def model_spec(name: str):
    """The registered ModelSpec of model `name`, or a ConfigError naming the closest model."""
    from jaxgen.models import REGISTRY  # late import: the families import this module's ConfigError

    if name not in REGISTRY:
        close = difflib.get_close_matches(name, sorted(REGISTRY), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"model.name={name!r} is not a model{hint}; choose one of {sorted(REGISTRY)}")
    return REGISTRY[name]


_CHOICES = {
    "data.source": ("auto", "cache", "idx", "mirror", "tfds"),
    "data.channels": (1, 3),
    "runtime.conv_impl": ("auto", "xla", "cpu", "matmul"),
    "runtime.compute_dtype": ("auto", "float32", "bfloat16"),
    "eval.likelihood_dtype": ("float32", "bfloat16"),
    "optim.name": ("adam", "rmsprop", "sgd"),
    "optim.schedule": ("constant", "cosine", "linear_tail", "halving"),
    "data.match_b": ("", "gromov_wasserstein"),
}

_POSITIVE = (
    "optim.lr",
    "optim.halve_every",
    "data.image_size",
    "data.match_count",
    "data.match_epsilon",
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
_NON_NEGATIVE = (
    "data.val_size",
    "data.train_per_class",
    "data.crop_size",
    "runtime.steps_per_call",
    "optim.eps",
    "optim.eps_root",
)


def _get(config: ml_collections.ConfigDict, dotted: str):
    value = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def check_rules(config: ml_collections.ConfigDict, prefix: str, choices, positive, non_negative) -> None:
    """Raise ConfigError for the first field (relative to `prefix`) outside its choices or bounds."""
    for field, allowed in choices.items():
        if _get(config, field) not in allowed:
            close = difflib.get_close_matches(str(_get(config, field)), [str(a) for a in allowed], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{prefix}{field}={_get(config, field)!r} is invalid{hint}; choose one of {list(allowed)}"
            )
    for field in positive:
        if not _get(config, field) > 0:
            raise ConfigError(f"{prefix}{field}={_get(config, field)!r} must be positive")
    for field in non_negative:
        if not _get(config, field) >= 0:
            raise ConfigError(f"{prefix}{field}={_get(config, field)!r} must be >= 0")


def parse_renames(renames: str) -> list[tuple[str, str]]:
    """train.init_rename ('enc/DownStack_0=cls/DownStack_0,...') -> [(source prefix, target prefix)]."""
    pairs = []
    for item in (part.strip() for part in renames.split(",")):
        if not item:
            continue
        source, sep, target = (side.strip().strip("/") for side in item.partition("="))
        if not sep or not source or not target:
            raise ConfigError(
                f"train.init_rename={renames!r}: expected SOURCE=TARGET param path prefixes, network first "
                "('enc/DownStack_0=cls/DownStack_0'), separated by commas"
            )
        pairs.append((source, target))
    return pairs


def validate(config: ml_collections.ConfigDict) -> None:
    """Raise ConfigError naming the first field whose value is invalid or incompatible."""
    from jaxgen.data.domains import DOMAINS

    spec = model_spec(config.model.name)
    expected = set(spec.options().keys()) | {"name"}
    if set(config.model.keys()) != expected:
        missing, extra = (
            sorted(expected - set(config.model.keys())),
            sorted(set(config.model.keys()) - expected),
        )
        raise ConfigError(
            f"the model block does not match model.name={config.model.name!r} (missing {missing}, "
            f"not its fields {extra}); start the config from base_config({config.model.name!r})"
        )
    check_rules(config, "", _CHOICES, _POSITIVE, _NON_NEGATIVE)
    check_rules(config.model, "model.", spec.choices, spec.positive, spec.non_negative)
    if spec.check is not None:
        problem = spec.check(config.model, config.data)
        if problem:
            raise ConfigError(problem)
    for field in ("data.domain_a", "data.domain_b"):
        allowed = ("", *DOMAINS) if field == "data.domain_b" else tuple(DOMAINS)
        check_rules(config, "", {field: allowed}, (), ())
    if not 0.0 <= config.train.average_decay < 1.0:
        raise ConfigError(
            f"train.average_decay={config.train.average_decay} must be in [0, 1) (0: no average)"
        )
    if config.data.num_labels < 0 or config.data.num_labels % 10:
        raise ConfigError(
            f"data.num_labels={config.data.num_labels} must be 0 (every label) or a positive multiple of 10 "
            "(the same number of labelled images of each class)"
        )
    if config.data.classes:
        from jaxgen.data import DataError, parse_classes

        try:
            parse_classes(config.data.classes)
        except DataError as e:
            raise ConfigError(str(e)) from None
    if config.data.name_b:
        if not config.data.domain_b:
            raise ConfigError(
                f"data.name_b={config.data.name_b!r} is the second domain's dataset; set data.domain_b too "
                "(the transform of its images, 'original' for none)"
            )
        if config.data.name_b in ("image_folder", "celeba"):
            raise ConfigError(
                f"data.name_b={config.data.name_b!r}: a folder of images can be domain A only (data.name); "
                "domain B is 'mnist', 'uci_digits' or a TFDS name"
            )
        if config.data.train_per_class:
            raise ConfigError(
                "data.train_per_class keeps the same images in both domains, but data.name_b makes domain B "
                "another dataset; set data.train_per_class=0"
            )
    if config.data.name == "uci_digits" and config.data.source != "auto":
        raise ConfigError(
            f"data.source={config.data.source!r}: data.name='uci_digits' has one source, scikit-learn's "
            "bundled copy; leave data.source='auto'"
        )
    if config.data.name != "mnist" and config.data.source in ("cache", "idx", "mirror"):
        raise ConfigError(
            f"data.source={config.data.source!r} only serves MNIST; "
            f"data.name={config.data.name!r} needs data.source='tfds' or 'auto'"
        )
    if config.train.init_rename:
        if not config.train.init_from:
            raise ConfigError("train.init_rename renames the params of train.init_from, which is empty")
        parse_renames(config.train.init_rename)
    if config.data.name == "image_folder" and not config.data.image_dir:
        raise ConfigError("data.name='image_folder' needs data.image_dir, the folder of PNG / JPEG images")
    if config.data.image_dir and config.data.name not in ("image_folder", "celeba"):
        raise ConfigError(
            f"data.image_dir is read with data.name='image_folder' or 'celeba', not {config.data.name!r}"
        )
    if config.data.source == "idx" and not config.data.idx_dir:
        raise ConfigError("data.source='idx' needs data.idx_dir, the folder holding the IDX files")
    if config.eval.iwae_k % min(config.eval.iwae_chunk, config.eval.iwae_k):
        raise ConfigError(
            f"eval.iwae_k={config.eval.iwae_k} must be at most, or a multiple of, "
            f"eval.iwae_chunk={config.eval.iwae_chunk}"
        )
    if config.eval.kid_subset_size < 2:
        raise ConfigError("eval.kid_subset_size must be at least 2 (the unbiased MMD^2 leaves out diagonals)")


def load_file(path: str) -> ml_collections.ConfigDict:
    """get_config() of a config file, or a one-line ConfigError naming the file and line at fault."""
    import importlib.util
    import traceback
    from pathlib import Path

    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"no config file {path}")
    spec = importlib.util.spec_from_file_location(f"jaxgen_config_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        config = module.get_config()
    except SyntaxError as e:
        raise ConfigError(f"{path}:{e.lineno}: syntax error: {e.msg}") from None
    except Exception as e:  # whatever the file's own code raises, reported at its line in the file
        frames = [f for f in traceback.extract_tb(e.__traceback__) if Path(f.filename) == file.absolute()]
        where = f"{path}:{frames[-1].lineno}" if frames else path
        if isinstance(e, AttributeError) and module.__dict__.get("get_config") is None:
            raise ConfigError(f"{path} defines no get_config()") from None
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        message = " ".join(line for line in lines if not line.startswith("Other fields present"))
        raise ConfigError(f"{where}: {type(e).__name__}: {message}") from None
    if not isinstance(config, ml_collections.ConfigDict):
        raise ConfigError(f"{path}: get_config() returned {type(config).__name__}, not a ConfigDict")
    return config
