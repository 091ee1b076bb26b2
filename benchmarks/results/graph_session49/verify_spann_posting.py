# vidx.verify() reports a SPANN index sound although its posting file has a damaged page.
import numpy as np, vidx, os, tempfile
d=tempfile.mkdtemp(); post=os.path.join(d,"p.post"); f=os.path.join(d,"i.vidx")
X=np.random.default_rng(0).standard_normal((5000,32)).astype(np.float32)
idx=vidx.Index(32,kind="spann",path=post); idx.add(X); idx.save(f); del idx
b=bytearray(open(post,"rb").read()); b[len(b)//2:len(b)//2+64]=bytes(x^0xff for x in b[len(b)//2:len(b)//2+64]); open(post,"wb").write(bytes(b))
print("verify:", vidx.verify(f))                       # None == "sound"
try: vidx.load(f).search(X[:200],10,nprobe=10**6); print("search ok")
except OSError as e: print("search:", e)
