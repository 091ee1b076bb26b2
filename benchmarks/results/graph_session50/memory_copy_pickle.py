"""copy.copy / pickle round trip of a loaded index: peak over the index (fresh process per case).
usage: PYTHONPATH=/tmp/s50/pkg python3 copy_pickle.py KIND QUANT copy|pickle_dumps|pickle_loads"""
import sys, copy, pickle, json, vidx
MB = 1 << 20
def st():
    d = {}
    for l in open('/proc/self/status'):
        if l.startswith(('VmHWM', 'VmRSS')): k, v = l.split(':'); d[k] = int(v.split()[0]) * 1024
    return d
kind, quant, op = sys.argv[1:4]
idx = vidx.load(f'/tmp/review50mem/data/{kind}_{quant}_200000_128.vidx')
if op == 'pickle_loads': blob = pickle.dumps(idx); del idx; idx = None
b = st(); open('/proc/self/clear_refs', 'w').write('5')
if op == 'copy': r = copy.copy(idx)
elif op == 'pickle_dumps': r = pickle.dumps(idx)
else: r = pickle.loads(blob)
a = st()
print(json.dumps(dict(kind=kind, quant=quant, op=op, peak_delta_MB=round((a['VmHWM'] - b['VmRSS']) / MB, 1),
                      rss_after_delta_MB=round((a['VmRSS'] - b['VmRSS']) / MB, 1))))
