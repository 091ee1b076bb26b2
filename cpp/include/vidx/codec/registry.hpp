// The codec registry: every codec vidx knows, by name, and how to build it. It is the only list
// of codec names in the tree: make_codec/load_codec look names up here, every structure (flat,
// HNSW, SPANN postings) builds its codecs through them, and Python asks codec_names() instead
// of keeping its own list.
//
// Adding a codec: its .hpp/.cpp, its kernels, and one line in kCodecs (registry.cpp).
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "vidx/codec/codec.hpp"

namespace vidx {

struct CodecFactory {
  // What users pass as quant= and what Codec::name() returns for the codecs it makes.
  const char* name;
  // Other spellings of the same codec ("none" for "f32"); empty string when there is none.
  const char* alias;
  // One line for documentation and error messages.
  const char* summary;
  // Builds the codec for dim and metric (L2 or IP: cosine reaches codecs as IP on unit vectors).
  // seed: where the codec draws something at random (a rotation).
  std::unique_ptr<Codec> (*make)(size_t dim, Metric metric, uint64_t seed);
  // The largest |value| the codec stores faithfully (l2 and ip; cosine stores unit vectors):
  // add() refuses larger ones, naming the codec. Infinite where only max_abs_value applies.
  float value_bound = std::numeric_limits<float>::infinity();
  // Whether it loses short values' precision (float16's subnormals): an "l2" index of its codes
  // scales short rows up, as every "ip" index does (RowScale).
  bool loses_short_values = false;
};

// Every codec, in the order documentation lists them.
const std::vector<CodecFactory>& codec_registry();

// The codecs' names; with include_aliases, their other spellings first ("none", then "f32", ...).
std::vector<std::string> codec_names(bool include_aliases = false);

// The registered codec called `name` (or one of its aliases); InvalidArgument naming every
// choice when there is none.
const CodecFactory& find_codec(const std::string& name);

// What add() refuses of vectors for an index storing them with codec `quant`: check_vectors
// with that codec's value bound and, where the index keeps each row's length (keeps_lengths:
// cosine flat and HNSW), cosine lengths float32 cannot hold (rows named from first_row on);
// row_scale: what the index multiplies rows by (RowScale).
void check_vectors_for(const std::string& quant, Metric metric, const float* x, size_t n, size_t dim,
                       size_t first_row = 0, bool keeps_lengths = false, float row_scale = 1.f);

}  // namespace vidx
