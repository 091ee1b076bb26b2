import numpy as np, vidx, os, sys, time
d=sys.argv[1]
rng=np.random.default_rng(0)
X=rng.standard_normal((4000,8)).astype(np.float32)
idx=vidx.Index(8,'l2','spann',path=os.path.join(d,'a.post'),threads=2)
idx.add(X,progress=False); idx.save(os.path.join(d,'a.idx'))
slept=[]
def cb(ph,done,total):
    if ph=='write' and done*2>=total and not slept:
        slept.append(1); open(os.path.join(d,'READY'),'w').close(); time.sleep(6)
try:
    r=idx.rebuild(progress=cb); print('A rebuilt',r, len(idx), idx.search(X[:3],k=2)[1].tolist())
    idx.save(os.path.join(d,'a.idx')); print('A saved')
except Exception as e: print('A raised',type(e).__name__,e)
