#include "vidx/options.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include "vidx/common/error.hpp"
#include "vidx/io/byte_stream.hpp"

namespace vidx {
namespace {

std::string number_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string rule_text(const OptionLimits& l) {
  if (l.rule) return l.rule;
  if (std::isinf(l.hi)) return "must be at least " + number_text(l.lo);
  return "must be between " + number_text(l.lo) + " and " + number_text(l.hi);
}

bool within(double v, const OptionLimits& l) {
  if (v == 0 && l.zero_ok) return true;
  if (std::isnan(v)) return false;
  const bool above = l.lo_open ? v > l.lo : v >= l.lo;
  return above && v <= l.hi;
}

struct Validator {
  // given: the value as the caller wrote it (a count in full: 2^63 as a double read 9.2233720368547758e+18).
  void check(const char* name, double v, const OptionLimits& l, const std::string& given) {
    if (!within(v, l)) throw InvalidArgument(std::string(name) + " " + rule_text(l) + ", got " + given);
  }
  void check(const char* name, double v, const OptionLimits& l) { check(name, v, l, number_text(v)); }
  void count(const char* name, const size_t& v, unsigned, const OptionLimits& l) {
    check(name, double(v), l, std::to_string(v));
  }
  void u64(const char*, const uint64_t&, unsigned, const OptionLimits&) {}
  void real(const char* name, const double& v, unsigned, const OptionLimits& l) { check(name, v, l); }
  void flag(const char*, const bool&, unsigned) {}
  void text(const char*, const std::string&, unsigned) {}
};

enum : uint8_t { kCount = 1, kU64 = 2, kReal = 3, kFlag = 4, kText = 5 };

struct Writer {
  io::ByteWriter& out;
  uint32_t fields = 0;
  void head(const char* name, uint8_t type) {
    out.str(name);
    out.u8(type);
    ++fields;
  }
  void count(const char* name, const size_t& v, unsigned, const OptionLimits&) { head(name, kCount), out.u64(v); }
  void u64(const char* name, const uint64_t& v, unsigned, const OptionLimits&) { head(name, kU64), out.u64(v); }
  void real(const char* name, const double& v, unsigned, const OptionLimits&) { head(name, kReal), out.f64(v); }
  void flag(const char* name, const bool& v, unsigned) { head(name, kFlag), out.u8(v ? 1 : 0); }
  void text(const char* name, const std::string& v, unsigned) { head(name, kText), out.str(v); }
};

// Reads one named value into the field of that name.
struct Reader {
  const std::string& name;
  uint8_t type;
  io::ByteReader& in;
  bool found = false;
  bool match(const char* n, uint8_t t) {
    if (found || name != n) return false;
    if (type != t) throw FileFormatError(in.what() + ": option " + name + " has the wrong type");
    return found = true;
  }
  void count(const char* n, size_t& v, unsigned, const OptionLimits&) {
    if (match(n, kCount)) v = static_cast<size_t>(in.u64());
  }
  void u64(const char* n, uint64_t& v, unsigned, const OptionLimits&) {
    if (match(n, kU64)) v = in.u64();
  }
  void real(const char* n, double& v, unsigned, const OptionLimits&) {
    if (match(n, kReal)) v = in.f64();
  }
  void flag(const char* n, bool& v, unsigned) {
    if (match(n, kFlag)) v = in.u8() != 0;
  }
  void text(const char* n, std::string& v, unsigned) {
    if (match(n, kText)) v = in.str();
  }
};

// The names of the options whose scope meets `scope` (every option for ~0u).
struct Names {
  unsigned scope = ~0u;
  std::vector<std::string> out;
  void add(const char* n, unsigned applies) {
    if (applies & scope) out.push_back(n);
  }
  void count(const char* n, const size_t&, unsigned a, const OptionLimits&) { add(n, a); }
  void u64(const char* n, const uint64_t&, unsigned a, const OptionLimits&) { add(n, a); }
  void real(const char* n, const double&, unsigned a, const OptionLimits&) { add(n, a); }
  void flag(const char* n, const bool&, unsigned a) { add(n, a); }
  void text(const char* n, const std::string&, unsigned a) { add(n, a); }
};

}  // namespace

unsigned option_scope_of(const std::string& kind) {
  if (kind == "hnsw" || kind == "flat") return kScopeMemory;
  if (kind == "spann") return kScopeSpann;
  return 0;
}

std::vector<std::string> option_names() {
  Names names;
  const IndexOptions o;
  visit_options(o, names);
  return names.out;
}

std::vector<std::string> option_names(const std::string& kind) {
  Names names;
  names.scope = option_scope_of(kind);
  if (names.scope == 0) throw InvalidArgument("unknown index kind '" + kind + "'");
  const IndexOptions o;
  visit_options(o, names);
  return names.out;
}

IndexOptions with_default_quant(IndexOptions options, const char* quant) {
  if (options.quant.empty()) options.quant = quant;
  return options;
}

void validate_options(const IndexOptions& options) {
  Validator v;
  visit_options(options, v);
}

void write_options(const IndexOptions& options, io::ByteWriter& out) {
  io::ByteWriter body;
  Writer w{body};
  visit_options(options, w);
  out.u32(w.fields);
  std::vector<uint8_t> bytes = body.take();
  out.bytes(bytes.data(), bytes.size());
}

IndexOptions read_options(io::ByteReader& in) {
  IndexOptions o;
  o.quant = kDefaultQuant;  // a file names its codec; one that did not would have stored float32
  const uint32_t fields = in.u32();
  for (uint32_t i = 0; i < fields; ++i) {
    const std::string name = in.str();
    const uint8_t type = in.u8();
    Reader r{name, type, in};
    visit_options(o, r);
    if (!r.found) throw FileFormatError(in.what() + ": unknown option '" + name + "' (written by a newer vidx?)");
  }
  return o;
}

}  // namespace vidx
