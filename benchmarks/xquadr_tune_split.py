"""Does tuning fusion weights per language help? Weights picked on half of each language's
questions (split by the hash of the query id), measured on the other half, against equal weights.

    python -m benchmarks.xquadr_tune_split

Linear fusion of bm25, dense and sparse runs; weights on a 0.1 grid summing to 1.
"""
import hashlib, itertools, tempfile
from pathlib import Path
from babelir.encode.base import get_encoder
from babelir.evaluate.metrics import per_query_values
from babelir.fuse import linear
from babelir.index.core import Index
from babelir.io.xquadr import XQUADR_LANGS, load_language
from babelir.retrieve.hybrid import make_retriever
enc = get_encoder()
grid = [w for w in itertools.product([i/10 for i in range(11)], repeat=2) if w[0] + w[1] <= 1.0001]
def dev(qid): return hashlib.sha256(qid.encode()).digest()[0] % 2 == 0
tot_eq = tot_tuned = 0
with tempfile.TemporaryDirectory() as tmp:
    for lang in XQUADR_LANGS:
        c, _ = load_language(str(Path(__file__).resolve().parents[1].parent / 'shared/data/xquad-r'), lang)
        ix = Index.create(Path(tmp)/lang, encoder=enc, sparse=True); ix.add(c.docs)
        runs = [make_retriever(ix, m).retrieve(c.queries, 100) for m in ('bm25', 'dense', 'sparse')]
        def score(weights, keep):
            r = linear(runs, list(weights))
            v = per_query_values(r, [q for q in c.qrels if keep(q.query_id)], ['nDCG@10'])['nDCG@10']
            return sum(v.values()) / len(v)
        best = max(grid, key=lambda w: score((w[0], w[1], 1 - w[0] - w[1]), dev))
        bw = (best[0], best[1], 1 - best[0] - best[1])
        eq = score((1/3, 1/3, 1/3), lambda q: not dev(q)); tuned = score(bw, lambda q: not dev(q))
        tot_eq += eq; tot_tuned += tuned
        print(lang, 'weights', tuple(round(x, 1) for x in bw), 'test half: equal %.4f tuned %.4f' % (eq, tuned), flush=True)
        ix.close()
print('avg test half: equal %.4f tuned %.4f' % (tot_eq/11, tot_tuned/11))
