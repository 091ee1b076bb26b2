// When an index's codec learns again from the rows it holds.
//
// Codecs that learn (LVQ and the sign codes centre by the mean of their training rows, f32_pca
// rotates by their principal components, learnt from 1,000 rows or more) learn from an index's
// first add. An index that starts from a few rows, or from one topic of a corpus that arrives in
// order, would keep a centre far from its data for good. Recall@10 on glove6b-50's first 50,000
// rows (cosine, 1,000 test queries; session 42's helper), trained on all rows / after a first add
// of one row / after a first add of 1,000 rows of one k-means cluster: flat binary 0.5055 / 0.2945
// / 0.3442, rabitq 0.7974 / 0.5562 / 0.6289, lvq4 0.8599 / 0.8024 / 0.8256.
//
// So an index whose codec learnt from fewer than kSettledRows rows learns again, before an add,
// once that add brings it to kGrowth times as many rows (kSignCodeGrowth for sign codes): from up
// to kSettledRows rows spread over what it holds (decoded; kept float32 vectors where it keeps
// them) and the add's rows, after which it encodes every stored row again from that vector (where
// it pays: kMinErrorRatio and the tests after it). The schedule is geometric, so the rows encoded
// again stay within a few times what the index holds, and a row is encoded again only a few times
// on the way to kSettledRows (one of a 1-row first add: at most six times at kGrowth, sixteen at
// kSignCodeGrowth, where each is taken only if it pays). Flat and HNSW sign codes do not settle
// there (kSettledRows's comment says why): they learn again at every doubling until
// kKeepsLearningRows, so a row is encoded again about once more a doubling. One add of everything
// learns from all of it, as before. Measured on glove and wordnet-minilm:
// benchmarks/results/relearning, graph.md sections 50 and 57.
//
// It runs only when no other write is in flight (the base's add_checked): beside concurrent
// writers a later add relearns. Searches go on while it learns and encodes every stored row into
// copies, and wait only while the copies are swapped in.
//
// A loaded index takes its codec as learnt when it held the rows the file holds (files do not
// say how many rows the codec learnt from): it relearns once it grows kGrowth (or
// kSignCodeGrowth) times past them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/options.hpp"

