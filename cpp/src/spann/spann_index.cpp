#include "vidx/spann/spann_index.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <system_error>

#include "vidx/common/error.hpp"
#include "vidx/common/rng.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/index_file.hpp"
#include "vidx/simd/kernels.hpp"
#include "vidx/spann/balanced_kmeans.hpp"

namespace vidx::spann {
namespace {

constexpr uint32_t kMetaSection = io::fourcc("META");
constexpr uint32_t kHeadSection = io::fourcc("HEAD");
constexpr uint32_t kCodecSection = io::fourcc("CODC");
constexpr uint32_t kMetaVersion = 2;  // 2 adds the codec (name in META, parameters in CODC)
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

uint64_t physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return uint64_t(8) << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

std::string bytes_text(uint64_t b) {
  char buf[64];
  if (b >= (uint64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / 1073741824.0);
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1048576.0);
  return std::to_string(b) + " bytes (" + buf + ")";
}

// The build's own large allocations, to size its buffers and report its peak.
struct MemoryTracker {
  uint64_t now = 0, peak = 0;
  void add(uint64_t b) {
    now += b;
    peak = std::max(peak, now);
  }
  void sub(uint64_t b) { now -= std::min(now, b); }
};

// Reads rows, rejects NaN/inf naming the row, normalises for cosine.
void read_rows(VectorSource& src, size_t begin, size_t count, float* out, size_t dim, Metric metric) {
  src.read(begin, count, out);
  for (size_t r = 0; r < count; ++r) {
    float* row = out + r * dim;
    for (size_t c = 0; c < dim; ++c)
      if (!std::isfinite(row[c]))
        throw InvalidArgument("vector row " + std::to_string(begin + r) + " has a NaN or infinite value at column " +
                              std::to_string(c));
    if (metric == Metric::Cosine) normalize_in_place(row, dim);
  }
}

// A page-aligned buffer for O_DIRECT reads.
class PageBuffer {
 public:
  PageBuffer() = default;
  ~PageBuffer() { std::free(p_); }
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  uint8_t* reserve(size_t bytes) {
    if (bytes > size_) {
      std::free(p_);
      size_ = round_up_page(std::max(bytes, size_ + size_ / 2));
      p_ = static_cast<uint8_t*>(std::aligned_alloc(kPageSize, size_));
      if (!p_) {
        size_ = 0;
        throw std::bad_alloc();
      }
    }
    return p_;
  }
  size_t size() const { return size_; }

 private:
  uint8_t* p_ = nullptr;
  size_t size_ = 0;
};

// Open-addressing set of int64 ids, cleared per query.
class IdSet {
 public:
  void reset(size_t expected) {
    size_t cap = 64;
    while (cap < 2 * expected) cap <<= 1;
    if (cap != keys_.size()) {
      keys_.assign(cap, 0);
      used_.assign(cap, 0);
    } else {
      std::fill(used_.begin(), used_.end(), 0);
    }
    mask_ = cap - 1;
  }
  // True when id was not in the set (and is now).
  bool insert(int64_t id) {
    size_t h = static_cast<size_t>(splitmix64(static_cast<uint64_t>(id))) & mask_;
    while (used_[h]) {
      if (keys_[h] == id) return false;
      h = (h + 1) & mask_;
    }
    used_[h] = 1;
    keys_[h] = id;
    return true;
  }
  size_t memory_usage() const { return keys_.capacity() * 8 + used_.capacity(); }

 private:
  std::vector<int64_t> keys_;
  std::vector<uint8_t> used_;
  size_t mask_ = 0;
};

struct Hit {
  float d;
  int64_t id;
};
inline bool hit_less(const Hit& a, const Hit& b) { return a.d < b.d || (a.d == b.d && a.id < b.id); }

std::string absolute_path(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dir_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

std::vector<uint8_t> read_whole_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("cannot open " + path + ": " + std::generic_category().message(errno));
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw IoError("cannot read " + path + ": " + std::generic_category().message(err));
    }
    if (r == 0) break;
    out.insert(out.end(), buf, buf + r);
  }
  ::close(fd);
  return out;
}

// Loads an HNSW index from bytes held in memory (through an anonymous file where possible).
std::unique_ptr<VectorIndex> load_index_from_bytes(const io::Span& bytes, const std::string& what) {
  std::string path;
  int fd = -1;
  bool unlink_after = false;
#if defined(__linux__) && defined(MFD_CLOEXEC)
  fd = ::memfd_create("vidx-spann-heads", MFD_CLOEXEC);
  if (fd >= 0) path = "/proc/self/fd/" + std::to_string(fd);
#endif
  if (fd < 0) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/vidx-spann-heads-XXXXXX";
    std::vector<char> name(templ.begin(), templ.end());
    name.push_back('\0');
    fd = ::mkstemp(name.data());
    if (fd < 0) throw IoError("cannot create a temporary file to load " + what + ": " + std::generic_category().message(errno));
    path = name.data();
    unlink_after = true;
  }
  struct Cleanup {
    int fd;
    std::string path;
    bool unlink_after;
    ~Cleanup() {
      ::close(fd);
      if (unlink_after) ::unlink(path.c_str());
    }
  } cleanup{fd, path, unlink_after};
  size_t done = 0;
  while (done < bytes.size) {
    const ssize_t w = ::write(fd, bytes.data + done, bytes.size - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw IoError("cannot stage " + what + ": " + std::generic_category().message(errno));
    }
    done += static_cast<size_t>(w);
  }
  try {
    return load_index(path);
  } catch (const IoError& e) {
    throw FileFormatError(what + ": the embedded head index is invalid: " + e.what());
  }
}

}  // namespace

