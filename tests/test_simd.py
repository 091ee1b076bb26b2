"""Every SIMD level the CPU runs must agree with the scalar reference kernel."""
import os
import subprocess
import sys

import numpy as np
import pytest

import vidx
from vidx import _core

LEVELS = vidx.cpu_features()["available"]
DIMS = [1, 3, 17, 127, 960]


def test_cpu_features_report():
    f = vidx.cpu_features()
    assert "scalar" in f["available"]
    assert f["active"] in f["available"]
    assert f["best"] in f["available"]
    assert isinstance(f["flags"], dict) and f["arch"]
    # x86 names its vendor (cpuid's twelve characters), which tunes the walks' memory requests.
    assert len(f["vendor"]) == 12 if f["arch"] == "x86_64" else f["vendor"] == ""
    # LVQ keeps to 256-bit kernels on Intel's AVX-512 cores, and follows the active level elsewhere.
    narrower = f["vendor"] == "GenuineIntel" and f["active"] == "avx512"
    assert f["lvq_active"] == ("avx2" if narrower else f["active"])


def test_lvq_follows_a_forced_level():
    code = "import vidx; f = vidx.cpu_features(); print(f['active'], f['lvq_active'])"
    env = dict(os.environ, VIDX_SIMD="scalar")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["scalar", "scalar"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("op", ["l2", "ip"])
def test_level_matches_scalar(level, dim, op):
    rng = np.random.default_rng(dim)
    q = rng.standard_normal(dim).astype(np.float32)
    x = rng.standard_normal((37, dim)).astype(np.float32)
    ref_pair, ref_batch = _core._kernel_distances("scalar", op, q, x)
    pair, batch = _core._kernel_distances(level, op, q, x)
    x64, q64 = x.astype(np.float64), q.astype(np.float64)
    exact = ((x64 - q64) ** 2).sum(1) if op == "l2" else x64 @ q64
    scale = np.abs(x64 * q64).sum(1) + (((x64 - q64) ** 2).sum(1) if op == "l2" else 0) + 1e-6
    for got in (ref_pair, ref_batch, pair, batch):
        assert np.all(np.abs(got - exact) <= 1e-5 * scale)
    np.testing.assert_array_equal(pair, batch)


WIDE_LVQ8 = """
import numpy as np, vidx
dim = 600_000  # past where a 32-bit lane of squared codes wrapped: 264k dims (AVX2), 528k (AVX-512)
rng = np.random.default_rng(1)
base = np.ones(dim, np.float32); base[0] = -1.0  # rows of codes at 255 but one
decoys = base + 0.01 * rng.standard_normal((20, dim)).astype(np.float32)
target = rng.uniform(-1, 1, dim).astype(np.float32)
X = np.vstack([decoys, -decoys, target[None]])
for metric, q, best in (("l2", target, 40), ("ip", np.ones(dim, np.float32), None)):
    idx = vidx.Index(dim, metric=metric, kind="flat", quant="lvq8x8", threads=1)
    idx.add(X)
    D, I = idx.search(q, k=1, rerank=1)  # the 8-bit walk codes alone decide
    exact = ((X - q) ** 2).sum(1) if metric == "l2" else 1 - X @ q
    print(metric, int(I[0, 0]), int(np.argmin(exact)) if best is None else best)
"""


@pytest.mark.parametrize("level", LEVELS)
def test_lvq8_integer_terms_do_not_wrap_at_wide_dims(level):
    # 8-bit codes' integer terms were summed in 32-bit lanes over the whole vector: at 600,000
    # dims AVX2 and AVX-512 returned a far row (distance 8.0e5) for the query's own row (4.5e-5).
    env = dict(os.environ, VIDX_SIMD=level)
    out = subprocess.run([sys.executable, "-c", WIDE_LVQ8], env=env, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        metric, got, expected = line.split()
        assert got == expected, f"{level} {metric}: nearest {got}, expected {expected}"


def test_unknown_level_rejected():
    with pytest.raises(ValueError):
        _core._kernel_distances("sse9", "l2", np.zeros(4, np.float32), np.zeros((1, 4), np.float32))


@pytest.mark.parametrize("level", LEVELS)
def test_env_forces_level(level):
    code = "import vidx; f = vidx.cpu_features(); print(f['active'], '|', f['reason'])"
    env = dict(os.environ, VIDX_SIMD=level)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split("|")[0].strip() == level


def test_env_cannot_raise_level_above_cpu():
    code = "import vidx; print(vidx.cpu_features()['active'])"
    env = dict(os.environ, VIDX_SIMD="bogus")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == vidx.cpu_features()["best"]


@pytest.mark.parametrize("level", LEVELS)
def test_search_results_same_under_every_level(level, blobs):
    """A whole index search under a forced level returns the scalar level's neighbours."""
    x, q = blobs
    code = (
        "import numpy as np, sys, vidx\n"
        "x = np.load(sys.argv[1]); q = np.load(sys.argv[2])\n"
        "i = vidx.Index(x.shape[1], kind='flat'); i.add(x)\n"
        "np.save(sys.argv[3], i.search(q, 5)[1])\n"
    )
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        np.save(f"{d}/x.npy", x[:2000])
        np.save(f"{d}/q.npy", q[:50])
        outs = []
        for lv in ("scalar", level):
            env = dict(os.environ, VIDX_SIMD=lv)
            subprocess.run([sys.executable, "-c", code, f"{d}/x.npy", f"{d}/q.npy", f"{d}/{lv}.npy"], env=env,
                           check=True)
            outs.append(np.load(f"{d}/{lv}.npy"))
        np.testing.assert_array_equal(outs[0], outs[1])


def bounded_case(dim, seed):
    """A query, 64 rows, their exact squared distances (float64) and the median as bound."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(dim).astype(np.float32)
    x = rng.standard_normal((64, dim)).astype(np.float32)
    exact = ((x.astype(np.float64) - q) ** 2).sum(1)
    return q, x, exact, float(np.median(exact))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", DIMS + [128, 300])
def test_bounded_l2_is_exact_below_the_bound(level, dim):
    q, x, exact, bound = bounded_case(dim, dim + 1)
    got = _core._kernel_l2_bounded(level, q, x, bound)
    below = exact < bound * (1 - 1e-4)
    above = exact > bound * (1 + 1e-4)
    np.testing.assert_allclose(got[below], exact[below], rtol=1e-5)
    assert np.all(got[above] >= bound)
    unbounded = _core._kernel_l2_bounded(level, q, x, np.inf)
    np.testing.assert_allclose(unbounded, exact, rtol=1e-5)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", [64, 100, 128, 300])
def test_scaled_checks_abandon_by_the_partial_sum(level, dim):
    # Check b compares the first 64 (b + 1) coordinates' sum with bound * scale[b].
    q, x, exact, bound = bounded_case(dim, dim + 7)
    checks = dim // 64
    plain = _core._kernel_l2_bounded(level, q, x, bound)
    np.testing.assert_array_equal(_core._kernel_l2_bounded(level, q, x, bound, np.ones(checks, np.float32)), plain)
    # Scales in proportion to the coordinates read (1 for a block that ends the vector, as the
    # codec learns them): abandoned exactly where a checked prefix reaches its share of the
    # bound (prefixes within 1e-4 of it left out: float rounding decides those).
    scales = np.minimum(1.0, (np.arange(checks) + 1) * 64 / dim).astype(np.float32)
    scaled = _core._kernel_l2_bounded(level, q, x, bound, scales)
    prefixes = np.cumsum((x.astype(np.float64) - q) ** 2, axis=1)[:, 63:checks * 64:64]
    limits = bound * scales.astype(np.float64)
    reached = (prefixes >= limits * (1 + 1e-4)).any(axis=1)
    clear = ~(np.abs(prefixes - limits) < limits * 1e-4).any(axis=1)
    assert np.all(scaled[reached] >= bound)
    stays = clear & ~reached
    np.testing.assert_allclose(scaled[stays], exact[stays], rtol=1e-5)
    assert reached.any() and stays.any()
    with pytest.raises(ValueError, match="one scale per whole block"):
        _core._kernel_l2_bounded(level, q, x, bound, np.ones(checks - 1, np.float32))


def test_levels_listed_in_order_and_neon_only_on_arm():
    f = vidx.cpu_features()
    order = ["scalar", "neon", "avx2", "avx512"]
    assert f["available"] == sorted(f["available"], key=order.index)
    assert ("neon" in f["available"]) == (f["arch"] == "aarch64")


def test_level_of_another_architecture_is_refused_by_name():
    """'neon' on x86 (or 'avx2' on ARM) is a known level this CPU cannot run: a clear ValueError."""
    other = "avx2" if vidx.cpu_features()["arch"] == "aarch64" else "neon"
    with pytest.raises(ValueError, match="not available"):
        _core._kernel_distances(other, "l2", np.zeros(4, np.float32), np.zeros((1, 4), np.float32))


def test_env_naming_an_unavailable_level_falls_back_to_best():
    other = "avx2" if vidx.cpu_features()["arch"] == "aarch64" else "neon"
    code = "import vidx; f = vidx.cpu_features(); print(f['active'], '|', f['reason'])"
    env = dict(os.environ, VIDX_SIMD=other)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    active, reason = (part.strip() for part in out.split("|"))
    assert active == vidx.cpu_features()["best"] and "not available" in reason


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dim", DIMS + [300])
def test_reflect_matches_scalar_and_float64(level, dim):
    # One Householder reflection y - scale <v, y> v (PcaRotation's step), every level.
    rng = np.random.default_rng(dim + 7)
    v = rng.standard_normal(dim).astype(np.float32)
    y = rng.standard_normal(dim).astype(np.float32)
    scale = np.float32(2.0 / float(v.astype(np.float64) @ v))
    want = y.astype(np.float64) - scale * float(v.astype(np.float64) @ y) * v
    got = _core._kernel_reflect(level, v, y, scale)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    np.testing.assert_allclose(got, _core._kernel_reflect("scalar", v, y, scale), rtol=1e-4, atol=1e-5)
    # A reflection is its own inverse.
    np.testing.assert_allclose(_core._kernel_reflect(level, v, got, scale), y, rtol=1e-4, atol=1e-4)
