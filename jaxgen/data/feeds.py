"""What the trainer feeds a family, by the kind of data the family declares (`Family.data`).

- "labelled": {"image", "label"} from the training set (models that ignore labels simply do not read them).
- "labelled_subset" (semi-supervised): the stream's "label" is -1; "labelled_image" / "labelled_label" come
  only from `data.num_labels` training images (balanced over the classes, chosen from the seed), drawn with
  replacement, so no loss can read a label outside the subset.
- "paired_domains": {"image", "label", "image_b"}: each image in both domains (pix2pix's pairs).
- "unpaired_domains": {"image", "label", "image_b"}: domain A from the first half of the training set,
  domain B from the second half (drawn with replacement), so no image is ever seen in both domains; the B
  stream carries no labels (with data.match_b, "matched_label_b": labels found by matching the two
  domains' images, jaxgen/data/matching.py). When domain B is another dataset (data.name_b), each domain
  uses all of its own training images.

Test batches (evaluation) hold "image", "label", "index" (the position in the split) and, for two domains
whose test splits are the same images (aligned), "image_b" and "label_b". Domain B's own test split is
"test_images_b" / "test_labels_b" of the device arrays either way. Images stay uint8 on the device; batches
are float32 in [0, 1]. The data order is a pure function of (data key, epoch), so a resumed run draws what
the uninterrupted one drew.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen.config import ConfigError
from jaxgen.data import Dataset, domains, matching, to_float

KINDS = ("labelled", "labelled_subset", "paired_domains", "unpaired_domains")
TWO_DOMAINS = ("paired_domains", "unpaired_domains")
LABELLED_DRAW = 0x1ABE1  # fold_in(update key, LABELLED_DRAW): the key of an update's labelled batch
SECOND_DOMAIN_DRAW = 0xB0B  # fold_in(update key, SECOND_DOMAIN_DRAW): an unpaired update's domain-B batch
REDRAW = 0x2EDA  # fold_in(update key, REDRAW): the per-image keys of a batch's fresh domain-A transform
LABELLED_FILE = "labelled_subset.json"


def check(kind: str, data: ml_collections.ConfigDict, model_name: str) -> None:
    """Raise ConfigError when the data fields do not give what a family of this kind trains on."""
    if kind not in KINDS:
        raise ValueError(f"model {model_name!r} declares data={kind!r}; expected one of {KINDS}")
    if data.num_labels and kind != "labelled_subset":
        raise ConfigError(
            f"data.num_labels={data.num_labels} is for semi-supervised models (e.g. ssaae); "
            f"model {model_name!r} reads the label of every training image"
        )
    if kind in TWO_DOMAINS and not data.domain_b:
        raise ConfigError(f"model {model_name!r} translates between two domains: set data.domain_b")
    if kind == "paired_domains" and data.name_b:
        raise ConfigError(
            f"data.name_b={data.name_b!r}: model {model_name!r} trains on pairs, each image in both domains, "
            "so domain B must be a transform of data.name's images; set data.name_b=''"
        )
    if data.match_b and kind != "unpaired_domains":
        raise ConfigError(
            f"data.match_b={data.match_b!r} labels an unpaired domain B; model {model_name!r} does not "
            "train on unpaired domains: set data.match_b=''"
        )
    if kind not in TWO_DOMAINS and data.domain_b:
        raise ConfigError(f"data.domain_b={data.domain_b!r} is for two-domain models; {model_name!r} has one")
    if data.redraw_domain_a and data.domain_a == "original":
        raise ConfigError("data.redraw_domain_a=True redraws a random transform: set data.domain_a too")
    if data.redraw_domain_a and kind in TWO_DOMAINS:
        raise ConfigError(
            f"data.redraw_domain_a=True: model {model_name!r} reads domain A beside domain B; "
            "a redrawn domain A would no longer match its pairs"
        )


def device_arrays(
    kind: str, dataset: Dataset, batch_size: int = 1, data: ml_collections.ConfigDict | None = None
) -> dict[str, np.ndarray]:
    """The host arrays the batches and the test pass read (uint8 images, int32 labels); ConfigError when
    a batch of batch_size does not fit the training images. With data.match_b, also "matched_labels_b":
    domain B's training images labelled by matching (jaxgen/data/matching.py), B's labels unread."""
    originals = dataset.train_originals  # data.redraw_domain_a: transformed afresh in every batch
    arrays = {
        "images": dataset.train_images if originals is None else originals,
        "labels": dataset.train_labels,
        "test_images": dataset.test_images,
        "test_labels": dataset.test_labels,
    }
    if kind in TWO_DOMAINS:
        second = dataset.second
        arrays.update(test_images_b=second.test_images, test_labels_b=second.test_labels)
        arrays["images_b"] = second.train_images
        if kind == "unpaired_domains" and second.aligned:
            half = len(dataset.train_images) // 2
            arrays.update(images=arrays["images"][:half], labels=arrays["labels"][:half])
            arrays["images_b"] = second.train_images[half:]
    if data is not None and data.match_b:
        arrays["matched_labels_b"] = matched_labels_b(arrays, data)
    if len(arrays["images"]) < batch_size:
        raise ConfigError(
            f"train.batch_size={batch_size} exceeds the {len(arrays['images'])} training images"
        )
    return arrays


def matched_labels_b(arrays: dict[str, np.ndarray], data: ml_collections.ConfigDict) -> np.ndarray:
    """data.match_b's labels of domain B's training images, from A's images and labels and B's images."""
    start = time.perf_counter()
    labels = matching.label_domain_b(
        data.match_b,
        arrays["images"],
        arrays["labels"],
        arrays["images_b"],
        data.match_count,
        data.match_epsilon,
    )
    print(
        f"[jaxgen] domain B's {len(labels)} training images labelled by {data.match_b} matching of "
        f"{min(data.match_count, len(labels))} images per domain in {time.perf_counter() - start:.0f} s "
        f"(no label of B read); per digit {np.bincount(labels, minlength=10).tolist()}",
        file=sys.stderr,
    )
    return labels


def epoch_order(data_key: jax.Array, epoch: jax.Array | int, n: int) -> jax.Array:
    """The order of training images in one epoch: a pure function of (data key, epoch)."""
    return jax.random.permutation(jax.random.fold_in(data_key, epoch), n)


def batch_plan(
    data_key: jax.Array, first_epoch: int, n_train: int, labelled: jax.Array | None = None
) -> dict:
    """What one compiled call draws batches from: "orders" [2, N], the image orders of epochs first_epoch
    and first_epoch + 1, and for a semi-supervised family "labelled" [L], the indices that keep labels."""
    plan = {"orders": jnp.stack([epoch_order(data_key, e, n_train) for e in (first_epoch, first_epoch + 1)])}
    if labelled is not None:
        plan["labelled"] = labelled
    return plan


def batch_indices(
    orders: jax.Array, first_epoch: jax.Array, counter: jax.Array, batch_size: int
) -> jax.Array:
    """Indices of batch number `counter` (counted from the start of training).

    orders: [2, N] epoch orders of epochs first_epoch and first_epoch + 1 (a compiled call may cross one
    epoch boundary). The remainder of each epoch that does not fill a batch is dropped.
    """
    batches_per_epoch = orders.shape[1] // batch_size
    epoch = counter // batches_per_epoch
    start = (counter % batches_per_epoch) * batch_size
    order = jax.lax.dynamic_index_in_dim(orders, epoch - first_epoch, keepdims=False)
    return jax.lax.dynamic_slice_in_dim(order, start, batch_size)


def draw(
    kind: str,
    data: dict,
    plan: dict,
    first_epoch,
    counter,
    key: jax.Array,
    batch_size: int,
    redraw: str = "",
) -> dict:
    """Training batch number `counter`; `key` is the update's key (extra streams fold their own from it).
    redraw: the domain (data.domain_a) whose transform the stored, untransformed training images take
    afresh in this batch, each image with its own key; "" = the images as stored."""
    idx = batch_indices(plan["orders"], first_epoch, counter, batch_size)
    batch = {"image": to_float(data["images"][idx]), "label": data["labels"][idx]}
    if redraw:
        keys = jax.random.split(jax.random.fold_in(key, REDRAW), batch_size)
        batch["image"] = domains.redraw(redraw, batch["image"], keys)
    if kind == "labelled_subset":
        batch["label"] = jnp.full_like(batch["label"], -1)
        labelled = plan["labelled"]
        pick = labelled[
            jax.random.randint(jax.random.fold_in(key, LABELLED_DRAW), (batch_size,), 0, len(labelled))
        ]
        batch["labelled_image"], batch["labelled_label"] = (
            to_float(data["images"][pick]),
            data["labels"][pick],
        )
        if redraw:
            keys = jax.random.split(jax.random.fold_in(key, REDRAW + 1), batch_size)
            batch["labelled_image"] = domains.redraw(redraw, batch["labelled_image"], keys)
    elif kind == "paired_domains":
        batch["image_b"] = to_float(data["images_b"][idx])
    elif kind == "unpaired_domains":
        n_b = data["images_b"].shape[0]
        pick = jax.random.randint(jax.random.fold_in(key, SECOND_DOMAIN_DRAW), (batch_size,), 0, n_b)
        batch["image_b"] = to_float(data["images_b"][pick])
        if "matched_labels_b" in data:
            batch["matched_label_b"] = data["matched_labels_b"][pick]
    return batch


def test_rows(data: dict, aligned_b: bool = True) -> dict[str, jax.Array]:
    """The test split as rows [N, ...] of a test batch (images still uint8), with domain B's images of the
    same digits when the two domains are aligned."""
    rows = {"image": data["test_images"], "label": data["test_labels"]}
    if "test_images_b" in data and aligned_b:
        rows.update(image_b=data["test_images_b"], label_b=data["test_labels_b"])
    rows["index"] = jnp.arange(rows["image"].shape[0], dtype=jnp.int32)
    return rows


def test_batch(rows: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """Rows of test_rows -> a batch in the models' convention (float images in [0, 1])."""
    return {name: to_float(x) if name.startswith("image") else x for name, x in rows.items()}