struct SpannIndex::Context {
  PageBuffer pages;
  std::vector<float> query;
  std::vector<float> head_d;
  std::vector<int64_t> head_i;
  std::vector<size_t> req_list;
  std::vector<size_t> req_at;
  IdSet seen;
  std::vector<Hit> heap;
  std::vector<const uint8_t*> codes;  // a list's new entries, scored in one batch
  std::vector<int64_t> code_ids;
  std::vector<float> code_d;
  size_t memory_usage() const {
    return sizeof(*this) + pages.size() + query.capacity() * 4 + head_d.capacity() * 4 + head_i.capacity() * 8 +
           (req_list.capacity() + req_at.capacity()) * sizeof(size_t) + seen.memory_usage() +
           heap.capacity() * sizeof(Hit) + codes.capacity() * sizeof(void*) + code_ids.capacity() * 8 +
           code_d.capacity() * 4;
  }
};

SpannIndex::SpannIndex(size_t dim, Metric metric, std::string posting_path, SpannOptions options)
    : dim_(dim), metric_(metric), posting_path_(std::move(posting_path)), options_(options) {
  const SpannOptions& o = options_;
  auto need = [](bool ok, const std::string& msg) {
    if (!ok) throw InvalidArgument(msg);
  };
  need(dim >= 1 && dim <= (1u << 20), "dim must be between 1 and 1048576, got " + std::to_string(dim));
  need(!posting_path_.empty(), "a SPANN index needs path= : the file its posting lists are written to");
  need(o.head_ratio >= 0 && o.head_ratio <= 1,
       "head_ratio must be in (0, 1] (or 0: automatic), got " + std::to_string(o.head_ratio));
  codec_id_ = posting_codec_id(o.codec);
  codec_ = make_codec(o.codec, dim, metric, o.seed);
  need(o.replicas >= 1 && o.replicas <= 64, "replicas must be between 1 and 64, got " + std::to_string(o.replicas));
  need(o.candidates >= 1 && o.candidates <= 4096, "candidates must be between 1 and 4096, got " + std::to_string(o.candidates));
  need(std::isfinite(o.rng_factor) && o.rng_factor > 0, "rng_factor must be positive");
  need(o.posting_limit <= (size_t(1) << 31), "posting_limit is too large");
  need(o.branch >= 2 && o.branch <= 1024, "branch must be between 2 and 1024, got " + std::to_string(o.branch));
  need(o.kmeans_iters >= 1 && o.kmeans_iters <= 1000, "kmeans_iters must be between 1 and 1000");
  need(o.head_M >= 2 && o.head_M <= 2048, "head_M must be between 2 and 2048");
  need(o.head_ef_construction >= 1, "head_ef_construction must be at least 1");
  need(o.head_ef_search >= 1, "head_ef_search must be at least 1");
  need(o.nprobe >= 1, "nprobe must be at least 1");
  need(o.eps >= 0 && !std::isnan(o.eps), "eps must be >= 0 (inf turns pruning off)");
  need(o.io_threads <= 1024, "io_threads must be at most 1024");
  if (posting_path_.size() >= PATH_MAX) throw InvalidArgument("path is too long");
  posting_path_ = absolute_path(posting_path_);
  pool_ = std::make_unique<ThreadPool>(o.threads);
  io_ = std::make_unique<PreadPool>(o.io_threads);
}

SpannIndex::~SpannIndex() = default;

double auto_head_ratio(size_t dim, size_t head_M) {
  // Resident bytes per head: its vector, its level-0 links (2M of 4 bytes), the graph's
  // per-node overhead and upper levels (~96) and its directory record (24).
  const double vec = 4.0 * static_cast<double>(dim);
  const double per_head = vec + 8.0 * static_cast<double>(head_M) + 120.0;
  return std::clamp(0.065 * vec / per_head, 0.01, 0.05);
}

double SpannIndex::effective_head_ratio() const {
  return options_.head_ratio > 0 ? options_.head_ratio : auto_head_ratio(dim_, options_.head_M);
}

bool SpannIndex::built() const {
  std::shared_lock<std::shared_mutex> lock(rw_);
  return head_ != nullptr;
}

size_t SpannIndex::size() const {
  std::shared_lock<std::shared_mutex> lock(rw_);
  return count_;
}

size_t SpannIndex::heads() const {
  std::shared_lock<std::shared_mutex> lock(rw_);
  return head_ ? head_->size() : 0;
}

bool SpannIndex::direct_io() const {
  std::shared_lock<std::shared_mutex> lock(rw_);
  return postings_ ? postings_->direct_io() : options_.direct_io;
}

BuildStats SpannIndex::build_stats() const {
  std::shared_lock<std::shared_mutex> lock(rw_);
  return build_stats_;
}

