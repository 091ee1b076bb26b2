"""k-means on the CPU (vidx.kmeans / vidx.gpu.kmeans): recovery, determinism, results, errors."""
import numpy as np
import pytest

import vidx
from vidx import gpu


def separated(n=3000, dim=8, k=6, seed=0, spread=0.05):
    """k tight blobs far apart, with their true labels and centres."""
    rng = np.random.default_rng(seed)
    centers = (rng.standard_normal((k, dim)) * 10).astype(np.float32)
    labels = rng.integers(0, k, n)
    labels[:k] = np.arange(k)  # every blob has points
    x = centers[labels] + spread * rng.standard_normal((n, dim)).astype(np.float32)
    return x.astype(np.float32), labels, centers


def sq_dists(x, c):
    x64, c64 = x.astype(np.float64), c.astype(np.float64)
    return ((x64[:, None, :] - c64[None, :, :]) ** 2).sum(-1)


def test_recovers_well_separated_clusters():
    x, labels, centers = separated()
    r = vidx.kmeans(x, 6, seed=3)
    assert r.centroids.shape == (6, 8) and r.centroids.dtype == np.float32
    assert r.assignment.shape == (3000,) and r.assignment.dtype == np.int64
    # The partition is the true one up to renaming: each found cluster is one blob.
    pairs = set(zip(r.assignment.tolist(), labels.tolist()))
    assert len(pairs) == 6
    assert len({a for a, _ in pairs}) == 6 and len({b for _, b in pairs}) == 6
    # Centroids are the blob centres.
    d = sq_dists(centers, r.centroids)
    assert np.sqrt(d.min(axis=1)).max() < 0.05
    # Inertia is about n * dim * spread^2.
    assert 0.5 * 3000 * 8 * 0.05 ** 2 < r.inertia < 2.0 * 3000 * 8 * 0.05 ** 2


def test_result_is_consistent():
    x = np.random.default_rng(1).standard_normal((2000, 12)).astype(np.float32)
    r = gpu.kmeans(x, 17, iters=10, seed=5)
    d = sq_dists(x, r.centroids)
    # assignment = nearest centroid (up to float32 rounding ties), inertia = the sum of those distances
    nearest = d.min(axis=1)
    assert np.all(d[np.arange(len(x)), r.assignment] <= nearest * (1 + 1e-5) + 1e-6)
    assert r.inertia == pytest.approx(d[np.arange(len(x)), r.assignment].sum(), rel=1e-4)
    assert 1 <= r.iterations <= 10
    # Every centroid is the mean of its points, unless the points moved after the last update
    # (then iterations == iters); on convergence it holds exactly.
    if r.iterations < 10:
        for c in range(17):
            pts = x[r.assignment == c]
            assert len(pts) > 0
            np.testing.assert_allclose(r.centroids[c], pts.astype(np.float64).mean(0), rtol=1e-5, atol=1e-5)
    C, A, inertia, iterations = r  # unpacks like a tuple
    assert C is r.centroids and iterations == r.iterations
    assert "KMeansResult" in repr(r)


def test_deterministic_for_a_seed_and_any_thread_count():
    x, _, _ = separated(n=4000, dim=16, k=20, seed=2, spread=1.0)
    a = vidx.kmeans(x, 20, seed=7, threads=1)
    b = vidx.kmeans(x, 20, seed=7, threads=4)
    c = vidx.kmeans(x, 20, seed=7)
    for other in (b, c):
        np.testing.assert_array_equal(a.centroids, other.centroids)
        np.testing.assert_array_equal(a.assignment, other.assignment)
        assert a.inertia == other.inertia and a.iterations == other.iterations
    d = vidx.kmeans(x, 20, seed=8)
    assert not np.array_equal(a.centroids, d.centroids)


@pytest.mark.parametrize("init", ["kmeans++", "random", "auto"])
def test_inits(init):
    x, labels, _ = separated(n=1500, dim=4, k=5, seed=4)
    r = gpu.kmeans(x, 5, seed=1, init=init, iters=50)
    assert r.assignment.min() >= 0 and r.assignment.max() < 5
    assert r.inertia < 1500 * 4 * 0.05 ** 2 * 4 or init == "random"  # k-means++ finds the blobs


