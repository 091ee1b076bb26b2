// Forward declarations of the serialisation classes, for headers that only name them in
// signatures (like <iosfwd>): byte_stream.hpp and index_file.hpp define them.
#pragma once

namespace vidx::io {

class ByteWriter;
class ByteReader;
class IndexFileWriter;
class IndexFileReader;

}  // namespace vidx::io
