// `Cls.__new__(Cls)` makes a Python object whose C++ value was never constructed; any method
// would then read garbage (a segfault). A class opts in with VIDX_REQUIRE_INITIALISED(T),
// after which every argument of type T (self included, in methods, properties and lambdas)
// is checked: an object that skipped __init__ raises TypeError instead.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

namespace vidx::bindings {

template <class T>
struct InitialisedCaster : pybind11::detail::type_caster_base<T> {
  bool load(pybind11::handle src, bool convert) {
    namespace detail = pybind11::detail;
    const detail::type_info* info = detail::get_type_info(typeid(T));
    if (info && src && PyObject_TypeCheck(src.ptr(), info->type)) {
      auto* inst = reinterpret_cast<detail::instance*>(src.ptr());
      if (!inst->get_value_and_holder(info, false).holder_constructed())
        throw pybind11::type_error(std::string(info->type->tp_name) +
                                   " object was never initialised (created with __new__ without __init__)");
    }
    return detail::type_caster_base<T>::load(src, convert);
  }
};

}  // namespace vidx::bindings

// At namespace scope, after T is defined and before it is bound.
#define VIDX_REQUIRE_INITIALISED(T)                                           \
  namespace pybind11::detail {                                                \
  template <>                                                                 \
  class type_caster<T> : public ::vidx::bindings::InitialisedCaster<T> {};    \
  }