def test_iters_zero_returns_initial_points():
    x = np.random.default_rng(3).standard_normal((500, 5)).astype(np.float32)
    r = vidx.kmeans(x, 8, iters=0, seed=2)
    assert r.iterations == 0
    # initial centroids are data points
    for c in r.centroids:
        assert np.any(np.all(x == c, axis=1))
    d = sq_dists(x, r.centroids)
    assert r.inertia == pytest.approx(d.min(axis=1).sum(), rel=1e-4)


@pytest.mark.parametrize("offset", [0.0, 1000.0, -3.0e5])
@pytest.mark.parametrize("dim,k", [(1, 5), (3, 40), (16, 257), (50, 33), (130, 64)])
def test_assignment_is_the_exact_nearest_centroid_ties_to_the_smaller(offset, dim, k):
    # Small integers (plus an offset float32 holds exactly) make every distance exact and many
    # tie: the assignment step estimates distances from inner products of centred vectors and
    # must still return the exact nearest, the smaller index on a tie, whatever the offset.
    rng = np.random.default_rng(dim * 1000 + k)
    x = (rng.integers(-3, 4, (3000, dim)) + offset).astype(np.float32)
    r = vidx.kmeans(x, k, iters=0, seed=1, init="random")  # centroids are data points: exact
    d = sq_dists(x, r.centroids)
    np.testing.assert_array_equal(r.assignment, d.argmin(axis=1))
    assert r.inertia == d.min(axis=1).sum()


def test_assignment_matches_a_scan_of_every_centroid_after_updates():
    # After updates the centroids are means; the nearest by float64 distances, wherever the best
    # and the second best are not within float32 rounding of each other.
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((20000, 24)) + 50).astype(np.float32)
    r = vidx.kmeans(x, 300, iters=4, seed=2, init="random")
    d = sq_dists(x, r.centroids)
    two = np.sort(d, axis=1)[:, :2]
    clear = two[:, 1] - two[:, 0] > 1e-4 * two[:, 1]
    assert clear.mean() > 0.95
    np.testing.assert_array_equal(r.assignment[clear], d.argmin(axis=1)[clear])


def test_assignment_when_squared_distances_are_subnormal():
    # Spread 1e-22 beside a column of ones (no rescaling): squared distances round on float32's
    # subnormal grid, which a purely relative error bound missed (a review: 14 of 300 points
    # off their nearest centroid). In 3 dimensions each squared difference is rounded once and
    # the subnormal sums are exact, as in the kernel.
    rng = np.random.default_rng(1)
    x = np.concatenate([np.ones((300, 1)), rng.standard_normal((300, 2)) * 1e-22], axis=1).astype(np.float32)
    r = vidx.kmeans(x, 17, iters=0, init="random", threads=1)
    diff = (x[:, None, :] - r.centroids[None, :, :]).astype(np.float32)
    squared = (diff * diff).astype(np.float32).astype(np.float64).sum(-1)
    np.testing.assert_array_equal(r.assignment, squared.argmin(axis=1))


