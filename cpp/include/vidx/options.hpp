// The construction options of every index kind, in one record, listed once.
//
// visit_options() walks every option with its name, the kinds it applies to and its limits;
// the serialiser, the validation (one error text per option), the Python conversion and
// params() are all visitors of that one list, so adding an option is one line here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "vidx/io/fwd.hpp"

namespace vidx {

// Options of the SPANN kind (heads in memory, posting lists on disk). Its head graph takes
// M, ef_construction and ef_search from IndexOptions.
struct SpannOptions {
  std::string path;              // the posting file the build writes
  double head_ratio = 0;         // heads as a fraction of the vectors; 0 = auto_head_ratio(dim)
  size_t replicas = 8;           // most posting lists a vector goes into
  size_t candidates = 64;        // nearest heads considered for the replicas
  double rng_factor = 1.0;       // RNG rule: reject head h if rng_factor * d(h, a) < d(x, h)
  size_t posting_limit = 0;      // most entries per list; 0 = 3x the mean list length
  size_t branch = 16;            // balanced k-means fan-out of the head tree
  size_t kmeans_iters = 10;
  size_t nprobe = 32;            // default lists probed per query
  double eps = 10.0;             // default pruning: skip head i if d_i > (1 + eps) d_1
  bool direct_io = true;         // O_DIRECT reads (falls back to buffered where refused)
  size_t io_threads = 16;        // readers a search may use (a process's SPANN indexes share them); 0 = reads on the searching thread
  uint64_t memory_budget = 0;    // bytes the build may hold; 0 = half the physical memory
  size_t sample = 0;             // rows clustered for the heads; 0 = as many as the budget allows
  size_t read_buffer = 1 << 20;  // bytes of posting pages one search holds at a time
  // An add that brings the index to this many times the rows of its last build re-clusters
  // every row with the add's (SpannIndex::rebuild); 0 = never.
  double rebuild_growth = 2.0;
};

// Construction parameters; each kind reads the ones that apply to it (see visit_options).
struct IndexOptions {
  // Graph links per node (2M on level 0). 0: automatic, HNSW chooses once it holds 100,000 rows
  // (hnsw_degree.cpp, hnsw_widen.cpp), SPANN's head graph takes kDefaultDegree.
  size_t M = 0;
  size_t ef_construction = 200;  // graph beam width while building
  size_t ef_search = 64;         // default graph beam width of search() when ef == 0
  uint64_t seed = 0;             // everything random is derived from it
  size_t threads = 0;            // 0 = all cores
  // Codec of the stored vectors: "none" (float32), "f32_split", "lvq8", "lvq4x8", ...; "" asks for
  // the kind's default (kDefaultQuant, or the kind's own), which the index reports and saves by name.
  std::string quant;
  // Candidates re-scored with precise distances after a compressed scan; 0 = automatic.
  size_t rerank = 0;
  bool keep_vectors = false;  // also keep float32 vectors beside the codes, to re-rank with
  SpannOptions spann;
};

// Which kinds an option applies to.
enum OptionScope : unsigned { kScopeMemory = 1, kScopeSpann = 2, kScopeAll = 3 };

// The limits of a numeric option; `rule` is the text of its error ("must be ...").
struct OptionLimits {
  double lo = 0;
  double hi = std::numeric_limits<double>::infinity();
  const char* rule = nullptr;  // nullptr: "must be between lo and hi" / "at least lo"
  bool lo_open = false;        // lo itself is not allowed (but 0 may be, see zero_ok)
  bool zero_ok = false;        // 0 means "automatic" even though it is below lo
};

// Calls v.count(name, size_t&, scope, limits), v.u64(...), v.real(name, double&, ...),
// v.flag(name, bool&, scope), v.text(name, std::string&, scope) for every option.
template <class Options, class Visitor>
void visit_options(Options& o, Visitor& v) {
  v.count("M", o.M, kScopeAll, OptionLimits{2, 2048, "must be between 2 and 2048 (or 0: automatic)", false, true});
  v.count("ef_construction", o.ef_construction, kScopeAll, OptionLimits{1, 1e9});
  v.count("ef_search", o.ef_search, kScopeAll, OptionLimits{1, 1e9});
  v.u64("seed", o.seed, kScopeAll, OptionLimits{});
  v.count("threads", o.threads, kScopeAll, OptionLimits{0, 4096});
  v.text("quant", o.quant, kScopeAll);
  v.count("rerank", o.rerank, kScopeAll, OptionLimits{0, 1e9});
  v.flag("keep_vectors", o.keep_vectors, kScopeMemory);
  auto& s = o.spann;
  v.text("path", s.path, kScopeSpann);
  v.real("head_ratio", s.head_ratio, kScopeSpann, OptionLimits{0, 1, "must be in (0, 1] (or 0: automatic)", true, true});
  v.count("replicas", s.replicas, kScopeSpann, OptionLimits{1, 64});
  v.count("candidates", s.candidates, kScopeSpann, OptionLimits{1, 4096});
  v.real("rng_factor", s.rng_factor, kScopeSpann, OptionLimits{0, 1e300, "must be a positive number", true});
  v.count("posting_limit", s.posting_limit, kScopeSpann, OptionLimits{0, double(1u << 31)});
  v.count("branch", s.branch, kScopeSpann, OptionLimits{2, 1024});
  v.count("kmeans_iters", s.kmeans_iters, kScopeSpann, OptionLimits{1, 1000});
  v.count("nprobe", s.nprobe, kScopeSpann, OptionLimits{1, 1e9});
  v.real("eps", s.eps, kScopeSpann, OptionLimits{0, std::numeric_limits<double>::infinity(),
                                                 "must be >= 0 (inf turns pruning off)"});
  v.flag("direct_io", s.direct_io, kScopeSpann);
  v.count("io_threads", s.io_threads, kScopeSpann, OptionLimits{0, 1024});
  v.u64("memory_budget", s.memory_budget, kScopeSpann, OptionLimits{});
  v.count("sample", s.sample, kScopeSpann, OptionLimits{0, 1e15});
  v.count("read_buffer", s.read_buffer, kScopeSpann, OptionLimits{4096, 1e12});
  v.real("rebuild_growth", s.rebuild_growth, kScopeSpann,
         OptionLimits{1, 1e300, "must be > 1 (or 0: never rebuild on growth)", true, true});
}

// The scope bit of a kind ("hnsw"/"flat": memory, "spann"); 0 for an unknown kind.
unsigned option_scope_of(const std::string& kind);

// All option names, for messages and Python; or those a kind takes (InvalidArgument for an
// unknown kind), e.g. whether it keeps a file at `path`.
std::vector<std::string> option_names();
std::vector<std::string> option_names(const std::string& kind);

// The graph degree where M is left automatic and nothing chooses another (HNSW under 100,000 rows,
// and its easy or 1-bit-walked data; SPANN's head graph).
constexpr size_t kDefaultDegree = 16;

// The codec an index stores when quant= is left empty ("none": float32), unless its kind has a
// default of its own (HNSW: HnswIndex::kDefaultCodec).
constexpr const char* kDefaultQuant = "none";

// `options` with an empty quant replaced by `quant`. VectorIndex's constructor applies
// kDefaultQuant, so options() always names the codec in use; a kind with a default of its own
// applies it before passing its options on.
IndexOptions with_default_quant(IndexOptions options, const char* quant);

// InvalidArgument naming the option and its rule for the first value out of its limits.
void validate_options(const IndexOptions& options);

// Self-describing encoding (name, type, value per option): files stay readable when options
// are added; unknown names in a file are refused, missing ones keep their default.
void write_options(const IndexOptions& options, io::ByteWriter& out);
IndexOptions read_options(io::ByteReader& in);

}  // namespace vidx
