#!/bin/bash
# usage: run_feeds.sh PKGDIR OUT SEED feeds...
pkg=$1; out=$2; seed=$3; shift 3
for f in "$@"; do PYTHONPATH=$pkg python3 feeds.py manpages-minilm-384-angular.hdf5 $f $seed >> $out 2>&1; done
