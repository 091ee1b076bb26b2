# save() whose generation stamp cannot be written: the index file is already replaced, the error
# is raised anyway, and the next save reuses the same generation number -> an older save may write.
import numpy as np, vidx, os, shutil
S="/tmp/review41/persistence/small"; P="/tmp/review41/persistence/w21"; shutil.rmtree(P,ignore_errors=True); os.makedirs(P)
for f in os.listdir(S): os.remove(S+"/"+f)
X=np.random.default_rng(0).standard_normal((6000,16)).astype(np.float32); Q=X[:3000]
idx=vidx.Index(16,"l2",kind="spann",path=S+"/post.bin",posting_limit=64); idx.add(X[:3000],progress=False)
idx.add(X[3000:3100],ids=np.arange(3000,3100))
fd=os.open(S+"/filler",os.O_WRONLY|os.O_CREAT)
try:
    while True: os.write(fd,b"\0"*4096)
except OSError: pass
os.close(fd)
try: idx.save(P+"/b.spann"); print("save b ok")
except OSError as e: print("save b raised:", e, "| b.spann exists:", os.path.exists(P+"/b.spann"))
os.remove(S+"/filler")
for s in range(3100,4000,100): idx.add(X[s:s+100],ids=np.arange(s,s+100))
idx.save(P+"/c.spann"); print("save c ok; files:", sorted(os.listdir(S)))
del idx
b=vidx.load(P+"/b.spann")
try:
    for s in range(4000,5000,100): b.add(X[s:s+100]+5,ids=np.arange(s,s+100))
    print("older save b WROTE to the shared posting file (should raise OSError)")
except OSError as e: print("b write refused:", str(e)[:100])
del b
c=vidx.load(P+"/c.spann")
try:
    D,I=c.search(Q,k=1,nprobe=10**6); print("c self-search hit rate", (I[:,0]==np.arange(3000)).mean())
    c.get(c.ids()); print("c get all ok")
except Exception as e: print("c broken:", type(e).__name__, e)
