// A codec decides how a vector is stored and how far a stored vector is from a query.
// Index structures (flat, HNSW, SPANN) only ever see opaque fixed-size codes and ask the
// codec for distances, so any structure works with any codec (DESIGN.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vidx/common/metric.hpp"
#include "vidx/io/fwd.hpp"

namespace vidx {

// Distances from one prepared query to stored codes. Prepared once per query so per-query
// terms (a shifted or normalised query, sums for LVQ...) are not recomputed per distance.
class QueryDistance {
 public:
  virtual ~QueryDistance() = default;
  virtual float one(const uint8_t* code) const = 0;
  // How many bytes of a code one() reads (from its start): a graph walk requests them when it
  // gathers a neighbour, so a code that straddles cache lines arrives whole.
  virtual size_t code_bytes() const = 0;
  // How many of those bytes a graph walk requests when it gathers a neighbour, before scoring
  // it with batch or batch_bounded: all of them, unless batch_bounded abandons far codes partway
  // and requests the rest of a code itself (simd::bounded_walk_prefetch_bytes).
  virtual size_t walk_prefetch_bytes() const { return code_bytes(); }
  // Distances to n codes given by pointers, as a graph walk gathers them; implementations
  // dispatch to a SIMD batch kernel once per call, not once per distance.
  virtual void batch(const uint8_t* const* codes, size_t n, float* out) const = 0;
  // Like batch, but a code whose distance is at least `bound` may get any value >= bound
  // instead of its exact distance, so kernels can stop early on far candidates. f32_pca's
  // calibrated early exits may also, rarely, abandon a code under the bound (a graph walk
  // accepts that); batch_bounded_exact never does.
  virtual void batch_bounded(const uint8_t* const* codes, size_t n, float /*bound*/, float* out) const {
    batch(codes, n, out);
  }
  // batch_bounded for scans that promise exact results: only codes at or beyond the bound are
  // abandoned, and every other distance is the one batch() gives.
  virtual void batch_bounded_exact(const uint8_t* const* codes, size_t n, float bound, float* out) const {
    batch_bounded(codes, n, bound, out);
  }
  // Whether batch_bounded may abandon a code under the bound (f32_pca's calibrated early exits,
  // f32_sketch's sign-sketch screen): what it keeps then depends on the bound it was given, so
  // a scan that scores lists in another order may keep other candidates (spann_search.cpp).
  virtual bool screens() const { return false; }
  // The distance to a code whose head and tail (see Codec::head_size) are stored apart; only
  // precise distances read the tail, the others ignore it.
  virtual float one_split(const uint8_t* head, const uint8_t* /*tail*/) const { return one(head); }
};

class Codec {
 public:
  virtual ~Codec() = default;

  virtual std::string name() const = 0;
  size_t dim() const { return dim_; }
  // L2 or IP; cosine is IP on vectors normalised by the index before they reach the codec.
  Metric metric() const { return metric_; }
  virtual size_t code_size() const = 0;
  // A code is [head | tail]. prepare() and distance_between() read only the head, the first
  // head_size() bytes; the tail (re-rank codes: LVQ residuals, binary's LVQ-8 level, the lower
  // halves of f32_split's values) is read only by prepare_precise(). A structure may keep tails
  // apart from its graph records, so a graph walk touches only heads and links
  // (QueryDistance::one_split reads both parts).
  virtual size_t head_size() const { return code_size(); }
  // The widest load its kernels make from a code: a structure aligns long codes to it (to a
  // cache line for float kernels; LVQ reads 16 bytes at a time and needs no more padding).
  virtual size_t load_alignment() const { return 64; }
  // Bits a dimension that a graph walk's distances resolve: 32 for float32, 16 for float16 and
  // f32_split's upper halves, LVQ's primary bits, 1 for sign codes. HNSW's automatic M widens the
  // lists only of walks precise enough to use them (hnsw_degree.cpp).
  virtual int walk_bits() const = 0;

