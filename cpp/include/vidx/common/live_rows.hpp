// The filter of rows that are live in an id map: what an unfiltered query gets while some
// slots are hidden (removed and not yet reused, or added and not yet published).
#pragma once
#include <cstdint>
#include <vector>

#include "vidx/common/id_filter.hpp"
#include "vidx/common/id_map.hpp"

namespace vidx {

class LiveRows final : public RowFilter {
 public:
  explicit LiveRows(const IdMap& ids) : ids_(ids) {}
  bool allows_slot(uint32_t slot) const override { return ids_.slot_is_live(slot); }
  bool allows_label(int64_t id) const override { return id >= 0; }
  size_t allowed_count() const override { return ids_.size(); }
  bool list_slots(std::vector<uint32_t>&) const override { return false; }
  bool hides_removed_only() const override { return true; }

 private:
  const IdMap& ids_;
};

}  // namespace vidx
