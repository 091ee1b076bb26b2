import vidx, sys, os
d = sys.argv[1]
print('B before', sorted(os.listdir(d)))
i = vidx.load(os.path.join(d, 'a.idx'))
print('B rebuilt', i.rebuild(progress=False))  # a rebuild cleans the posting file's stale temporaries
print('B after', sorted(os.listdir(d)))
