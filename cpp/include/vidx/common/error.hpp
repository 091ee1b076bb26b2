// Typed errors of the vidx core. The Python bindings map each to a Python exception
// (InvalidArgument -> ValueError, TypeMismatch -> TypeError, IoError -> OSError,
// FileNotFound -> FileNotFoundError, FileFormatError -> OSError,
// ResourceError -> OSError), so C++ never aborts the interpreter.
#pragma once
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace vidx {

// A caller passed a value that is out of range or inconsistent (wrong dimension, k <= 0, NaN...).
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A caller passed data of the wrong kind (non-numeric array, unknown type).
class TypeMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The operating system refused a file operation (missing file, permission, disk full).
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The file to read does not exist.
class FileNotFound : public IoError {
 public:
  using IoError::IoError;
};

// The system refused a resource the call needs (a thread); an OSError to Python, like IoError.
class ResourceError : public IoError {
 public:
  using IoError::IoError;
};

// A file exists but is not a valid vidx file: foreign, truncated, corrupted, or too new.
class FileFormatError : public IoError {
 public:
  using IoError::IoError;
};

// A number for a message, as printf's %g writes it with `digits` significant digits
// (std::to_string prints 1e-20 as "0.000000").
inline std::string value_text(double value, int digits = 6) {
  char text[40];
  std::snprintf(text, sizeof text, "%.*g", digits, value);
  return text;
}

// InvalidArgument naming `what` when a caller's pointer to n > 0 items is null.
inline void require_data(const void* data, size_t n, const char* what) {
  if (data == nullptr && n > 0)
    throw InvalidArgument(std::string(what) + " is a null pointer for " + std::to_string(n) + " items");
}
// InvalidArgument naming `what` when a path is empty or holds a NUL byte (the system would read
// the name only up to it: "out/a\0.b" would write "out/a").
inline void require_path(const std::string& path, const char* what) {
  if (path.empty()) throw InvalidArgument(std::string(what) + " is empty");
  const size_t nul = path.find('\0');
  if (nul != std::string::npos)
    throw InvalidArgument(std::string(what) + " contains a NUL byte at position " + std::to_string(nul));
}
// The same for `rows` rows of `per_row` items, refusing a count whose product does not fit in
// size_t (it would wrap, and a null pointer pass as one for few items).
inline void require_data(const void* data, size_t rows, size_t per_row, const char* what) {
  if (per_row != 0 && rows > static_cast<size_t>(-1) / per_row)
    throw InvalidArgument(std::string(what) + ": " + std::to_string(rows) + " rows of " + std::to_string(per_row) +
                          " items is more than memory can address");
  require_data(data, rows * per_row, what);
}

}  // namespace vidx