IoStats SpannIndex::io_stats() const {
  return IoStats{stat_queries_.load(), stat_lists_.load(), stat_bytes_.load(), stat_entries_.load()};
}

void SpannIndex::reset_io_stats() {
  stat_queries_ = 0;
  stat_lists_ = 0;
  stat_bytes_ = 0;
  stat_entries_ = 0;
}

size_t SpannIndex::memory_usage() const {
  std::shared_lock<std::shared_mutex> lock(rw_);
  size_t bytes = sizeof(*this) + posting_path_.capacity();
  if (head_) bytes += head_->memory_usage();
  if (codec_) bytes += sizeof(*codec_) + codec_->parameter_bytes();
  if (postings_) bytes += postings_->memory_usage();
  std::lock_guard<std::mutex> g(contexts_mutex_);
  for (const auto& c : free_contexts_) bytes += c->memory_usage();
  return bytes;
}

void SpannIndex::open_postings(bool direct) { postings_ = std::make_unique<PostingFile>(posting_path_, direct); }

// ---- build ------------------------------------------------------------------------------

void SpannIndex::build(VectorSource& src, const int64_t* ids, const ProgressFn& progress) {
  std::unique_lock<std::shared_mutex> lock(rw_);
  if (head_)
    throw InvalidArgument("this SPANN index is already built: a SPANN index is built by one add() of all its vectors");
  const size_t n = src.rows();
  if (n == 0) throw InvalidArgument("no vectors to add");
  if (src.dim() != dim_)
    throw InvalidArgument("vectors have dimension " + std::to_string(src.dim()) + ", the index has " +
                          std::to_string(dim_));
  if (n >= (size_t(1) << 31)) throw InvalidArgument("a SPANN index holds at most 2^31 - 1 vectors");
  auto report = [&](const char* phase, size_t done, size_t total) {
    if (progress) progress(phase, done, total);
  };
  const SpannOptions& o = options_;
  const size_t R = o.replicas;
  const size_t row_bytes = dim_ * sizeof(float);
  const uint64_t budget = o.memory_budget ? o.memory_budget : physical_memory() / 2;
  MemoryTracker mem;

  if (ids) {
    std::vector<int64_t> sorted(ids, ids + n);
    mem.add(n * 8);
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end()) throw InvalidArgument("id " + std::to_string(*dup) + " appears more than once");
    mem.sub(n * 8);
  }

  const size_t heads_target =
      std::clamp<size_t>(static_cast<size_t>(std::llround(effective_head_ratio() * n)), 1, n);
  const size_t cand = std::min(o.candidates, heads_target);
  const size_t chunk_rows = std::clamp<size_t>(
      std::min<uint64_t>(uint64_t(64) << 20, budget / 16) / (row_bytes + cand * 12 + R * 8), 256, 65536);
  const size_t chunk = std::min(n, chunk_rows);
  // What the build holds besides the sample and the write region: the head vectors and their
  // graph (estimated), the per-replica assignment (list + distance/position) and, while the
  // lists are cut, their member table.
  const uint64_t head_bytes = heads_target * (row_bytes + 8 * o.head_M + 64) * 2;
  const uint64_t assign_bytes = uint64_t(n) * R * 16 + n;
  const uint64_t chunk_bytes = uint64_t(chunk) * (2 * row_bytes + cand * 12);
  const uint64_t fixed = head_bytes + assign_bytes + chunk_bytes;
  const uint64_t min_region = uint64_t(1) << 20;
  if (fixed + min_region > budget)
    throw InvalidArgument("memory_budget of " + bytes_text(budget) + " is too small for " + std::to_string(n) +
                          " vectors of dimension " + std::to_string(dim_) + ": the build needs at least " +
                          bytes_text(fixed + min_region));

  // 1. Sample.
  size_t s = n;
  if (o.sample) {
    s = std::min(o.sample, n);
  } else {
    const uint64_t room = (budget - fixed) * 6 / 10;
    s = static_cast<size_t>(std::min<uint64_t>(n, room / (row_bytes + 48)));
  }
  if (s < heads_target)
    throw InvalidArgument("memory_budget of " + bytes_text(budget) + " leaves room to cluster only " +
                          std::to_string(s) + " rows, fewer than the " + std::to_string(heads_target) +
                          " heads wanted (raise memory_budget or lower head_ratio)");
  std::vector<float> sample(s * dim_);
  mem.add(sample.size() * 4);
  {
    std::vector<float> buf(chunk * dim_);
    mem.add(buf.size() * 4);
    Rng rng(o.seed ^ 0xC0FFEEull);
    size_t taken = 0;
    for (size_t begin = 0; begin < n && taken < s; begin += chunk) {
      const size_t c = std::min(chunk, n - begin);
      if (s == n) {
        read_rows(src, begin, c, sample.data() + begin * dim_, dim_, metric_);
        taken += c;
      } else {
        read_rows(src, begin, c, buf.data(), dim_, metric_);
        for (size_t r = 0; r < c && taken < s; ++r) {
          // Selection sampling: exactly s rows, each equally likely.
          const size_t left = n - (begin + r);
          if (rng.below(left) < s - taken) {
            std::copy_n(buf.data() + r * dim_, dim_, sample.data() + taken * dim_);
            ++taken;
          }
        }
      }
      report("sample", std::min(n, begin + c), n);
    }
    mem.sub(buf.size() * 4);
  }

  // The codec learns what it needs (the LVQ mean) from the sample.
  auto codec = make_codec(o.codec, dim_, metric_, o.seed);
  if (codec->needs_training()) codec->train(sample.data(), s);

  // 2. Heads.
  HeadSelectionParams hp;
  hp.heads = heads_target;
  hp.branch = o.branch;
  hp.iters = o.kmeans_iters;
  hp.seed = o.seed;
  mem.add(uint64_t(s) * 32);
  const std::vector<uint32_t> head_rows =
      select_heads(sample.data(), s, dim_, hp, *pool_, [&](size_t d, size_t t) { report("heads", d, t); });
  mem.sub(uint64_t(s) * 32);
  const size_t H = head_rows.size();
  std::vector<float> head_vectors(H * dim_);
  for (size_t h = 0; h < H; ++h)
    std::copy_n(sample.data() + static_cast<size_t>(head_rows[h]) * dim_, dim_, head_vectors.data() + h * dim_);
  mem.add(head_vectors.size() * 4);
  mem.sub(sample.size() * 4);
  std::vector<float>().swap(sample);

  // 3. Head index.
  report("head index", 0, H);
  IndexOptions ho;
  ho.M = o.head_M;
  ho.ef_construction = o.head_ef_construction;
  ho.ef_search = o.head_ef_search;
  ho.seed = o.seed;
  ho.threads = o.threads;
  const Metric head_metric = metric_ == Metric::IP ? Metric::IP : Metric::L2;
  std::unique_ptr<VectorIndex> head = make_index("hnsw", dim_, head_metric, ho);
  head->add(head_vectors.data(), H, nullptr);
  mem.add(head->memory_usage());
  report("head index", H, H);

  // 4. Assignment with the RNG rule.
  const auto& kt = simd::kernels();
  auto head_distance = [&](uint32_t a, uint32_t b) -> float {
    const float* x = head_vectors.data() + static_cast<size_t>(a) * dim_;
    const float* y = head_vectors.data() + static_cast<size_t>(b) * dim_;
    return head_metric == Metric::L2 ? kt.l2sq(x, y, dim_) : 1.0f - kt.dot(x, y, dim_);
  };
  const size_t C = std::min(cand, H);
  std::vector<uint32_t> alist(n * R, kNone);
  std::vector<uint32_t> aval(n * R, 0);  // distance bits, later the position in the list
  mem.add(n * R * 8);
  {
    std::vector<float> buf(chunk * dim_);
    std::vector<float> cd(chunk * C);
    std::vector<int64_t> ci(chunk * C);
    mem.add(chunk * (row_bytes + C * 12));
    SearchParams sp;
    sp.ef = std::max(C, o.head_ef_search);
    for (size_t begin = 0; begin < n; begin += chunk) {
      const size_t c = std::min(chunk, n - begin);
      read_rows(src, begin, c, buf.data(), dim_, metric_);
      head->search(buf.data(), c, C, sp, cd.data(), ci.data());
      pool_->parallel_for(
          c,
          [&](size_t i, size_t) {
            const size_t v = begin + i;
            uint32_t* acc = alist.data() + v * R;
            uint32_t* val = aval.data() + v * R;
            size_t cnt = 0;
            for (size_t j = 0; j < C && cnt < R; ++j) {
              const int64_t h = ci[i * C + j];
              if (h < 0) break;
              const float dxh = cd[i * C + j];
              bool ok = true;
              for (size_t a = 0; a < cnt && ok; ++a)
                if (o.rng_factor * head_distance(static_cast<uint32_t>(h), acc[a]) < dxh) ok = false;
              if (!ok) continue;
              acc[cnt] = static_cast<uint32_t>(h);
              std::memcpy(&val[cnt], &dxh, 4);
              ++cnt;
            }
          },
          64);
      report("assign", begin + c, n);
    }
    mem.sub(chunk * (row_bytes + C * 12));
  }
  mem.sub(head_vectors.size() * 4);
  std::vector<float>().swap(head_vectors);

  // 5. Bound the list lengths; give every entry its position.
  std::vector<uint32_t> counts(H, 0);
  uint64_t total = 0;
  for (uint32_t h : alist)
    if (h != kNone) {
      ++counts[h];
      ++total;
    }
  const size_t limit = o.posting_limit
                           ? o.posting_limit
                           : std::max<size_t>(16, static_cast<size_t>(std::ceil(3.0 * total / std::max<size_t>(H, 1))));
  uint64_t dropped = 0;
  {
    std::vector<uint64_t> offsets(H + 1, 0);
    for (size_t h = 0; h < H; ++h) offsets[h + 1] = offsets[h] + counts[h];
    std::vector<uint64_t> members(total);
    std::vector<uint8_t> remaining(n, 0);
    mem.add(total * 8 + n + H * 8);
    {
      std::vector<uint64_t> fill(offsets.begin(), offsets.end() - 1);
      for (size_t slot = 0; slot < n * R; ++slot)
        if (alist[slot] != kNone) {
          members[fill[alist[slot]]++] = slot;
          ++remaining[slot / R];
        }
    }
    auto dist_of = [&](uint64_t slot) {
      float d;
      std::memcpy(&d, &aval[slot], 4);
      return d;
    };
    for (size_t h = 0; h < H; ++h) {
      if (counts[h] <= limit) continue;
      uint64_t* b = members.data() + offsets[h];
      uint64_t* e = members.data() + offsets[h + 1];
      std::sort(b, e, [&](uint64_t x, uint64_t y) {
        const float dx = dist_of(x), dy = dist_of(y);
        return dx < dy || (dx == dy && x < y);
      });
      for (uint64_t* p = b + limit; p < e; ++p) {
        const size_t v = *p / R;
        if (remaining[v] > 1) {  // never a vector's last list
          alist[*p] = kNone;
          --remaining[v];
          ++dropped;
        }
      }
    }
    for (size_t h = 0; h < H; ++h) {
      uint32_t pos = 0;
      for (uint64_t j = offsets[h]; j < offsets[h + 1]; ++j) {
        const uint64_t slot = members[j];
        if (alist[slot] == h) aval[slot] = pos++;
      }
      counts[h] = pos;
    }
    mem.sub(total * 8 + n + H * 8);
  }
  total -= dropped;

  // 6. Write the posting file, one region of it per pass over the data.
  const size_t E = posting_entry_bytes(codec_id_, dim_);
  const size_t CS = codec->code_size();
  const uint64_t data_offset = round_up_page(kPageSize + H * kDirectoryRecordBytes);
  uint64_t data_end = 0;
  std::vector<PostingList> lists = layout_lists(counts, E, data_offset, &data_end);
  PostingFileWriter writer(posting_path_);
  // 8% of the budget is left for what the tracker does not see (allocator slack, the head
  // graph's search scratch, thread stacks).
  const uint64_t usable = budget - budget / 12;
  const uint64_t room = usable > mem.now + chunk_bytes ? usable - mem.now - chunk_bytes : 0;
  uint64_t region = std::max<uint64_t>(min_region, room / kPageSize * kPageSize);
  region = std::min<uint64_t>(region, std::max<uint64_t>(data_end - data_offset, kPageSize));
  std::vector<size_t> by_offset;
  for (size_t h = 0; h < H; ++h)
    if (counts[h]) by_offset.push_back(h);
  std::sort(by_offset.begin(), by_offset.end(), [&](size_t a, size_t b) { return lists[a].offset < lists[b].offset; });
  std::vector<uint32_t> crc(H, 0);
  const uint64_t passes = (data_end - data_offset + region - 1) / region;
  {
    std::vector<uint8_t> out(region);
    std::vector<float> buf(chunk * dim_);
    std::vector<uint8_t> entry(chunk * E);  // [id | code | zero padding] of each row of a chunk
    mem.add(region + chunk * (row_bytes + E));
    uint64_t pass = 0;
    for (uint64_t r0 = data_offset; r0 < data_end; r0 += region, ++pass) {
      const uint64_t r1 = std::min(data_end, r0 + region);
      std::memset(out.data(), 0, r1 - r0);
      for (size_t begin = 0; begin < n; begin += chunk) {
        const size_t c = std::min(chunk, n - begin);
        read_rows(src, begin, c, buf.data(), dim_, metric_);
        pool_->parallel_for(
            c,
            [&](size_t i, size_t) {
              const size_t v = begin + i;
              size_t copies = 0;
              for (size_t r = 0; r < R; ++r) {
                const uint32_t h = alist[v * R + r];
                if (h == kNone) continue;
                const uint64_t off = lists[h].offset + uint64_t(aval[v * R + r]) * E;
                if (off < r1 && off + E > r0) ++copies;
              }
              if (copies == 0) return;
              const int64_t id = ids ? ids[v] : static_cast<int64_t>(v);
              uint8_t* ent = entry.data() + i * E;
              std::memcpy(ent, &id, 8);
              codec->encode(buf.data() + i * dim_, ent + 8);
              std::memset(ent + 8 + CS, 0, E - 8 - CS);
              for (size_t r = 0; r < R; ++r) {
                const uint32_t h = alist[v * R + r];
                if (h == kNone) continue;
                const uint64_t off = lists[h].offset + uint64_t(aval[v * R + r]) * E;
                if (off >= r1 || off + E <= r0) continue;
                // The entry, clipped to the region: bytes [lo, hi) of [id | vector].
                const uint64_t lo = std::max(off, r0) - off;
                const uint64_t hi = std::min(off + E, r1) - off;
                std::memcpy(out.data() + (off + lo - r0), ent + lo, hi - lo);
              }
            },
            256);
        report("write", pass * n + begin + c, passes * n);
      }
      for (size_t h : by_offset) {
        const uint64_t lo = lists[h].offset, hi = lo + uint64_t(counts[h]) * E;
        if (hi <= r0 || lo >= r1) continue;
        const uint64_t a = std::max(lo, r0), b = std::min(hi, r1);
        crc[h] = fast_crc32c(out.data() + (a - r0), b - a, crc[h]);
      }
      writer.write_at(r0, out.data(), r1 - r0);
    }
    mem.sub(region + chunk * (row_bytes + E));
  }
  for (size_t h = 0; h < H; ++h) lists[h].crc = crc[h];
  PostingHeader header;
  header.dim = static_cast<uint32_t>(dim_);
  header.metric = metric_;
  header.codec = codec_id_;
  header.entry_bytes = static_cast<uint32_t>(E);
  header.vector_count = n;
  header.entry_count = total;
  header.data_offset = data_offset;
  header.file_size = std::max(data_end, data_offset);
  header.build_id = splitmix64(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                               (o.seed * 0x9E3779B97F4A7C15ull) ^ static_cast<uint64_t>(::getpid()));
  writer.commit(header, lists);

  auto postings = std::make_unique<PostingFile>(posting_path_, o.direct_io);
  head_ = std::move(head);
  postings_ = std::move(postings);
  codec_ = std::move(codec);
  count_ = n;
  build_stats_.vectors = n;
  build_stats_.heads = H;
  build_stats_.entries = total;
  build_stats_.dropped_replicas = dropped;
  build_stats_.posting_limit = limit;
  build_stats_.sample = s;
  build_stats_.write_passes = passes;
  build_stats_.posting_file_bytes = header.file_size;
  build_stats_.peak_tracked_bytes = mem.peak;