def test_kmeans_plus_plus_on_subnormal_distances_picks_what_every_distance_picks():
    # A review's 54 points whose squared distances are subnormal: skipping points by the triangle
    # inequality chose row 12 where computing every distance chooses row 13 (the rows below are
    # what computing every distance chose, before the skipping existed).
    bits = [[1065353216, 2588661369, 2587867961], [1065353216, 463856181, 456323316], [1065353216, 2610326984, 465083946], [1065353216, 450024631, 450756000], [1065353216, 456287919, 2606967486], [1065353216, 2589656377, 2602983742], [1065353216, 2595885696, 2577900786], [1065353216, 437091070, 457007539], [1065353216, 2587723444, 2606754922], [1065353216, 441484819, 460593224], [1065353216, 2606120515, 2593266712], [1065353216, 2612184816, 2600002471], [1065353216, 436403435, 2594085408], [1065353216, 455447491, 2600781412], [1065353216, 2580916131, 2603380967], [1065353216, 2593094655, 2604002926], [1065353216, 0, 431093297], [1065353216, 436887047, 2570190616], [1065353216, 461739798, 434618438], [1065353216, 459800711, 2601993419], [1065353216, 2593239911, 2588338707], [1065353216, 458529237, 2590806251], [1065353216, 2612239380, 433554345], [1065353216, 435110570, 2608696733], [1065353216, 447206952, 455040289], [1065353216, 2607052626, 2612494795], [1065353216, 441765993, 2590293314], [1065353216, 459303588, 442954114], [1065353216, 440602030, 2600995878], [1065353216, 458377115, 2601322178], [1065353216, 445780109, 2597689714], [1065353216, 2580471365, 457127978], [1065353216, 452496777, 2597810764], [1065353216, 453770038, 453468818], [1065353216, 0, 2598126187], [1065353216, 2592553682, 462946916], [1065353216, 441433789, 458711418], [1065353216, 462324684, 441054810], [1065353216, 2578179826, 2579032936], [1065353216, 454730995, 456455367], [1065353216, 458471260, 2599153641], [1065353216, 2604606012, 461018496], [1065353216, 2575679887, 2591775327], [1065353216, 2595668179, 2594790496], [1065353216, 2609693452, 459638060], [1065353216, 456944176, 431158168], [1065353216, 448143168, 2599037827], [1065353216, 2604993237, 445706558], [1065353216, 454622323, 459635500], [1065353216, 2594576348, 2590613599], [1065353216, 453741657, 2593190149], [1065353216, 2593692469, 444963609], [1065353216, 2595380413, 437176791], [1065353216, 443548800, 2611028956]]  # noqa: E501
    x = np.array(bits, dtype=np.uint32).view(np.float32)
    r = vidx.kmeans(x, 9, iters=0, init="kmeans++", seed=125, threads=1)
    chosen = [int(np.nonzero((x == c).all(1))[0][0]) for c in r.centroids]
    assert chosen == [20, 4, 32, 37, 2, 36, 45, 13, 25]


def test_kmeans_plus_plus_where_distances_between_centroids_overflow():
    # A review's 1-d points: owner A at 0, x at 1.73e19, newest N at 1.87e19, P at -1e18.
    # l2sq(A, N) = 3.5e38 overflows float32 to inf, which said nothing of where N lies: x was
    # skipped and kept its distance to A. Computing every distance, the three centroids are
    # {A, N, P} in about a quarter of the seeds; skipping x that way, in about a twelfth.
    from vidx import _core
    points = np.array([[0.0], [1.73e19], [1.87e19], [-1.0e18]], np.float32)
    anp = 0
    for seed in range(400):
        centroids = _core._kmeans(points, 3, 0, seed, "cpu", "kmeans++", 1)[0]
        anp += sorted(centroids[:, 0].tolist()) == sorted([0.0, float(points[2, 0]), float(points[3, 0])])
    assert anp / 400 > 0.17


def test_assignment_when_inner_products_overflow_float32():
    # The C++ k-means (no rescaling): rows near 1e19, whose inner products pass float32's range
    # while every squared distance is finite, must still go to their nearest centroid.
    from vidx import _core
    x = (np.random.default_rng(1).standard_normal((200, 4)) * 1e19).astype(np.float32)
    centroids, assignment, _, _ = _core._kmeans(x, 9, 0, 0, "cpu", "random", 1)
    d = sq_dists(x, centroids)
    assigned = d[np.arange(len(x)), assignment]
    finite = assigned < 3e38
    assert finite.mean() > 0.5
    assert np.all(assigned[finite] <= d.min(axis=1)[finite] * (1 + 1e-5))


def test_k_equals_n_and_k_one():
    x = np.random.default_rng(4).standard_normal((40, 3)).astype(np.float32)
    r = vidx.kmeans(x, 40, seed=0)
    assert r.inertia == pytest.approx(0.0, abs=1e-6)
    assert sorted(r.assignment.tolist()) == list(range(40))
    r1 = vidx.kmeans(x, 1)
    np.testing.assert_allclose(r1.centroids[0], x.astype(np.float64).mean(0), rtol=1e-5, atol=1e-6)
    assert np.all(r1.assignment == 0)


def test_duplicates_and_empty_clusters():
    # 3 distinct points repeated: 5 clusters cannot all be non-empty; nothing breaks.
    base = np.array([[0, 0], [5, 5], [9, 0]], dtype=np.float32)
    x = np.repeat(base, 10, axis=0)
    r = vidx.kmeans(x, 5, seed=0, iters=10)
    assert r.centroids.shape == (5, 2)
    assert r.inertia == pytest.approx(0.0, abs=1e-6)
    assert np.isfinite(r.centroids).all()


