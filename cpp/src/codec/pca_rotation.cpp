#include "vidx/codec/pca_rotation.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "vidx/common/error.hpp"
#include "vidx/common/rng.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace {

// Orthogonal iterations to find the leading subspace: each multiplies the error in a direction
// by lambda_{r+1} / lambda_k, so the leading components settle within a few; the ones near r
// may stay mixed, which only blurs the order of coordinates that are checked late anyway.
constexpr int kSubspaceIterations = 16;

// Four running sums: one sum would make every add wait for the previous one, and the
// Gram-Schmidt passes of a few hundred directions are mostly these dots.
double dot(const double* a, const double* b, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

// Covariance of up to kSampleRows rows evenly spaced over x, as a dense d x d float matrix.
// The centred sample is stored by column so every entry is one call of the dot kernel.
std::vector<float> covariance(const float* x, size_t n, size_t d) {
  const size_t s = std::min(n, PcaRotation::kSampleRows);
  std::vector<size_t> rows(s);
  for (size_t i = 0; i < s; ++i) rows[i] = i * n / s;
  std::vector<double> mean(d, 0.0);
  for (size_t r : rows)
    for (size_t j = 0; j < d; ++j) mean[j] += x[r * d + j];
  for (double& m : mean) m /= static_cast<double>(s);
  std::vector<float> columns(d * s);
  for (size_t i = 0; i < s; ++i)
    for (size_t j = 0; j < d; ++j) columns[j * s + i] = static_cast<float>(x[rows[i] * d + j] - mean[j]);
  const simd::KernelTable& k = simd::kernels();
  std::vector<float> c(d * d);
  for (size_t i = 0; i < d; ++i)
    for (size_t j = 0; j <= i; ++j)
      c[i * d + j] = c[j * d + i] = k.dot(&columns[i * s], &columns[j * s], s) / static_cast<float>(s);
  return c;
}

// Makes the r rows of v (each d long) orthonormal, in order (modified Gram-Schmidt, two
// passes). A row that is (nearly) a combination of the previous ones, as happens when the
// sample has fewer rows than r or constant columns, is replaced by a random direction.
void orthonormalize_rows(std::vector<double>& v, size_t r, size_t d, Rng& rng) {
  for (size_t i = 0; i < r; ++i) {
    double* row = &v[i * d];
    for (;;) {
      const double before = std::sqrt(dot(row, row, d));
      for (int pass = 0; pass < 2; ++pass)
        for (size_t j = 0; j < i; ++j) {
          const double* prev = &v[j * d];
          const double p = dot(row, prev, d);
          for (size_t t = 0; t < d; ++t) row[t] -= p * prev[t];
        }
      const double norm = std::sqrt(dot(row, row, d));
      if (before > 0 && norm > 1e-9 * before) {
        for (size_t t = 0; t < d; ++t) row[t] /= norm;
        break;
      }
      for (size_t t = 0; t < d; ++t) row[t] = rng.uniform() - 0.5;
    }
  }
}

// out row j = C v_j, for the r rows of v (C: d x d floats).
void multiply(const std::vector<float>& c, const std::vector<double>& v, size_t r, size_t d, std::vector<double>& out) {
  const simd::KernelTable& k = simd::kernels();
  std::vector<float> row(d);
  out.resize(r * d);
  for (size_t j = 0; j < r; ++j) {
    for (size_t t = 0; t < d; ++t) row[t] = static_cast<float>(v[j * d + t]);
    for (size_t i = 0; i < d; ++i) out[j * d + i] = k.dot(&c[i * d], row.data(), d);
  }
}

// Eigen-decomposition of the symmetric n x n matrix a (overwritten) by cyclic Jacobi rotations:
// eigenvalues in values, eigenvectors as the columns of vectors (row-major n x n). Only used on
// the r x r projection of the covariance (r <= 128), where its n^3 per sweep is small.
void jacobi_eigen(std::vector<double>& a, size_t n, std::vector<double>& values, std::vector<double>& vectors) {
  vectors.assign(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) vectors[i * n + i] = 1.0;
  for (int sweep = 0; sweep < 64; ++sweep) {
    double off = 0, diag = 0;
    for (size_t p = 0; p < n; ++p)
      for (size_t q = 0; q < n; ++q) (p == q ? diag : off) += a[p * n + q] * a[p * n + q];
    if (off <= 1e-24 * std::max(diag, 1e-300)) break;
    for (size_t p = 0; p + 1 < n; ++p)
      for (size_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (apq == 0) continue;
        // The rotation angle that zeroes a[p][q]; t = tan of it, the root of smaller size.
        const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; ++k) {  // columns p and q
          const double kp = a[k * n + p], kq = a[k * n + q];
          a[k * n + p] = c * kp - s * kq;
          a[k * n + q] = s * kp + c * kq;
        }
        for (size_t k = 0; k < n; ++k) {  // rows p and q
          const double pk = a[p * n + k], qk = a[q * n + k];
          a[p * n + k] = c * pk - s * qk;
          a[q * n + k] = s * pk + c * qk;
        }
        for (size_t k = 0; k < n; ++k) {
          const double kp = vectors[k * n + p], kq = vectors[k * n + q];
          vectors[k * n + p] = c * kp - s * kq;
          vectors[k * n + q] = s * kp + c * kq;
        }
      }
  }
  values.resize(n);
  for (size_t i = 0; i < n; ++i) values[i] = a[i * n + i];
}