#if defined(__GLIBC__)
  ::malloc_trim(0);  // the build's buffers are gone; return their pages
#endif
}

// ---- search -----------------------------------------------------------------------------

std::unique_ptr<SpannIndex::Context> SpannIndex::acquire_context() const {
  std::lock_guard<std::mutex> g(contexts_mutex_);
  if (free_contexts_.empty()) return std::make_unique<Context>();
  auto c = std::move(free_contexts_.back());
  free_contexts_.pop_back();
  return c;
}

void SpannIndex::release_context(std::unique_ptr<Context> ctx) const {
  std::lock_guard<std::mutex> g(contexts_mutex_);
  free_contexts_.push_back(std::move(ctx));
}

void SpannIndex::search(const float* queries, size_t nq, size_t k, size_t nprobe, double eps, float* distances,
                        int64_t* ids) const {
  if (k == 0) throw InvalidArgument("k must be at least 1");
  if (std::isnan(eps)) throw InvalidArgument("eps must be >= 0, got nan");
  if (nq == 0) return;
  for (size_t r = 0; r < nq; ++r)
    for (size_t c = 0; c < dim_; ++c)
      if (!std::isfinite(queries[r * dim_ + c]))
        throw InvalidArgument("query row " + std::to_string(r) + " has a NaN or infinite value at column " +
                              std::to_string(c));
  std::shared_lock<std::shared_mutex> lock(rw_);
  if (nprobe == 0) nprobe = options_.nprobe;
  if (eps < 0) eps = options_.eps;
  if (!head_) {
    std::fill(distances, distances + nq * k, std::numeric_limits<float>::infinity());
    std::fill(ids, ids + nq * k, int64_t{-1});
    return;
  }
  if (nq == 1) {
    auto ctx = acquire_context();
    search_one(queries, k, nprobe, eps, distances, ids, *ctx);
    release_context(std::move(ctx));
    return;
  }
  std::vector<std::unique_ptr<Context>> ctxs(pool_->size());
  for (auto& c : ctxs) c = acquire_context();
  struct Release {
    const SpannIndex* self;
    std::vector<std::unique_ptr<Context>>& ctxs;
    ~Release() {
      for (auto& c : ctxs) self->release_context(std::move(c));
    }
  } release{this, ctxs};
  pool_->parallel_for(nq, [&](size_t i, size_t w) {
    search_one(queries + i * dim_, k, nprobe, eps, distances + i * k, ids + i * k, *ctxs[w]);
  });
}

