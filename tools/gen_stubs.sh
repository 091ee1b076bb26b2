#!/usr/bin/env bash
# Regenerates python/vidx/_core.pyi, the type stub of the C++ module, from the built module.
# Rerun after any change to cpp/bindings (the stub must match the module; tests/test_typing.py
# runs mypy --strict against it). Needs the module importable: by default from python/ in this
# checkout (copy build/dev/_core*.so there first), or set PYTHONPATH to an installed vidx.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip show pybind11-stubgen >/dev/null 2>&1 || python3 -m pip install -q pybind11-stubgen
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
PYTHONPATH=${PYTHONPATH:-$PWD/python} python3 -m pybind11_stubgen vidx._core -o "$out" --numpy-array-use-type-var
# pybind11's py::dict / py::tuple / py::function come out as bare generics, which mypy --strict
# rejects ("Missing type arguments"): give them their honest, loose parameters.
find "$out" -name '*.pyi' -exec sed -i -E \
  -e 's/([:>] )dict([,):]|$)/\1dict[str, typing.Any]\2/g' \
  -e 's/([:>] )tuple([,):]|$)/\1tuple[typing.Any, ...]\2/g' \
  -e 's/collections\.abc\.Callable([,):]|$)/collections.abc.Callable[..., typing.Any]\1/g' {} +
if [ -d "$out/vidx/_core" ]; then  # a module with submodules comes out as a package
  rm -rf python/vidx/_core.pyi python/vidx/_core
  cp -r "$out/vidx/_core" python/vidx/_core
  echo "wrote python/vidx/_core/ (stub package)"
else
  cp "$out/vidx/_core.pyi" python/vidx/_core.pyi
  echo "wrote python/vidx/_core.pyi"
fi
