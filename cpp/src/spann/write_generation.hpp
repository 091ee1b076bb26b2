// The write generation of a posting file, kept beside it in "<posting file>.gen".
//
// Every saved state of a living SPANN index (a save or to_bytes after writes) gets the next
// generation, recorded in its index file and, once that file is in place, in the stamp. A
// state older than the stamp must not write: the newer state's lists sit in pages the older one
// believes free (loading an older save to roll back, then adding, would overwrite them).
// The stamp is written after the index file, so a crash between the two leaves a stamp older
// than the newest save, which may still write; never the reverse.
#pragma once
#include <cstdint>
#include <string>

namespace vidx::spann {

// The stamp's generation; 0 where there is none or it belongs to another build of the path
// (a rebuild starts again at 0). IoError for an unreadable or damaged stamp.
uint64_t read_write_generation(const std::string& posting_path, uint64_t build_id);

// Replaces the stamp atomically (temporary file, fsync, rename).
void write_write_generation(const std::string& posting_path, uint64_t build_id, uint64_t generation);

}  // namespace vidx::spann