void SpannIndex::search_one(const float* q, size_t k, size_t nprobe, double eps, float* distances, int64_t* ids,
                            Context& ctx) const {
  if (metric_ == Metric::Cosine) {
    ctx.query.assign(q, q + dim_);
    normalize_in_place(ctx.query.data(), dim_);
    q = ctx.query.data();
  }
  const size_t H = head_->size();
  const size_t np = std::min(nprobe, H);
  ctx.head_d.resize(np);
  ctx.head_i.resize(np);
  SearchParams sp;
  sp.ef = std::max(np, options_.head_ef_search);
  head_->search(q, 1, np, sp, ctx.head_d.data(), ctx.head_i.data());

  const auto& lists = postings_->lists();
  const double d1 = ctx.head_d[0];
  const double bound = (d1 > 0 && std::isfinite(eps)) ? (1.0 + eps) * d1 : std::numeric_limits<double>::infinity();
  std::vector<ReadRequest> reqs;
  reqs.reserve(np);
  ctx.req_list.clear();
  ctx.req_at.clear();
  size_t bytes = 0, entries = 0;
  for (size_t j = 0; j < np; ++j) {
    const int64_t h = ctx.head_i[j];
    if (h < 0) break;
    if (ctx.head_d[j] > bound) break;  // ascending: the rest is farther
    const PostingList& l = lists[static_cast<size_t>(h)];
    if (l.count == 0) continue;
    ctx.req_list.push_back(static_cast<size_t>(h));
    ctx.req_at.push_back(bytes);
    bytes += static_cast<size_t>(l.pages) * kPageSize;
    entries += l.count;
  }
  uint8_t* buf = ctx.pages.reserve(std::max<size_t>(bytes, kPageSize));
  for (size_t r = 0; r < ctx.req_list.size(); ++r) {
    const PostingList& l = lists[ctx.req_list[r]];
    reqs.push_back(ReadRequest{postings_->fd(), buf + ctx.req_at[r], static_cast<size_t>(l.pages) * kPageSize,
                               l.first_page_offset()});
  }
  const size_t nreq = reqs.size();
  ctx.seen.reset(entries);
  ctx.heap.clear();
  const std::unique_ptr<QueryDistance> qd = codec_->prepare(q);
  const size_t E = postings_->header().entry_bytes;
  {
    ReadBatch batch;
    io_->submit(batch, std::move(reqs), "posting file " + postings_->path());
    for (long r; (r = batch.wait_next()) >= 0;) {
      const size_t list = ctx.req_list[static_cast<size_t>(r)];
      const PostingList& l = lists[list];
      const uint8_t* base = buf + ctx.req_at[static_cast<size_t>(r)] + l.offset_in_page();
      postings_->verify_list(list, base);
      ctx.codes.clear();
      ctx.code_ids.clear();
      for (uint32_t e = 0; e < l.count; ++e) {
        const uint8_t* p = base + static_cast<size_t>(e) * E;
        int64_t id;
        std::memcpy(&id, p, 8);
        if (!ctx.seen.insert(id)) continue;
        ctx.codes.push_back(p + 8);
        ctx.code_ids.push_back(id);
      }
      const size_t m = ctx.codes.size();
      if (m == 0) continue;
      ctx.code_d.resize(m);
      // Once k hits are held, entries farther than the k-th need no exact distance.
      if (ctx.heap.size() < k)
        qd->batch(ctx.codes.data(), m, ctx.code_d.data());
      else
        qd->batch_bounded(ctx.codes.data(), m, std::nextafter(ctx.heap.front().d, std::numeric_limits<float>::infinity()),
                          ctx.code_d.data());
      for (size_t e = 0; e < m; ++e) {
        const float d = ctx.code_d[e];
        const int64_t id = ctx.code_ids[e];
        if (ctx.heap.size() < k) {
          ctx.heap.push_back(Hit{d, id});
          std::push_heap(ctx.heap.begin(), ctx.heap.end(), hit_less);
        } else if (hit_less(Hit{d, id}, ctx.heap.front())) {
          std::pop_heap(ctx.heap.begin(), ctx.heap.end(), hit_less);
          ctx.heap.back() = Hit{d, id};
          std::push_heap(ctx.heap.begin(), ctx.heap.end(), hit_less);
        }
      }
    }
  }
  std::sort_heap(ctx.heap.begin(), ctx.heap.end(), hit_less);
  for (size_t j = 0; j < k; ++j) {
    if (j < ctx.heap.size()) {
      distances[j] = ctx.heap[j].d;
      ids[j] = ctx.heap[j].id;
    } else {
      distances[j] = std::numeric_limits<float>::infinity();
      ids[j] = -1;
    }
  }
  stat_queries_.fetch_add(1, std::memory_order_relaxed);
  stat_lists_.fetch_add(nreq, std::memory_order_relaxed);
  stat_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  stat_entries_.fetch_add(entries, std::memory_order_relaxed);
}

