"""jaxgen.metrics against NumPy / SciPy / scikit-learn references on small inputs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.spatial.distance
import scipy.stats

from jaxgen import metrics


def two_feature_sets(n=300, m=250, dim=6, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, dim)) @ rng.normal(size=(dim, dim))
    b = rng.normal(size=(m, dim)) @ rng.normal(size=(dim, dim)) + 0.5
    return a.astype(np.float32), b.astype(np.float32)


# ----------------------------------------------------------------------------------------- FID


def reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The FID authors' formula with scipy.linalg.sqrtm, in float64."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(c1 @ c2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * covmean))


def test_fid_matches_scipy_sqrtm_reference():
    a, b = two_feature_sets()
    expected = reference_fid(a, b)
    assert expected > 1.0
    assert metrics.fid(jnp.asarray(a), jnp.asarray(b)) == pytest.approx(expected, rel=1e-5)


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_a_shift():
    a, _ = two_feature_sets()
    assert abs(metrics.fid(a, a)) < 1e-4
    shifted = a + np.float32(0.3)
    assert metrics.fid(a, shifted) == pytest.approx(0.3**2 * a.shape[1], rel=1e-4)


def test_gaussian_stats_are_numpy_mean_and_unbiased_cov():
    a, _ = two_feature_sets()
    mean, cov = metrics.gaussian_stats(jnp.asarray(a))
    np.testing.assert_allclose(mean, a.mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(cov, np.cov(a.astype(np.float64), rowvar=False), rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------------------- KID


def reference_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with KID's cubic polynomial kernel, by explicit loops over pairs."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    m, d = x.shape

    def k(u, v):
        return (u @ v / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_mmd2_unbiased_matches_pairwise_loops():
    a, b = two_feature_sets(n=20, m=20)
    got = float(metrics.mmd2_unbiased(jnp.asarray(a), jnp.asarray(b)))
    assert got == pytest.approx(reference_mmd2(a, b), rel=1e-4)


def test_kid_is_the_mean_and_std_over_its_subsets():
    a, b = two_feature_sets(n=60, m=50)
    key = jax.random.key(3)
    mean, std = metrics.kid(jnp.asarray(a), jnp.asarray(b), key, num_subsets=4, size=15)
    real_idx, fake_idx = metrics.kid_subsets(key, 60, 50, 4, 15)
    values = [
        reference_mmd2(a[np.asarray(r)], b[np.asarray(f)]) for r, f in zip(real_idx, fake_idx, strict=True)
    ]
    assert float(mean) == pytest.approx(np.mean(values), rel=1e-4)
    assert float(std) == pytest.approx(np.std(values), rel=1e-3)
    assert all(len(set(np.asarray(r).tolist())) == 15 for r in real_idx)  # without replacement


def test_kid_is_near_zero_for_samples_of_one_distribution():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    shifted = b + 1.0
    same, _ = metrics.kid(jnp.asarray(a), jnp.asarray(b), jax.random.key(0), num_subsets=10, size=200)
    different, _ = metrics.kid(
        jnp.asarray(a), jnp.asarray(shifted), jax.random.key(0), num_subsets=10, size=200
    )
    assert abs(float(same)) < 0.02 < float(different)


# ----------------------------------------------------------------------------------------- classifier


def test_classifier_score_matches_scipy_entropy_per_split():
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.full(10, 0.3), size=100).astype(np.float32)
    mean, std = metrics.classifier_score(jnp.asarray(probs), num_splits=4)
    scores = []
    for part in np.split(probs.astype(np.float64), 4):
        marginal = part.mean(0)
        scores.append(np.exp(np.mean([scipy.stats.entropy(p, marginal) for p in part])))
    assert float(mean) == pytest.approx(np.mean(scores), rel=1e-4)
    assert float(std) == pytest.approx(np.std(scores), rel=1e-3)


def test_classifier_score_limits():
    confident_balanced = jnp.asarray(np.eye(10)[np.arange(100) % 10], jnp.float32)
    assert float(metrics.classifier_score(confident_balanced, num_splits=1)[0]) == pytest.approx(
        10.0, rel=1e-5
    )
    unsure = jnp.full((100, 10), 0.1)
    assert float(metrics.classifier_score(unsure, num_splits=1)[0]) == pytest.approx(1.0, abs=1e-5)


def test_class_histogram_entropy_and_label_accuracy():
    probs = jnp.asarray(np.eye(10)[[0, 0, 1, 3]], jnp.float32)
    fractions, entropy = metrics.class_histogram(probs)
    np.testing.assert_allclose(fractions, np.bincount([0, 0, 1, 3], minlength=10) / 4)
    assert float(entropy) == pytest.approx(scipy.stats.entropy([2, 1, 1]), rel=1e-6)
    assert float(metrics.label_accuracy(probs, jnp.asarray([0, 1, 1, 3]))) == pytest.approx(0.75)


# ----------------------------------------------------------------------------------------- neighbours


def reference_precision_recall(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """Kynkäänniemi et al.: k-th neighbour radii, then membership in any ball (float64 cdist)."""
    real, fake = real.astype(np.float64), fake.astype(np.float64)

    def radii(x):
        d = scipy.spatial.distance.cdist(x, x)
        return np.sort(d, axis=1)[:, k]

    def coverage(points, r, queries):
        return float(np.mean((scipy.spatial.distance.cdist(queries, points) <= r[None, :]).any(1)))

    return coverage(real, radii(real), fake), coverage(fake, radii(fake), real)


def test_precision_recall_matches_brute_force_reference():
    a, b = two_feature_sets(n=120, m=90)
    precision, recall = reference_precision_recall(a, b, k=3)
    got = metrics.precision_recall(jnp.asarray(a), jnp.asarray(b), k=3, chunk=32)
    assert 0.0 < precision < 1.0 and 0.0 < recall < 1.0
    assert got["precision"] == pytest.approx(precision, abs=1.5 / 90)  # at most one borderline point
    assert got["recall"] == pytest.approx(recall, abs=1.5 / 120)


def test_precision_recall_of_identical_sets_is_one():
    a, _ = two_feature_sets(n=80)
    got = metrics.precision_recall(jnp.asarray(a), jnp.asarray(a), k=3)
    assert got == {"precision": 1.0, "recall": 1.0}


def test_knn_predict_matches_scikit_learn():
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(4)
    train_x = rng.normal(size=(200, 5)).astype(np.float32)
    train_y = (train_x[:, 0] > 0).astype(np.int32) + 2 * (train_x[:, 1] > 0.3)
    test_x = rng.normal(size=(70, 5)).astype(np.float32)
    expected = KNeighborsClassifier(n_neighbors=5).fit(train_x, train_y).predict(test_x)
    got = metrics.knn_predict(jnp.asarray(train_x), jnp.asarray(train_y), jnp.asarray(test_x), k=5, chunk=16)
    np.testing.assert_array_equal(np.asarray(got), expected)


def test_linear_probe_reaches_scikit_learns_optimum():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 8)) * rng.uniform(0.5, 3, size=8) + rng.normal(size=8)
    y = np.argmax(x[:, :3] @ rng.normal(size=(3, 3)) + rng.normal(scale=0.5, size=(300, 3)), 1)
    l2 = 1e-2
    w, b, mean, scale = metrics.fit_linear_probe(
        jnp.asarray(x, jnp.float32), jnp.asarray(y), l2, num_classes=3
    )
    z = (x - np.asarray(mean)) / np.asarray(scale)
    reference = LogisticRegression(C=1.0 / (l2 * len(x)), tol=1e-10, max_iter=10_000).fit(z, y)

    def objective(w_, b_):
        logits = z @ w_ + b_
        log_probs = logits - scipy.special.logsumexp(logits, axis=1, keepdims=True)
        return -np.mean(log_probs[np.arange(len(y)), y]) + 0.5 * l2 * np.sum(w_**2)

    ours = objective(np.asarray(w, np.float64), np.asarray(b, np.float64))
    theirs = objective(reference.coef_.T, reference.intercept_)
    assert ours == pytest.approx(theirs, abs=1e-5)
    np.testing.assert_array_equal(np.argmax(z @ np.asarray(w) + np.asarray(b), 1), reference.predict(z))


# ----------------------------------------------------------------------------------------- likelihood


def gaussian_model(noise: float, exact_posterior: bool):
    """z ~ N(0, 1), x | z ~ N(z, noise^2): log p(x) = log N(x; 0, 1 + noise^2) exactly.

    Proposal q: the prior (loose) or the exact posterior (every weight equals p(x)).
    """
    post_var = noise**2 / (1 + noise**2)

    def log_weights(x, key, n):  # x [B, 1] -> [B, n]
        eps = jax.random.normal(key, (x.shape[0], n))
        if exact_posterior:
            z = x / (1 + noise**2) + jnp.sqrt(post_var) * eps
            log_q = jax.scipy.stats.norm.logpdf(z, x / (1 + noise**2), jnp.sqrt(post_var))
        else:
            z, log_q = eps, jax.scipy.stats.norm.logpdf(eps)
        return jax.scipy.stats.norm.logpdf(z) + jax.scipy.stats.norm.logpdf(x, z, noise) - log_q

    def log_px(x):
        return scipy.stats.norm.logpdf(np.asarray(x)[:, 0], 0.0, np.sqrt(1 + noise**2))

    return log_weights, log_px


def test_iwae_bound_is_above_the_elbo_and_tightens_to_log_px():
    """In expectation: ELBO <= IWAE_5 <= IWAE_50 <= log p(x); each row below is an independent draw."""
    log_weights, log_px = gaussian_model(noise=0.3, exact_posterior=False)
    x = jnp.full((4000, 1), 0.8)
    key = jax.random.key(0)
    elbo, iwae_5 = metrics.importance_bounds(log_weights, x, key, k=5, chunk=5)
    _, iwae_50 = metrics.importance_bounds(log_weights, x, jax.random.key(1), k=50, chunk=50)
    exact = float(log_px(x[:1])[0])
    means = [float(jnp.mean(v)) for v in (elbo, iwae_5, iwae_50)]
    assert means[0] + 0.5 < means[1] < means[2] < exact + 0.01, (means, exact)  # a loose proposal
    three = jnp.asarray([[-1.0], [0.2], [1.5]])
    _, iwae_5000 = metrics.importance_bounds(log_weights, three, key, k=5000, chunk=500)
    np.testing.assert_allclose(iwae_5000, log_px(three), atol=0.05)


def test_with_the_exact_posterior_both_bounds_equal_log_px():
    log_weights, log_px = gaussian_model(noise=0.5, exact_posterior=True)
    x = jnp.asarray([[0.7], [-2.0]])
    elbo, iwae = metrics.importance_bounds(log_weights, x, jax.random.key(1), k=40, chunk=10)
    np.testing.assert_allclose(elbo, log_px(x), atol=1e-4)
    np.testing.assert_allclose(iwae, log_px(x), atol=1e-4)


def test_importance_bounds_reject_a_chunk_that_does_not_divide_k():
    log_weights, _ = gaussian_model(0.5, True)
    with pytest.raises(ValueError, match="multiple"):
        metrics.importance_bounds(log_weights, jnp.zeros((1, 1)), jax.random.key(0), k=10, chunk=3)


def test_dynamic_binarization_is_bernoulli_in_the_pixel_intensity():
    images = jnp.full((200, 8, 8, 1), 0.25)
    binary = metrics.dynamic_binarize(jax.random.key(0), images)
    assert set(np.unique(np.asarray(binary)).tolist()) == {0.0, 1.0}
    assert float(binary.mean()) == pytest.approx(0.25, abs=0.01)


def test_map_chunks_results_do_not_depend_on_the_chunk_size():
    rows = jnp.arange(23 * 3, dtype=jnp.float32).reshape(23, 3)
    whole = jax.jit(lambda r: metrics.map_chunks(lambda c: c.sum(1) * 2, r, 23))(rows)
    for chunk in (1, 4, 7, 50):
        got = jax.jit(lambda r, c=chunk: metrics.map_chunks(lambda x: x.sum(1) * 2, r, c))(rows)
        np.testing.assert_array_equal(got, whole)


def test_near_zero_fraction_counts_entries_below_a_fraction_of_the_largest():
    codes = jnp.array([[10.0, 0.05, 0.0, -0.2], [0.09, -10.0, 3.0, 0.0]])
    assert metrics.near_zero_fraction(codes) == pytest.approx(4 / 8)  # |c| < 0.1: 0.05, 0, 0.09, 0
    assert metrics.near_zero_fraction(codes, relative=0.03) == pytest.approx(5 / 8)  # |c| < 0.3 adds -0.2
    assert metrics.near_zero_fraction(codes, relative=0.004) == pytest.approx(2 / 8)  # only the zeros


def test_cluster_accuracy_finds_the_best_one_to_one_mapping():
    import itertools

    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 1])
    relabelled = np.array([2, 0, 1])[labels]  # a perfect clustering under other names
    accuracy, mapping = metrics.cluster_accuracy(relabelled, labels, num_classes=3)
    assert accuracy == 1.0 and mapping == [1, 2, 0]
    rng = np.random.default_rng(0)
    clusters, truth = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    best = max(np.mean(np.array(p)[clusters] == truth) for p in itertools.permutations(range(4)))
    accuracy, mapping = metrics.cluster_accuracy(clusters, truth, num_classes=4)
    assert accuracy == pytest.approx(best) and sorted(mapping) == [0, 1, 2, 3]
    assert np.mean(np.array(mapping)[clusters] == truth) == pytest.approx(accuracy)
    with pytest.raises(ValueError, match="shape"):
        metrics.cluster_accuracy(clusters[:3], truth)


def test_contingency_counts_pairs_and_the_misreads_are_its_largest_off_diagonal_cells():
    truth = np.array([1, 1, 1, 1, 4, 4, 4, 9, 9, 0])
    read = np.array([1, 8, 8, 7, 9, 9, 4, 9, 4, 0])
    counts = metrics.contingency(truth, read)
    assert counts.shape == (10, 10) and counts.sum() == len(truth)
    assert counts[1, 8] == 2 and counts[4, 9] == 2 and counts[1, 7] == 1 and counts[9, 4] == 1
    assert np.trace(counts) == np.sum(truth == read) == 4
    assert metrics.largest_misreads(counts, top=3) == ["4 → 9: 2", "1 → 8: 2", "9 → 4: 1"]
    assert metrics.largest_misreads(np.diag(np.full(10, 5))) == []  # nothing misread
    with pytest.raises(ValueError, match="shape"):
        metrics.contingency(truth, read[:3])


def test_identity_fit_separates_the_data_span_from_what_the_data_never_touches():
    data = np.array([[1.0, 2.0, 0.0, 0.0], [3.0, -1.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])  # spans e1, e2
    matrix = np.eye(4)
    matrix[:, 2:] = [[0.3, 0.0], [0.0, -0.2], [0.7, 0.1], [0.0, 0.4]]  # columns of never-lit pixels: free
    fit = metrics.identity_fit(matrix, data)
    assert fit["data_span_dimension"] == 2 and fit["pixels_never_lit"] == 2
    assert fit["frobenius_error_on_data_span"] == pytest.approx(0.0, abs=1e-12)
    off = np.linalg.norm(matrix[:, 2:] - np.eye(4)[:, 2:])
    assert fit["frobenius_error_off_data_span"] == pytest.approx(off)
    assert fit["frobenius_error"] == pytest.approx(off)
    assert fit["diagonal_mean_lit_pixels"] == 1.0
    assert fit["diagonal_mean_never_lit_pixels"] == pytest.approx((0.7 + 0.4) / 2)
    assert fit["relative_error_on_data"] == pytest.approx(0.0, abs=1e-12)


def test_identity_fit_orders_the_error_by_the_variance_the_data_has_there():
    # the data varies 10x along e1 and 1x along e2; W is exact on e1, off by 0.5 on e2
    data = np.array([[10.0, 0.0, 0.0], [-10.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]])
    matrix = np.diag([1.0, 1.5, 3.0])
    fit = metrics.identity_fit(matrix, data)
    assert fit["directions_for_90pct_variance"] == 1  # e1 carries 100 / 101 of the variance
    assert fit["frobenius_error_on_90pct_variance"] == pytest.approx(0.0, abs=1e-12)
    assert fit["directions_for_99pct_variance"] == 1
    assert fit["frobenius_error_on_data_span"] == pytest.approx(0.5)
    assert fit["frobenius_error_off_data_span"] == pytest.approx(2.0)
    assert fit["relative_error_on_data"] == pytest.approx(np.sqrt(2 * 0.25) / np.sqrt(202))


def test_sliced_wasserstein_of_a_shifted_set_is_the_shift_over_root_d():
    x = jax.random.normal(jax.random.key(0), (2000, 2))
    shift = jnp.asarray([3.0, -4.0])  # |v| = 5
    key = jax.random.key(1)
    assert float(metrics.sliced_wasserstein(key, x, x)) == 0.0
    distance = float(metrics.sliced_wasserstein(key, x, x + shift, projections=4000))
    assert distance == pytest.approx(5.0 / np.sqrt(2), rel=0.03)
    with pytest.raises(ValueError, match="one shape"):
        metrics.sliced_wasserstein(key, x, x[:10])


def test_sliced_wasserstein_sorted_on_the_host_equals_the_distance_sorted_by_jax():
    """The projections are sorted in numpy (20x faster than XLA:CPU's sort); a sort is exact, so the distance
    must be the one jnp.sort gives, bit for bit."""
    key = jax.random.key(3)
    x, y = jax.random.normal(jax.random.key(4), (2, 1000, 2)) * jnp.asarray([1.0, 0.5])
    directions = jax.random.normal(key, (2, 300))
    directions = directions / jnp.linalg.norm(directions, axis=0, keepdims=True)
    px = jnp.sort(jnp.matmul(x, directions, precision=metrics.HIGHEST), axis=0)
    py = jnp.sort(jnp.matmul(y + 0.2, directions, precision=metrics.HIGHEST), axis=0)
    reference = jnp.sqrt(jnp.mean((px - py) ** 2))
    assert float(metrics.sliced_wasserstein(key, x, y + 0.2, projections=300)) == float(reference) > 0.1


def test_prior_distance_is_near_its_floor_for_prior_draws_and_far_for_other_codes():
    def draw(key, n):
        return jax.random.normal(key, (n, 2))

    same = metrics.prior_distance(jax.random.key(0), draw(jax.random.key(9), 5000), draw)
    assert same["prior_distance_ratio"] < 3.0 and same["prior_distance_floor"] < 0.05
    squeezed = metrics.prior_distance(jax.random.key(0), 0.3 * draw(jax.random.key(9), 5000), draw)
    assert squeezed["prior_distance"] > 0.3 and squeezed["prior_distance_ratio"] > 10
