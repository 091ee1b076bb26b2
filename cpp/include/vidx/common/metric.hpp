// Distance conventions shared by every index: smaller is always closer.
//   L2     -> squared Euclidean distance
//   IP     -> 1 - <q, x>
//   Cosine -> vectors normalised when added, queries when searched; then 1 - <q, x>
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace vidx {

enum class Metric : uint32_t { L2 = 0, IP = 1, Cosine = 2 };

Metric parse_metric(const std::string& name);  // throws InvalidArgument for unknown names
const char* metric_name(Metric m);

// Cosine is inner product on normalised vectors: structures and codecs only see L2 or IP.
inline bool metric_is_inner_product(Metric m) { return m != Metric::L2; }

// sum of v[i]^2 in double, in a fixed order (the same on every machine).
double squared_norm(const float* v, size_t dim);

// Scales v to unit length in place and returns the length it had; a zero vector is left as it
// is (0 returned).
double normalize_in_place(float* v, size_t dim);

// The largest |value| an l2 or ip vector may hold: sqrt(FLT_MAX / (4 dim)), so that no
// squared distance or inner product of two such vectors overflows float32.
float max_abs_value(size_t dim);

// Throws InvalidArgument (naming `what`, the row and the column) for NaN or infinite values,
// for l2/ip values beyond max_abs_value(dim) or beyond `codec_bound` (what the codec called
// `codec` stores faithfully: its registry value_bound), and for zero vectors under cosine. Rows are
// named from `first_row` on. keeps_lengths (rows an index stores): cosine rows whose length
// float32 cannot hold are refused too (the index keeps each row's length, see RowNorms).
// row_scale: what the index multiplies rows by before it stores them (RowScale); the bounds
// apply to the products, and the messages say so.
void check_vectors(Metric metric, const float* x, size_t n, size_t dim, const char* what,
                   float codec_bound = std::numeric_limits<float>::infinity(), const std::string& codec = "",
                   size_t first_row = 0, bool keeps_lengths = false, float row_scale = 1.f);

}  // namespace vidx
