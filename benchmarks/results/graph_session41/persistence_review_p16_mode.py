import numpy as np, vidx, os, stat
P="/tmp/review41/persistence/w16"; os.makedirs(P,exist_ok=True)
X=np.random.default_rng(0).standard_normal((500,8)).astype(np.float32)
idx=vidx.Index(8,"l2",kind="flat"); idx.add(X)
p=P+"/secret.vidx"; idx.save(p); os.chmod(p,0o600); os.chown(p,1000,1000)
st=os.stat(p); print("before: mode %o uid %d gid %d umask-default"%(stat.S_IMODE(st.st_mode),st.st_uid,st.st_gid))
idx.save(p); st=os.stat(p); print("after save: mode %o uid %d gid %d"%(stat.S_IMODE(st.st_mode),st.st_uid,st.st_gid))
# SPANN .gen stamp and posting file modes
os.umask(0o077)
s=vidx.Index(8,"l2",kind="spann",path=P+"/p.post"); s.add(X,progress=False); s.save(P+"/s.spann")
print({f:"%o"%stat.S_IMODE(os.stat(P+"/"+f).st_mode) for f in os.listdir(P)})