namespace vidx {
namespace relearning {

// At 8, an index that starts from one row relearns at 8, 64, ..., 32,768 rows, and settles at
// 262,144 (learning from 65,536 of them).
constexpr size_t kGrowth = 8;
// Sign codes (one bit a dimension: binary, binary_rot, rabitq) learn again at every doubling: their
// codes are the sides of the centre each value lies on, so a centre learnt from the head of rows
// that arrive in order costs them most (glove's first 50,000 rows in natural order, flat, adds of
// 1,000 / 10,000, recall@10: rabitq 0.8433 / 0.8470 at 8x, 0.8790 / 0.8903 at every doubling, one
// shuffled add 0.8927; binary 0.6117 / 0.6063 -> 0.6283 / 0.6200, against 0.6290), and they encode
// stored rows again from their precise re-rank levels. Codes of more bits keep kGrowth: LVQ scales
// each vector, so its centre matters less, and each relearn rounds every stored row a second time
// (lvq4 at every doubling 0.8717 / 0.8777 -> 0.8590 / 0.8700). graph.md section 50.
constexpr size_t kSignCodeGrowth = 2;
// The rows a settled codec has learnt from: LVQ's mean and the sign codes' centre from 65,536 rows
// are within a fraction of a quantisation step of the whole set's, when those rows are a fair
// sample of it. Rows that arrive in order are not: glove's 390,000 rows in natural order (the words
// by frequency) in adds of 10,000 settle at 80,000 rows, and every later row is encoded by the
// centre of the first fifth. So flat and HNSW sign codes (Record::keeps_learning) settle later:
// they go on learning at every doubling of the rows the index held when they last learnt (up to
// kKeepsLearningRows), from kSettledRows rows spread over all it holds. Flat, recall@10 on 1,000
// spread queries (graph.md section 57): rabitq 0.6138 -> 0.6414 (one shuffled add 0.6389), binary
// 0.4041 -> 0.4079 (0.4154). LVQ settles as before: encoding its stored rows again rounds them a
// second time, which costs more than the centre gains (lvq4 0.8303 -> 0.8001 at every doubling past
// settling, 0.8122 at every 4x; lvq8 0.9862 -> 0.9856; one shuffled add 0.8622 / 0.9891).
constexpr size_t kSettledRows = 65536;
// Sign codes that keep learning do so until the index held this many rows when they last learnt.
// Each relearning encodes every stored row again while other writes and get() wait for it
// (searches go on): the last one encodes fewer than 2 x 262,144 rows, as LVQ's last encodes fewer
// than kGrowth x kSettledRows (a one-row add that relearns at 380,000 glove rows took 3.2 s on a
// shared 2-core host, against 1 ms for one that does not).
constexpr size_t kKeepsLearningRows = 262144;
// A codec whose layout this build cannot learn again never does.
constexpr size_t kNever = ~size_t{0};

// Sign codes: one bit a dimension in what a walk reads (binary, binary_rot, rabitq).
inline bool sign_codes(const Codec& codec) { return codec.walk_bits() <= 1; }

// Whether a codec learnt when the index held `learnt_from` rows learns again before an add that
// brings the index to `rows_after` rows, until it has learnt at `settled` rows or more.
inline bool due(size_t learnt_from, size_t rows_after, size_t growth, size_t settled) {
  return learnt_from < settled && rows_after / growth >= (learnt_from == 0 ? 1 : learnt_from);
}

// What a structure knows of its codec's learning: whether the codec learns from rows at all
// (make_codec's codec needs training), the rows the index held when it last learnt (a loaded
// index: the rows its file holds), and whether sign codes go on learning to kKeepsLearningRows.
struct Record {
  bool learns = false;
  bool keeps_learning = false;
  size_t learnt_from = 0;
  // Whether `codec` (trained) learns again before an add that brings the index to rows_after rows.
  bool due_before(const Codec& codec, size_t rows_after) const {
    if (!learns || codec.needs_training()) return false;
    if (!sign_codes(codec)) return due(learnt_from, rows_after, kGrowth, kSettledRows);
    return due(learnt_from, rows_after, kSignCodeGrowth, keeps_learning ? kKeepsLearningRows : kSettledRows);
  }
};

// Writes the vector stored in `slot` as float32 into out.
using SlotVector = std::function<void(uint32_t slot, float* out)>;

// Encoding a stored row again from its decoded vector adds a second rounding to its first (LVQ-4's
// recall after adds of 1,000 shuffled rows fell 0.0031 from it), so where that is not lossless
// the learnt codec replaces the index's only when it encodes the add's rows with at most this
// share of the squared error the index's codec makes of them: a first add that missed the centre
// makes far more (glove, a 1-row first add: the learnt codec's share 0.53-0.54 for every codec;
// 1,000 rows of one cluster: 0.64-0.65; the first 8,000 rows sorted by cluster: 0.93-0.94), a fair
// sample about as much (1,000 shuffled rows: 1.00).
constexpr double kMinErrorRatio = 0.95;
// ... or whose distances are this much nearer the exact ones (relearning.cpp, distance_errors:
// a centre far from the rows can make an L2 distance coarse where every row reconstructs as well).
constexpr double kMinDistanceErrorRatio = 0.5;
// ... or, for sign codes, whose walks find this much more of each row's 10 nearest rows among
// their best 20 (relearning.cpp, walk_overlap; 16 rows x 10 neighbours: steps of 0.006).
constexpr double kMinWalkOverlapGain = 0.03;

struct Learnt {
  std::unique_ptr<Codec> codec;  // null: the index keeps the codec it has
  size_t rows = 0;               // the rows the index held (the add's included), or kNever
};

// A codec made as the index's options make it, trained on up to kSettledRows rows taken at even
// steps (no draw: the same rows for every thread count) from the stored rows of `live` (slots,
// read through vector_of) and the add's x[0..n-1]. keeps_vectors: vector_of reads kept float32
// vectors, so the index encodes its rows again from exact vectors (as it does when its codes
// decode exactly) and takes the learnt codec whatever its error. The codec is null where the index
// keeps its own: the learnt one encodes the add's rows little better (its rows then count as
// learnt from), or would lay its codes out otherwise than `current`'s, as a loaded file's older
// layout may (then it never asks again).
Learnt learn_again(const IndexOptions& options, size_t dim, Metric metric, const Codec& current, bool keeps_vectors,
                   const std::vector<uint32_t>& live, const SlotVector& vector_of, const float* x, size_t n);

}  // namespace relearning
}  // namespace vidx