def labelled_subset(key: jax.Array, labels: np.ndarray, num_labels: int, classes: int = 10) -> np.ndarray:
    """Sorted indices of num_labels training images, num_labels / classes of each class: the labelled set
    of a semi-supervised run, a pure function of (key, labels)."""
    per_class = num_labels // classes
    chosen = []
    for c in range(classes):
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ConfigError(
                f"data.num_labels={num_labels} needs {per_class} images of class {c}; the training set has "
                f"{len(members)}"
            )
        order = np.asarray(jax.random.permutation(jax.random.fold_in(key, c), len(members)))
        chosen.append(members[order[:per_class]])
    return np.sort(np.concatenate(chosen)).astype(np.int32)


def labelled_indices(
    kind: str, data: ml_collections.ConfigDict, labels: np.ndarray, key: jax.Array, workdir: Path
) -> tuple[np.ndarray | None, dict | None]:
    """The training images whose labels a semi-supervised family may read, and their record for
    workdir/labelled_subset.json ((None, None) for other kinds).

    data.num_labels images, balanced over the classes and drawn with the seed's labels key; 0 = all. A
    resumed run must find the same record in the workdir.
    """
    if kind != "labelled_subset":
        return None, None
    num = data.num_labels
    indices = np.arange(len(labels), dtype=np.int32) if num == 0 else labelled_subset(key, labels, num)
    record = {
        "num_labels": int(len(indices)),
        "per_class": np.bincount(labels[indices], minlength=10).tolist(),
        "indices": indices.tolist() if num else "all",
    }
    path = workdir / LABELLED_FILE
    if path.exists() and json.loads(path.read_text()) != record:
        raise ConfigError(
            f"{path} records another labelled subset than this config and data choose (data.num_labels, "
            "seed or training set changed); use a new --workdir"
        )
    return indices, record


def record_labelled(workdir: Path, indices: np.ndarray | None, record: dict | None) -> None:
    """Write a semi-supervised run's labelled subset (from labelled_indices) to workdir/LABELLED_FILE."""
    if record is not None:
        (workdir / LABELLED_FILE).write_text(json.dumps(record) + "\n")
        print(
            f"[jaxgen] {len(indices)} labelled images, per class {record['per_class']}: {workdir}",
            file=sys.stderr,
        )
