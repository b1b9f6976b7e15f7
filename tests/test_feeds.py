"""What the trainer feeds each data kind: labelled, labelled subset, paired and unpaired domains."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import synthetic_dataset

from jaxgen.config import ConfigError, base_config
from jaxgen.data import feeds, in_domain


def indexed_two_domains(n: int = 40):
    """Train image i is the constant i (so a batch tells which images it holds); domain B is the negative."""
    data = synthetic_dataset(n, 10)
    images = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 32, 32, 1))
    data = dataclasses.replace(data, train_images=np.ascontiguousarray(images))
    return dataclasses.replace(data, second=in_domain(data, "negative"))


def draw_indices(kind, dataset, batches=30, batch_size=4):
    """(A indices, B indices) of the images in `batches` training batches of this kind."""
    data = jax.tree.map(jnp.asarray, feeds.device_arrays(kind, dataset))
    n = data["images"].shape[0]
    plan = feeds.batch_plan(jax.random.key(0), 0, n)
    a, b = [], []
    for counter in range(batches):
        key = jax.random.fold_in(jax.random.key(1), counter)
        batch = feeds.draw(kind, data, plan, 0, counter, key, batch_size)
        a.append(np.rint(np.asarray(batch["image"])[:, 0, 0, 0] * 255).astype(int))
        b.append(255 - np.rint(np.asarray(batch["image_b"])[:, 0, 0, 0] * 255).astype(int))
        assert set(batch) == {"image", "label", "image_b"}  # the B stream carries no labels
    return np.concatenate(a), np.concatenate(b)


def test_unpaired_domains_come_from_disjoint_halves_and_are_never_the_same_images():
    a, b = draw_indices("unpaired_domains", indexed_two_domains(40))
    assert a.max() < 20 <= b.min()  # A from the first half of the training set, B from the second
    assert len(set(b)) > 10  # B is drawn throughout its half


def test_paired_domains_show_each_image_in_both_domains():
    a, b = draw_indices("paired_domains", indexed_two_domains(40), batches=10)
    np.testing.assert_array_equal(a, b)
    assert sorted(a) == list(range(40))  # ten batches of 4: one epoch, every image once


def test_two_domain_test_rows_are_aligned():
    dataset = indexed_two_domains()
    rows = feeds.test_rows(feeds.device_arrays("unpaired_domains", dataset))
    batch = feeds.test_batch(rows)
    np.testing.assert_allclose(np.asarray(batch["image_b"]), 1.0 - np.asarray(batch["image"]), atol=1e-6)
    np.testing.assert_array_equal(rows["label_b"], rows["label"])
    np.testing.assert_array_equal(rows["index"], np.arange(len(dataset.test_images)))


def test_a_second_dataset_is_unaligned_and_each_domain_trains_on_all_of_its_images():
    dataset = indexed_two_domains(40)
    other = dataclasses.replace(synthetic_dataset(24, 6), aligned=False)
    dataset = dataclasses.replace(dataset, second=other)
    arrays = feeds.device_arrays("unpaired_domains", dataset)
    assert len(arrays["images"]) == 40 and len(arrays["images_b"]) == 24  # no halves: different images
    assert len(arrays["test_images_b"]) == 6
    assert "image_b" not in feeds.test_rows(arrays, aligned_b=False)  # B's test images are not A's
    assert "image_b" in feeds.test_rows(feeds.device_arrays("unpaired_domains", indexed_two_domains(40)))


def test_matched_labels_of_domain_b_ride_with_each_b_image_and_never_read_bs_labels():
    """data.match_b: domain B's training images get labels from the matching, which sees A's images and
    labels and B's images only; each batch's "matched_label_b" is that of its own B images."""
    dataset = indexed_two_domains(40)  # B is A's negative: distances kept, so the matching is exact
    data = base_config().data
    data.match_b, data.match_count, data.match_epsilon = "gromov_wasserstein", 20, 0.002
    arrays = feeds.device_arrays("unpaired_domains", dataset, data=data)
    relabelled = dataclasses.replace(
        dataset, second=dataclasses.replace(dataset.second, train_labels=dataset.second.train_labels[::-1])
    )
    np.testing.assert_array_equal(
        feeds.device_arrays("unpaired_domains", relabelled, data=data)["matched_labels_b"],
        arrays["matched_labels_b"],
    )
    assert arrays["matched_labels_b"].shape == (20,) and "matched_labels_b" not in feeds.device_arrays(
        "unpaired_domains", dataset
    )
    device = jax.tree.map(jnp.asarray, arrays)
    plan = feeds.batch_plan(jax.random.key(0), 0, 20)
    batch = feeds.draw("unpaired_domains", device, plan, 0, 0, jax.random.key(1), 8)
    # image i is the constant i, B's images the negatives of the second half: which B image is which
    which = 255 - np.round(np.asarray(batch["image_b"])[:, 0, 0, 0] * 255).astype(int) - 20
    np.testing.assert_array_equal(batch["matched_label_b"], arrays["matched_labels_b"][which])


@pytest.mark.parametrize(
    "kind,fields,match",
    [
        ("labelled", {"num_labels": 100}, "data.num_labels=100 is for semi-supervised models"),
        ("paired_domains", {}, "translates between two domains: set data.domain_b"),
        ("labelled", {"domain_b": "edges"}, "data.domain_b='edges' is for two-domain models"),
        (
            "paired_domains",
            {"domain_b": "original", "name_b": "uci_digits"},
            "trains on pairs, each image in both domains",
        ),
        ("labelled", {"redraw_domain_a": True}, "redraws a random transform: set data.domain_a"),
        (
            "paired_domains",
            {"domain_b": "edges", "match_b": "gromov_wasserstein"},
            "labels an unpaired domain B; model 'toy' does not train on unpaired domains",
        ),
        (
            "unpaired_domains",
            {"domain_b": "edges", "domain_a": "distorted_r", "redraw_domain_a": True},
            "a redrawn domain A would no longer match its pairs",
        ),
    ],
)
def test_data_fields_that_do_not_fit_the_kind_are_refused(kind, fields, match):
    data = base_config().data
    for name, value in fields.items():
        setattr(data, name, value)
    with pytest.raises(ConfigError, match=match):
        feeds.check(kind, data, "toy")
    with pytest.raises(ValueError, match="declares data='pairs'"):
        feeds.check("pairs", base_config().data, "toy")


def test_redrawn_training_batches_distort_the_stored_originals_afresh_with_their_own_keys(tmp_path):
    from conftest import synthetic_arrays, write_idx_dir

    from jaxgen.data import domains, load_dataset

    config = base_config(
        "classifier", data={"source": "idx", "idx_dir": str(write_idx_dir(tmp_path, synthetic_arrays()))}
    )
    config.data.domain_a, config.data.redraw_domain_a = "distorted_r", True
    dataset = load_dataset(config.data)
    plain = load_dataset(
        base_config("classifier", data={"source": "idx", "idx_dir": config.data.idx_dir}).data
    )
    np.testing.assert_array_equal(dataset.train_originals, plain.train_images)  # kept undistorted
    np.testing.assert_array_equal(dataset.train_images, domains.derive("distorted_r", plain.train_images))
    data = jax.tree.map(jnp.asarray, feeds.device_arrays("labelled", dataset))
    plan = feeds.batch_plan(jax.random.key(0), 0, data["images"].shape[0])
    key = jax.random.key(3)
    batch = feeds.draw("labelled", data, plan, 0, 0, key, 8, redraw="distorted_r")
    stored = feeds.draw("labelled", data, plan, 0, 0, key, 8)
    np.testing.assert_array_equal(stored["label"], batch["label"])  # the same images ...
    keys = jax.random.split(jax.random.fold_in(key, feeds.REDRAW), 8)
    expected = domains.redraw("distorted_r", stored["image"], keys)  # ... turned by the batch's own keys
    np.testing.assert_array_equal(np.asarray(batch["image"]), np.asarray(expected))
    levels = np.round(np.asarray(batch["image"]) * 255).astype(np.float32) / np.float32(255)
    np.testing.assert_allclose(np.asarray(batch["image"]), levels, atol=1e-6)  # the test split's 256 levels
    again = feeds.draw("labelled", data, plan, 0, 0, jax.random.key(4), 8, redraw="distorted_r")
    assert not np.allclose(np.asarray(again["image"]), np.asarray(batch["image"]))  # another key, new angles
