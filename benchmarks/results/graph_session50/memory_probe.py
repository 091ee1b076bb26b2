"""Peak-RSS probe: one case per process.
usage: PYTHONPATH=/tmp/s50/pkg python3 probe.py KIND QUANT OP [N] [DIM]
OP: build add1 add10 save load load_mmap to_bytes from_bytes search remove_compact rebuild
Peaks: VmHWM (reset via /proc/self/clear_refs=5 just before the op) minus VmRSS right before it.
"""
import os, sys, time, json, resource
import numpy as np
import vidx

MB = 1 << 20
kind, quant, op = sys.argv[1], sys.argv[2], sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 200_000
dim = int(sys.argv[5]) if len(sys.argv) > 5 else 128
D = '/tmp/review50mem/data'
os.makedirs(D, exist_ok=True)
tag = f"{kind}_{quant}_{n}_{dim}"
path = f"{D}/{tag}.vidx"
post = f"{D}/{tag}.post"

def status():
    d = {}
    for l in open('/proc/self/status'):
        if l.startswith(('VmHWM', 'VmRSS', 'RssAnon', 'RssFile')):
            k, v = l.split(':'); d[k] = int(v.split()[0]) * 1024
    return d

def reset_peak():
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')

def make_index():
    opts = dict(threads=1)
    if quant != 'default':
        opts['quant'] = quant
    if kind == 'spann':
        opts['path'] = post
    return vidx.Index(dim, 'l2', kind=kind, **opts)

def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, dim), dtype=np.float32)

def fsize(p):
    return os.path.getsize(p) if os.path.exists(p) else 0

out = dict(kind=kind, quant=quant, op=op, n=n, dim=dim)
X = None; idx = None; extra_in = 0
if op in ('add1', 'add10', 'build'):
    X = data(); extra_in = X.nbytes
elif op in ('save', 'to_bytes', 'search', 'remove_compact', 'rebuild'):
    idx = vidx.load(path)
    idx.threads = 1
    if op == 'search':
        Q = np.random.default_rng(1).standard_normal((10_000, dim), dtype=np.float32); extra_in = Q.nbytes
    if op == 'remove_compact':
        ids_all = idx.ids(); rem = ids_all[::2].copy(); del ids_all
elif op == 'from_bytes':
    with open(path, 'rb') as f:
        B = f.read()
    extra_in = len(B)
import gc; gc.collect()
before = status()
reset_peak()
t0 = time.time()
res = None
if op in ('add1', 'build'):
    idx = make_index(); idx.add(X, progress=False)
elif op == 'add10':
    idx = make_index()
    for part in np.array_split(X, 10):
        idx.add(part, progress=False)
elif op == 'save':
    idx.save(path + '.copy')
    out['file'] = fsize(path + '.copy')
elif op == 'load':
    idx = vidx.load(path)
elif op == 'load_mmap':
    idx = vidx.load(path, mmap=True)
elif op == 'to_bytes':
    res = idx.to_bytes(); out['output'] = len(res)
elif op == 'from_bytes':
    idx = vidx.from_bytes(B)
elif op == 'search':
    kw = {}
    res = idx.search(Q, k=100)
    out['output'] = res[0].nbytes + res[1].nbytes
elif op == 'remove_compact':
    idx.remove(rem)
    mid = status(); out['after_remove_peak'] = mid['VmHWM'] - before['VmRSS']
    idx.compact()
elif op == 'rebuild':
    newp = post + '.rb'
    if os.path.exists(newp): os.remove(newp)
    p = idx.rebuild(newp, progress=False)
    out['new_posting_file'] = fsize(newp)
t = time.time() - t0
after = status()
out['secs'] = round(t, 1)
out['peak_delta_MB'] = round((after['VmHWM'] - before['VmRSS']) / MB, 1)
out['rss_delta_after_MB'] = round((after['VmRSS'] - before['VmRSS']) / MB, 1)
out['rssfile_after_MB'] = round(after['RssFile'] / MB, 1)
out['input_MB'] = round(extra_in / MB, 1)
if idx is not None:
    out['mem_usage_MB'] = round(idx.memory_usage() / MB, 1)
    out['breakdown'] = {k: round(v / MB, 1) for k, v in idx.memory_breakdown().items() if v > MB // 10}
if 'output' in out: out['output_MB'] = round(out.pop('output') / MB, 1)
if 'file' in out: out['file_MB'] = round(out.pop('file') / MB, 1)
if 'after_remove_peak' in out: out['after_remove_peak_MB'] = round(out.pop('after_remove_peak') / MB, 1)
if 'new_posting_file' in out: out['new_posting_MB'] = round(out.pop('new_posting_file') / MB, 1)
out['index_file_MB'] = round(fsize(path) / MB, 1)
if kind == 'spann': out['posting_MB'] = round(fsize(post) / MB, 1)
if op == 'build':
    idx.save(path)
    out['index_file_MB'] = round(fsize(path) / MB, 1)
print(json.dumps(out))
