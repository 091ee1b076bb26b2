import numpy as np, vidx, os, sys, pickle
sys.path.insert(0,"/tmp/review41/persistence"); from vfile import *
P="/tmp/review41/persistence/w12"; os.makedirs(P,exist_ok=True)
X=np.random.default_rng(0).standard_normal((2000,16)).astype(np.float32)
for kind,sec in [("hnsw","HED0"),("hnsw","LNK0"),("flat","CODE")]:
    idx=vidx.Index(16,"l2",kind=kind,quant="f32"); idx.add(X); p=f"{P}/{kind}.vidx"; idx.save(p)
    b=bytearray(open(p,"rb").read()); s={t:(o,l) for t,c,o,l in sections(b)['secs']}
    o,l=s[sec]; b[o+43]^=0x08   # flip one bit inside the in-place section (a float's exponent / a link)
    open(p,"wb").write(b)
    try: vidx.load(p); print(kind,sec,"full load accepted?!")
    except OSError as e: print(kind,sec,"full load:",str(e)[-90:])
    m=vidx.load(p,mmap=True)              # verify defaults to False
    m.save(p+".resaved")                  # laundered
    try: vidx.verify(p+".resaved"); print(kind,sec,"resaved file passes vidx.verify")
    except Exception as e: print("verify resaved:",e)
    try:
        r=vidx.load(p+".resaved"); V,_=r.get(r.ids()[:3]); print(" full load of resaved OK; row0 diff from original:", np.abs(V-X[:3]).max())
    except OSError as e: print(" save() succeeded but its file cannot be loaded:", e)
    c=pickle.loads(pickle.dumps(m)); print(" pickle of mapped corrupted loads too:", len(c))