// The r leading principal directions of the covariance c, as rows, by decreasing variance:
// orthogonal iteration for the subspace, then Rayleigh-Ritz to order the directions within it.
// variance_share: the share of the total variance (trace of c) that the r directions hold.
// Below needed_share no directions are returned (the caller tries more), which skips the
// ordering: the share is the trace of the projection, known before its eigenvectors.
std::vector<double> principal_directions(const std::vector<float>& c, size_t r, size_t d, uint64_t seed,
                                         double needed_share, double& variance_share) {
  Rng rng(splitmix64(seed ^ 0x7063615f726f74ull));
  std::vector<double> v(r * d), w;
  for (double& x : v) x = rng.uniform() - 0.5;
  orthonormalize_rows(v, r, d, rng);
  for (int it = 0; it < kSubspaceIterations; ++it) {
    multiply(c, v, r, d, w);
    v.swap(w);
    orthonormalize_rows(v, r, d, rng);
  }
  multiply(c, v, r, d, w);
  std::vector<double> small(r * r), values, vectors;
  for (size_t a = 0; a < r; ++a)
    for (size_t b = 0; b < r; ++b) small[a * r + b] = dot(&v[a * d], &w[b * d], d);
  for (size_t a = 0; a < r; ++a)  // symmetric up to rounding: make it exactly so
    for (size_t b = 0; b < a; ++b) small[a * r + b] = small[b * r + a] = 0.5 * (small[a * r + b] + small[b * r + a]);
  double trace = 0, held = 0;
  for (size_t i = 0; i < d; ++i) trace += c[i * d + i];
  for (size_t a = 0; a < r; ++a) held += small[a * r + a];
  variance_share = trace > 0 ? std::min(1.0, held / trace) : 0.0;
  if (variance_share < needed_share) return {};
  jacobi_eigen(small, r, values, vectors);
  std::vector<size_t> order(r);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] > values[b]; });
  std::vector<double> p(r * d, 0.0);
  for (size_t k = 0; k < r; ++k)
    for (size_t a = 0; a < r; ++a) {
      const double e = vectors[a * r + order[k]];
      for (size_t t = 0; t < d; ++t) p[k * d + t] += e * v[a * d + t];
    }
  orthonormalize_rows(p, r, d, rng);  // removes the rounding the combination left
  return p;
}

}  // namespace