def test_empty_cluster_repair_keeps_clusters_populated():
    # One far outlier blob and a bad random start: repair must keep every cluster in use.
    x, _, _ = separated(n=2000, dim=6, k=8, seed=9, spread=0.5)
    r = vidx.kmeans(x, 12, seed=0, init="random", iters=30)
    counts = np.bincount(r.assignment, minlength=12)
    assert (counts > 0).sum() >= 11


def test_array_likes_are_converted():
    pts = [[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]]
    r = vidx.kmeans(pts, 2, seed=0)
    assert r.assignment[0] == r.assignment[1] != r.assignment[2] == r.assignment[3]
    ints = np.array([[0, 0], [1, 0], [100, 100], [101, 100]], dtype=np.int32)
    r = vidx.kmeans(ints, 2, seed=0)
    assert r.centroids.dtype == np.float32
    r = vidx.kmeans(np.asfortranarray(np.array(pts, dtype=np.float64)), 2)
    assert r.centroids.shape == (2, 2)


@pytest.mark.parametrize("X, exc", [
    ("abc", TypeError),
    ([["a", "b"], ["c", "d"]], TypeError),
    (np.array([[1 + 2j, 3]]), TypeError),
    (None, TypeError),
    (np.zeros(10, np.float32), ValueError),              # 1-d
    (np.zeros((2, 3, 4), np.float32), ValueError),       # 3-d
    (np.zeros((0, 4), np.float32), ValueError),          # empty
    (np.zeros((4, 0), np.float32), ValueError),          # no columns
    (np.array([[0, 1], [np.nan, 2]], np.float32), ValueError),
    (np.array([[0, 1], [np.inf, 2]], np.float64), ValueError),
    (np.array([[0, 1], [1e300, 2]], np.float64), ValueError),  # beyond float32
])
def test_bad_data(X, exc):
    with pytest.raises(exc):
        vidx.kmeans(X, 1)


def test_bad_arguments():
    x = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    with pytest.raises(ValueError):
        vidx.kmeans(x, 0)
    with pytest.raises(ValueError):
        vidx.kmeans(x, 11)
    with pytest.raises(TypeError):
        vidx.kmeans(x, 2.5)
    with pytest.raises(TypeError):
        vidx.kmeans(x, True)
    with pytest.raises(ValueError):
        vidx.kmeans(x, 2, iters=-1)
    with pytest.raises(ValueError):
        vidx.kmeans(x, 2, seed=-1)
    with pytest.raises(ValueError):
        vidx.kmeans(x, 2, device="tpu")
    with pytest.raises(ValueError):
        vidx.kmeans(x, 2, init="best")
    with pytest.raises(TypeError):
        vidx.kmeans(x, 2, device=1.5)


def test_cuda_request_without_cuda_is_a_clear_error():
    if vidx.cuda_available():
        pytest.skip("a CUDA device is present")
    x = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        vidx.kmeans(x, 2, device="cuda")


@pytest.mark.parametrize("scale", [2.0 ** 70, 1e19, 1e-22, 1e-30])
def test_points_of_any_scale_cluster_alike(scale):
    # Squared distances are float32: at 1e19 they overflowed (inertia inf) and at 1e-30 they
    # underflowed to 0 (one cluster held every point). Such points are clustered times a power
    # of two, and the centroids and inertia scaled back.
    X, _, _ = separated()
    plain = vidx.kmeans(X, 6, seed=1)
    far = vidx.kmeans((X.astype(np.float64) * scale).astype(np.float32), 6, seed=1)
    np.testing.assert_array_equal(far.assignment, plain.assignment)
    assert far.inertia == pytest.approx(plain.inertia * scale ** 2, rel=1e-4)
    np.testing.assert_allclose(far.centroids / scale, plain.centroids, rtol=1e-4, atol=1e-5)


def test_kmeans_takes_scikit_learns_spelling_and_bounds_its_counts():
    X, _, _ = separated()
    a = vidx.kmeans(X, 4, seed=1, init="k-means++")
    np.testing.assert_array_equal(a.assignment, vidx.kmeans(X, 4, seed=1, init="kmeans++").assignment)
    with pytest.raises(ValueError, match="iters must be at most"):
        vidx.kmeans(X, 4, iters=2 ** 70)
    with pytest.raises(ValueError, match="threads must be at most"):
        vidx.kmeans(X, 4, threads=2 ** 70)
