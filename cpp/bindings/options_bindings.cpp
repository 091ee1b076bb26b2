#include "options_bindings.hpp"
#include "path_input.hpp"

#include <limits>
#include <set>

#include "vidx/codec/registry.hpp"

namespace vidx::bindings {
namespace py = pybind11;
namespace {

std::string type_name(py::handle obj) { return py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>(); }

bool is_integer(py::handle v) {
  return !PyBool_Check(v.ptr()) && !PyFloat_Check(v.ptr()) && (PyLong_Check(v.ptr()) || py::hasattr(v, "__index__")) &&
         !py::isinstance(v, py::module_::import("numpy").attr("bool_"));
}

// Reads each option present in the dict, refusing those of another kind.
struct FromKwargs {
  const py::dict& kw;
  unsigned scope;
  const std::string& kind;
  std::set<std::string> used;

  py::object take(const char* name, unsigned applies) {
    if (!kw.contains(name)) return py::object();
    used.insert(name);
    py::object v = kw[name];
    if (!(applies & scope))
      throw py::value_error(std::string(name) + " does not apply to kind='" + kind + "'" +
                            (applies == kScopeSpann ? " (it applies to kind='spann' only)" : ""));
    return v;
  }
  uint64_t integer(const char* name, py::handle v) {
    if (!is_integer(v)) throw py::type_error(std::string(name) + " must be an int, got " + type_name(v));
    py::int_ i = py::reinterpret_steal<py::int_>(PyNumber_Index(v.ptr()));
    if (i.ptr() == nullptr) throw py::error_already_set();
    if (i < py::int_(0)) throw py::value_error(std::string(name) + " must be at least 0, got " + py::str(i).cast<std::string>());
    // Past 64 bits pybind11's cast would fail with its own message, which names no option.
    if (i > py::int_(std::numeric_limits<uint64_t>::max()))
      throw py::value_error(std::string(name) + " must be below 2**64, got " + py::str(i).cast<std::string>());
    return i.cast<uint64_t>();
  }
  void count(const char* name, size_t& field, unsigned applies, const OptionLimits&) {
    py::object v = take(name, applies);
    if (v) field = static_cast<size_t>(integer(name, v));
  }
  void u64(const char* name, uint64_t& field, unsigned applies, const OptionLimits&) {
    py::object v = take(name, applies);
    if (v) field = integer(name, v);
  }
  void real(const char* name, double& field, unsigned applies, const OptionLimits&) {
    py::object v = take(name, applies);
    if (!v || v.is_none()) return;  // head_ratio=None: automatic
    if (PyBool_Check(v.ptr()) || !(PyFloat_Check(v.ptr()) || is_integer(v) || py::hasattr(v, "__float__")) ||
        py::isinstance<py::str>(v))
      throw py::type_error(std::string(name) + " must be a number, got " + type_name(v));
    field = v.cast<double>();
  }
  void flag(const char* name, bool& field, unsigned applies) {
    py::object v = take(name, applies);
    if (!v) return;
    if (!PyBool_Check(v.ptr()) && !py::isinstance(v, py::module_::import("numpy").attr("bool_")))
      throw py::type_error(std::string(name) + " must be a bool, got " + type_name(v));
    field = v.cast<bool>();
  }
  void text(const char* name, std::string& field, unsigned applies) {
    py::object v = take(name, applies);
    if (!v) return;
    const bool path = std::string(name) == "path";
    const bool path_like = py::isinstance<py::str>(v) || py::isinstance<py::bytes>(v) || py::hasattr(v, "__fspath__");
    if (path ? !path_like : !py::isinstance<py::str>(v))
      throw py::type_error(std::string(name) + " must be a string, got " + type_name(v));
    field = path ? file_system_path(v) : v.cast<std::string>();
    if (std::string(name) == "path") checked_path(field);
    // Left out, quant is the kind's default; given, it must name a codec ("" included).
    if (std::string(name) == "quant") find_codec(field);
  }
};

struct ToDict {
  py::dict& out;
  unsigned scope;
  void count(const char* name, const size_t& v, unsigned applies, const OptionLimits&) {
    if (applies & scope) out[name] = v;
  }
  void u64(const char* name, const uint64_t& v, unsigned applies, const OptionLimits&) {
    if (applies & scope) out[name] = v;
  }
  void real(const char* name, const double& v, unsigned applies, const OptionLimits& l) {
    if (!(applies & scope)) return;
    if (v == 0 && l.zero_ok)
      out[name] = py::none();
    else
      out[name] = v;
  }
  void flag(const char* name, const bool& v, unsigned applies) {
    if (applies & scope) out[name] = v;
  }
  void text(const char* name, const std::string& v, unsigned applies) {
    if (!(applies & scope)) return;
    if (std::string(name) == "path")  // as os.listdir names it, whatever its bytes
      out[name] = file_name_object(v);
    else
      out[name] = v;
  }
};

}  // namespace

IndexOptions options_from_kwargs(const std::string& kind, const py::dict& kwargs) {
  IndexOptions o;
  const unsigned scope = option_scope_of(kind);
  FromKwargs reader{kwargs, scope ? scope : unsigned(kScopeAll), kind, {}};
  visit_options(o, reader);
  std::string unknown;
  for (auto item : kwargs) {
    const std::string name = py::str(item.first).cast<std::string>();
    if (!reader.used.count(name)) unknown += (unknown.empty() ? "" : ", ") + name;
  }
  if (!unknown.empty()) throw py::type_error("unexpected arguments: " + unknown);
  return o;
}

py::dict options_to_dict(const std::string& kind, const IndexOptions& options) {
  py::dict d;
  ToDict writer{d, option_scope_of(kind)};
  visit_options(options, writer);
  return d;
}

}  // namespace vidx::bindings