  virtual void encode(const float* x, uint8_t* code) const = 0;
  virtual void decode(const uint8_t* code, float* x) const = 0;
  // decode() of a code whose tail is stored apart from its head.
  virtual void decode_split(const uint8_t* head, const uint8_t* /*tail*/, float* x) const { decode(head, x); }
  // Whether a stored code decodes to finite values (what a loader checks: finite_codes.hpp).
  // By default it decodes the code into `scratch` (dim() floats) and looks; codecs that can tell
  // from the stored bits or constants alone look at those instead.
  virtual bool finite(const uint8_t* head, const uint8_t* tail, float* scratch) const;
  // True where decode() returns exactly the vector encode() was given (float32 codes): get()
  // reports stored vectors as exact or as decoded from lossy codes by this.
  virtual bool decodes_exactly() const { return false; }
  // True where codes keep float32's full width and precision (f32, and f32_pca up to its
  // rotation's rounding): a graph build walking them pays for every byte, so it walks compact
  // construction codes instead.
  virtual bool full_width() const { return decodes_exactly(); }
  virtual std::unique_ptr<QueryDistance> prepare(const float* query) const = 0;
  // A stored vector as the query (graph construction compares stored vectors): decoded once
  // at full precision, then compared with prepare()'s fast kernel. tail = nullptr: the code
  // is contiguous.
  // Codecs whose code is the vector itself in the basis they compare in override it to skip
  // the decode (f32_pca: decoding and preparing would rotate back and forth, 4 r d
  // multiply-adds).
  virtual std::unique_ptr<QueryDistance> prepare_from_code(const uint8_t* head, const uint8_t* tail = nullptr) const {
    std::vector<float> x(dim_);
    decode_split(head, tail ? tail : head + head_size(), x.data());
    return prepare(x.data());
  }
  // Distance between two stored vectors, from their heads (graph construction compares
  // neighbours).
  virtual float distance_between(const uint8_t* a, const uint8_t* b) const = 0;
  // True where distance_between is expensive (it decodes both codes) and a structure that
  // compares one stored vector with several should prepare it once (prepare_from_code).
  virtual bool prefers_prepared_comparisons() const { return false; }
  // Whether a prepared code's distance to another code is, up to float rounding, the distance
  // between the two rows decoded (decode_split), so that a structure comparing few codes with
  // one another may decode each once instead. Single-level LVQ: yes (a float query against the
  // codes' values); two-level LVQ: no (its prepared query is rounded to 8 bits and reads the
  // primary codes only).
  virtual bool decoded_rows_compare_alike() const { return false; }

  // Codecs whose codes depend on the data (LVQ centres by the dataset mean) learn it from
  // the first rows added, before anything is encoded.
  virtual bool needs_training() const { return false; }
  virtual void train(const float* /*x*/, size_t /*n*/) {}
  // The rows of a later add, for codecs that widen what they learnt from them (f32_pca: its
  // early-exit shares, so that rows unlike the first add's are not dropped). Safe beside
  // running searches and other adds.
  virtual void observe(const float* /*x*/, size_t /*n*/) {}

  // Compact codecs may hold more than traversal uses: prepare() is the fast distance a
  // structure walks with, prepare_precise() the one it re-ranks its best candidates with.
  // reranks() says whether the two differ, so re-ranking is worth its cost.
  virtual std::unique_ptr<QueryDistance> prepare_precise(const float* query) const { return prepare(query); }
  virtual bool reranks() const { return false; }
  // Whether a walk's distance to a code whose tail is all zero bytes is already the precise
  // distance, bit for bit, so that re-ranking such codes would only read their tails again.
  virtual bool walks_exactly_with_zero_tails() const { return false; }
  // The walk's distance where every candidate it keeps is re-scored from other data (an HNSW
  // with kept float32 vectors, a float32 build's construction codes): the walk only chooses
  // candidates, so a codec may trade exactness for speed here (LVQ: a query rounded to 8 bits
  // in integer arithmetic, as its two-level codecs walk).
  virtual std::unique_ptr<QueryDistance> prepare_reranked_walk(const float* query) const { return prepare(query); }

  // Parameters that must travel with the codes (a mean, a rotation...), read back by
  // load_parameters from exactly what save_parameters wrote.
  virtual void save_parameters(io::ByteWriter& out) const = 0;
  virtual void load_parameters(io::ByteReader& /*in*/) {}
  // Bytes those parameters hold in memory (a mean, a rotation), for memory_usage().
  virtual size_t parameter_bytes() const { return 0; }

 protected:
  // Cosine is inner product on vectors the index normalises, so a codec records IP for it; a
  // codec that compares unit vectors another way reads the index's metric in its own
  // constructor (f32_pca).
  Codec(size_t dim, Metric metric) : dim_(dim), metric_(metric == Metric::Cosine ? Metric::IP : metric) {}

 private:
  size_t dim_;
  Metric metric_;
};

// Builds a codec by its registered name (codec/registry.hpp: "f32" or "none", "f16", "lvq8",
// "lvq4x8", "binary", "rabitq"...); throws InvalidArgument naming the choices for unknown names.
// seed: where a codec draws something at random (a rotation).
std::unique_ptr<Codec> make_codec(const std::string& name, size_t dim, Metric metric, uint64_t seed = 0);
// Rebuilds a codec saved with save_parameters.
std::unique_ptr<Codec> load_codec(const std::string& name, size_t dim, Metric metric, io::ByteReader& in);

}  // namespace vidx