// ---- files ------------------------------------------------------------------------------

void SpannIndex::save(const std::string& path) const {
  std::shared_lock<std::shared_mutex> lock(rw_);
  if (!head_) throw InvalidArgument("nothing to save: the SPANN index is empty (call add first)");
  if (absolute_path(path) == posting_path_ || same_file(path, posting_path_))
    throw InvalidArgument("cannot save the index over its own posting file " + posting_path_);
  // The head graph is saved by its own code into a temporary file beside the target and
  // embedded as one section.
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".heads-tmp-%ld-%llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count()));
  const std::string tmp = path + suffix;
  std::vector<uint8_t> head_bytes;
  try {
    head_->save(tmp);
    head_bytes = read_whole_file(tmp);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  ::unlink(tmp.c_str());

  io::ByteWriter m;
  const SpannOptions& o = options_;
  m.u32(kMetaVersion);
  m.u64(dim_);
  m.u32(static_cast<uint32_t>(metric_));
  m.u64(count_);
  m.u64(head_->size());
  m.f64(o.head_ratio);
  m.u64(o.replicas);
  m.u64(o.candidates);
  m.f64(o.rng_factor);
  m.u64(o.posting_limit);
  m.u64(o.branch);
  m.u64(o.kmeans_iters);
  m.u64(o.head_M);
  m.u64(o.head_ef_construction);
  m.u64(o.head_ef_search);
  m.u64(o.nprobe);
  m.f64(o.eps);
  m.u8(o.direct_io ? 1 : 0);
  m.u64(o.io_threads);
  m.u64(o.threads);
  m.u64(o.seed);
  m.u64(o.memory_budget);
  m.u64(o.sample);
  m.str(o.codec);
  const BuildStats& b = build_stats_;
  for (uint64_t v : {b.vectors, b.heads, b.entries, b.dropped_replicas, b.posting_limit, b.sample, b.write_passes,
                     b.posting_file_bytes, b.peak_tracked_bytes})
    m.u64(v);
  m.str(posting_path_);
  m.u64(postings_->header().build_id);
  m.u32(postings_->header_crc());
  io::ByteWriter cp;
  codec_->save_parameters(cp);
  io::IndexFileWriter out("spann");
  out.add_section(kMetaSection, m.take());
  out.add_section(kCodecSection, cp.take());
  out.add_section_view(kHeadSection, head_bytes.data(), head_bytes.size());
  out.write_atomically(path);
}

std::unique_ptr<SpannIndex> SpannIndex::load_impl(const std::string& path, const std::string& posting_override,
                                                  int direct_io) {
  io::IndexFileReader in = io::IndexFileReader::open(path);
  if (in.kind() != "spann")
    throw FileFormatError(path + " holds a '" + in.kind() + "' index, not a SPANN index");
  io::ByteReader m = in.reader(kMetaSection);
  const uint32_t version = m.u32();
  if (version != 1 && version != kMetaVersion)
    throw FileFormatError(path + ": SPANN metadata version " + std::to_string(version) + " is not supported");
  const uint64_t dim = m.u64();
  const uint32_t metric = m.u32();
  const uint64_t count = m.u64();
  const uint64_t heads = m.u64();
  SpannOptions o;
  o.head_ratio = m.f64();
  o.replicas = m.u64();
  o.candidates = m.u64();
  o.rng_factor = m.f64();
  o.posting_limit = m.u64();
  o.branch = m.u64();
  o.kmeans_iters = m.u64();
  o.head_M = m.u64();
  o.head_ef_construction = m.u64();
  o.head_ef_search = m.u64();
  o.nprobe = m.u64();
  o.eps = m.f64();
  o.direct_io = m.u8() != 0;
  o.io_threads = m.u64();
  o.threads = m.u64();
  o.seed = m.u64();
  o.memory_budget = m.u64();
  o.sample = m.u64();
  o.codec = version >= 2 ? m.str() : "f32";
  if (posting_codec_name(0) != o.codec && posting_codec_name(1) != o.codec && posting_codec_name(2) != o.codec)
    throw FileFormatError(path + ": unknown posting codec '" + o.codec + "'");
  BuildStats b;
  for (uint64_t* v : {&b.vectors, &b.heads, &b.entries, &b.dropped_replicas, &b.posting_limit, &b.sample,
                      &b.write_passes, &b.posting_file_bytes, &b.peak_tracked_bytes})
    *v = m.u64();
  const std::string recorded = m.str();
  const uint64_t build_id = m.u64();
  const uint32_t posting_crc = m.u32();
  m.expect_end();
  if (metric > static_cast<uint32_t>(Metric::Cosine)) throw FileFormatError(path + ": unknown metric code");
  if (direct_io >= 0) o.direct_io = direct_io != 0;

  std::string posting = posting_override;
  if (posting.empty()) {
    posting = recorded;
    if (::access(posting.c_str(), F_OK) != 0) {
      const std::string beside = dir_name(absolute_path(path)) + "/" + base_name(recorded);
      if (::access(beside.c_str(), F_OK) == 0) posting = beside;
    }
  }
  std::unique_ptr<SpannIndex> index;
  try {
    index = std::make_unique<SpannIndex>(dim, static_cast<Metric>(metric), posting, o);
  } catch (const InvalidArgument& e) {
    throw FileFormatError(path + ": " + e.what());
  }
  if (version >= 2) {
    if (!in.has(kCodecSection)) throw FileFormatError(path + ": the codec parameters are missing");
    io::ByteReader cr = in.reader(kCodecSection);
    index->codec_ = load_codec(o.codec, dim, static_cast<Metric>(metric), cr);
    cr.expect_end();
  }
  std::unique_ptr<VectorIndex> head = load_index_from_bytes(in.section(kHeadSection), path);
  if (head->size() != heads || head->dim() != dim)
    throw FileFormatError(path + ": the head index does not match the metadata; the file is corrupted");
  index->open_postings(o.direct_io);
  const PostingFile& pf = *index->postings_;
  if (pf.header().build_id != build_id || pf.header_crc() != posting_crc)
    throw FileFormatError("posting file " + pf.path() + " does not belong to the index " + path +
                          " (it was rebuilt or replaced)");
  if (pf.header().list_count != heads || pf.header().vector_count != count || pf.header().dim != dim ||
      pf.header().codec != index->codec_id_)
    throw FileFormatError("posting file " + pf.path() + " does not match the index " + path);
  index->head_ = std::move(head);
  index->count_ = count;
  index->build_stats_ = b;
  return index;
}

std::unique_ptr<SpannIndex> SpannIndex::load(const std::string& path, const std::string& posting_override,
                                             int direct_io) {
  std::unique_ptr<SpannIndex> index = load_impl(path, posting_override, direct_io);
#if defined(__GLIBC__)
  // Loading staged the file and the head graph in large temporary buffers, now freed; give
  // their pages back so that what stays resident is the index itself.
  ::malloc_trim(0);
#endif
  return index;
}

}  // namespace vidx::spann
