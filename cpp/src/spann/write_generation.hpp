// The write generation of a posting file.
//
// Every saved state of a living SPANN index (a save or to_bytes after writes) gets the next
// generation, recorded in its index file and, once that file is in place, stamped where the
// posting file keeps it. A state older than the stamp must not write: the newer state's lists
// sit in pages the older one believes free (loading an older save to roll back, then adding,
// would overwrite them).
// The stamp is written after the index file, so a crash between the two leaves a stamp older
// than the newest save, which may still write; never the reverse.
// Posting files of format 3 keep the stamp inside (posting_store.hpp), so it travels with every
// copy of the file; those of format 2 (built before it) keep it beside, in "<posting file>.gen".
#pragma once
#include <cstdint>

#include "vidx/io/positional_io.hpp"
#include "vidx/io/posting_store.hpp"

namespace vidx::spann {

// The stamp's generation; 0 where there is none yet or, beside a format 2 file, where it belongs
// to another build of the path (a rebuild starts again at 0). IoError for an unreadable stamp or
// a damaged one beside the file.
uint64_t read_write_generation(const io::PostingReader& postings);

// Stamps `generation` durably: in place through `writer` (the posting file opened for writing)
// for format 3, or by replacing the stamp beside a format 2 file atomically (temporary file,
// fsync, rename).
void write_write_generation(const io::PostingReader& postings, io::File& writer, uint64_t generation);

}  // namespace vidx::spann
