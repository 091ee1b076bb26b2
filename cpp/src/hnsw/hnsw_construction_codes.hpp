// Compact codes that a bulk build of a float32 graph walks instead of the float32 vectors
// (private to the hnsw sources).
//
// Most of an HNSW build is its construction searches (beam width ef_construction), and most
// of their time is memory traffic: each distance reads a whole float32 vector from wherever
// it lies. LVQ-8 codes are a quarter of the bytes, so those searches walk the graph on them.
// Everything that decides the graph stays exact: the beam each search leaves is scored again
// in float32 before the neighbour heuristic runs, and reverse-link pruning compares float32
// vectors. The codes live only for the add() call that made them.
#pragma once
#include <cstdint>
#include <memory>

#include "vidx/codec/codec.hpp"
#include "vidx/common/aligned_buffer.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

struct HnswIndex::ConstructionCodes {
  std::unique_ptr<Codec> codec;
  AlignedBuffer codes;  // by slot, `stride` bytes apart
  size_t stride = 0;

  const uint8_t* of(uint32_t slot) const { return codes.data() + static_cast<size_t>(slot) * stride; }
  uint8_t* of(uint32_t slot) { return codes.data() + static_cast<size_t>(slot) * stride; }
};

}  // namespace vidx
