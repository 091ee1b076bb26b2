import os, time, numpy as np, h5py, vidx
C = os.path.expanduser('~/.cache/vidx/')
FILES = {'glovesp': 'glove6b-50-angular.hdf5', 'glove': 'glove6b-50-angular.hdf5', 'fashion': 'fashion-mnist-784-euclidean.hdf5', 'wordnet': 'wordnet-minilm-384-angular.hdf5'}
METRIC = {'glovesp': 'cosine', 'glove': 'cosine', 'fashion': 'l2', 'wordnet': 'cosine'}

def load(name, n, nq=1000, seed=0):
    """First n train rows (natural order), nq test queries chosen at random; brute-force gt@10."""
    cache = f'/tmp/vidx_order_cache_{name}_{n}_{nq}_{seed}.npz'
    if os.path.exists(cache):
        z = np.load(cache); return z['X'], z['Q'], z['gt'], z['lab']
    h = h5py.File(C + FILES[name])
    if name == 'glovesp':  # n rows drawn at random from all 390k, kept in file order
        X = np.asarray(h['train'][:], dtype=np.float32)[np.sort(np.random.default_rng(7).choice(len(h['train']), n, replace=False))]
    else:
        X = np.asarray(h['train'][:n], dtype=np.float32)
    rng = np.random.default_rng(seed)
    T = np.asarray(h['test'][:], dtype=np.float32)
    Q = T[np.sort(rng.choice(len(T), nq, replace=False))]
    gt = brute(X, Q, METRIC[name])
    km = vidx.kmeans(X if METRIC[name] == 'l2' else X / np.linalg.norm(X, axis=1, keepdims=True), 100, iters=15, seed=1, threads=2)
    lab = np.asarray(km.assignment)
    np.savez(cache, X=X, Q=Q, gt=gt, lab=lab)
    return X, Q, gt, lab

def brute(X, Q, metric, k=10):
    if metric == 'cosine':
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True); Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        D = -(Qn @ Xn.T)
    else:
        D = (Q * Q).sum(1)[:, None] - 2 * Q @ X.T + (X * X).sum(1)[None, :]
    return np.argsort(D, axis=1)[:, :k]

def recall(I, gt, k=10):
    return np.mean([len(set(a[:k]) & set(b[:k])) / k for a, b in zip(I, gt)])

def orders(X, lab, seed=0):
    """Returns dict name -> permutation of row indices."""
    rng = np.random.default_rng(seed)
    n = len(X)
    return {'shuf': rng.permutation(n), 'sorted': np.argsort(lab, kind='stable'), 'natural': np.arange(n)}

def build(X, perm, chunk, **kw):
    idx = vidx.Index(X.shape[1], kw.pop('metric'), threads=2, **kw)
    t = time.time()
    for s in range(0, len(perm), chunk):
        p = perm[s:s + chunk]
        idx.add(X[p], ids=p.astype(np.int64))
    return idx, time.time() - t

def evalr(idx, Q, gt, key, vals, **extra):
    out = {}
    for v in vals:
        _, I = idx.search(Q, k=10, **{key: v}, **extra)
        out[v] = recall(I, gt)
    return out