double PcaRotation::learn(const float* x, size_t n, const ComponentRule& rule, uint64_t seed) {
  const size_t d = dim_;
  const size_t most = std::min(rule.most, d);
  clear();
  if (n == 0 || most == 0 || rule.step == 0) return 0.0;
  // Each count is learnt afresh from the one covariance: a try costs r d^2 per iteration, so
  // m tries cost (m + 1) / 2 times the last one (2x for wordnet-minilm's three).
  const std::vector<float> c = covariance(x, n, d);
  double share = 0;
  size_t r = 0;
  std::vector<double> p;
  do {
    r = std::min(r + rule.step, most);
    p = principal_directions(c, r, d, seed, r < most ? rule.target_share : 0.0, share);
  } while (p.empty());
  // Householder QR of the directions taken as columns: reflection k sends the k-th direction,
  // as the previous reflections left it, to a multiple of e_k; the later ones leave the first
  // k coordinates alone, so T p_k = +-e_k for every k.
  reflectors_.assign(r * d, 0.f);
  std::vector<double> v(d);
  for (size_t k = 0; k < r; ++k) {
    const double* a = &p[k * d];
    double tail = 0;
    for (size_t i = k; i < d; ++i) tail += a[i] * a[i];
    tail = std::sqrt(tail);
    const double alpha = a[k] >= 0 ? -tail : tail;  // the sign that avoids cancellation in v_k
    std::fill(v.begin(), v.end(), 0.0);
    for (size_t i = k; i < d; ++i) v[i] = a[i];
    v[k] -= alpha;
    const double vnorm = std::sqrt(dot(v.data(), v.data(), d));
    if (vnorm < 1e-12) {  // already +-e_k: a sign flip of coordinate k keeps T orthogonal
      std::fill(v.begin(), v.end(), 0.0);
      v[k] = 1.0;
    } else {
      for (double& e : v) e /= vnorm;
    }
    for (size_t j = k; j < r; ++j) {  // apply H_k to the directions not yet placed
      double* col = &p[j * d];
      const double s = 2 * dot(v.data(), col, d);
      for (size_t i = k; i < d; ++i) col[i] -= s * v[i];
    }
    for (size_t i = 0; i < d; ++i) reflectors_[k * d + i] = static_cast<float>(v[i]);
  }
  compute_scales();
  return share;
}

void PcaRotation::clear() {
  reflectors_.clear();
  scales_.clear();
}

void PcaRotation::compute_scales() {
  // 2 / |v_k|^2 of the stored float vectors, so each H_k is orthogonal to rounding even
  // though v_k was rounded to float.
  const size_t r = components();
  scales_.resize(r);
  for (size_t k = 0; k < r; ++k) {
    double n2 = 0;
    for (size_t i = 0; i < dim_; ++i) n2 += static_cast<double>(reflectors_[k * dim_ + i]) * reflectors_[k * dim_ + i];
    scales_[k] = static_cast<float>(2.0 / n2);
  }
}

void PcaRotation::reflect(size_t k, float* y) const {
  // v_k is zero before k
  simd::kernels().reflect(&reflectors_[k * dim_ + k], y + k, dim_ - k, scales_[k]);
}

void PcaRotation::apply(const float* in, float* out) const {
  if (out != in) std::copy(in, in + dim_, out);
  for (size_t k = 0; k < components(); ++k) reflect(k, out);
}

void PcaRotation::apply_inverse(const float* in, float* out) const {
  if (out != in) std::copy(in, in + dim_, out);
  for (size_t k = components(); k-- > 0;) reflect(k, out);
}

void PcaRotation::save(io::ByteWriter& out) const {
  out.u32(static_cast<uint32_t>(components()));
  for (float v : reflectors_) out.f32(v);
}

void PcaRotation::load(io::ByteReader& in) {
  const uint32_t r = in.u32();
  if (r > dim_) throw FileFormatError(in.what() + ": " + std::to_string(r) + " PCA reflectors for " + std::to_string(dim_) + " dimensions");
  reflectors_.assign(static_cast<size_t>(r) * dim_, 0.f);
  for (float& v : reflectors_) v = in.f32();
  for (size_t k = 0; k < r; ++k) {
    double n2 = 0;
    bool leading_zeros = true;
    for (size_t i = 0; i < dim_; ++i) {
      const float v = reflectors_[k * dim_ + i];
      if (!std::isfinite(v)) throw FileFormatError(in.what() + ": invalid PCA reflector");
      if (i < k && v != 0.f) leading_zeros = false;
      n2 += static_cast<double>(v) * v;
    }
    if (!leading_zeros || std::fabs(n2 - 1.0) > 1e-3) throw FileFormatError(in.what() + ": invalid PCA reflector");
  }
  compute_scales();
}

}  // namespace vidx
