/* BM25 term-at-a-time scoring of one query's postings, and its top k: the loops of
 * babelir.index.lexical in one pass each (numpy needs seven passes over the postings and one over
 * every document). Optional: without a C compiler babelir uses the numpy code, which gives the same
 * scores bit for bit (the same IEEE operations in the same order; built without FMA contraction).
 *
 *   accumulate(docs, tfs, tf_width, ends, weights, norm, sums, touched) -> touched count
 *     docs: int32 rows (P,); tfs: uint16 or uint32 (tf_width 2 or 4) counts (P,); ends: int64 (T,),
 *     where each term's postings end (ascending, the last one P); weights: float64 (T,);
 *     norm: float64 (N,); sums: float64 (N,), all zero, gets each row's score; touched: int32 (>= P),
 *     gets each row with a score, once, in the order first met.
 *     score(row) += weight * tf / (tf + norm[row]), computed as (tf * weight) / (norm[row] + tf).
 *   top(sums, touched, count, k, mask, values) -> kept
 *     The rows among touched[:count] (and mask[row] true, mask a bool (N,) or None) whose score is
 *     at least the k-th best: touched[:kept] gets them, values[:kept] (float64) their scores.
 *     Every sums[row] of touched[:count] is zero again.
 *   read(fds, docs_from, tfs_from, counts, bases, tf_width, docs, tfs) -> -1, or the term cut short
 *     Each term's postings, one after the other, from its segment file (pread: not through a map,
 *     see babelir.index.segments.Segment): counts[t] rows (int32) from byte docs_from[t] of file
 *     descriptor fds[t] into docs, plus bases[t] each, and as many counts (tf_width bytes each) from
 *     byte tfs_from[t] into tfs. fds, docs_from, tfs_from, counts, bases: int64 (T,). A file
 *     shorter than its term's postings stops the read: the number of that term comes back.
 *   Raises ValueError for sizes that do not agree or a row outside [0, N), OSError for a failed read.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#ifndef _WIN32
#include <unistd.h>
#endif

static int
check(int ok, const char *message)
{
    if (!ok)
        PyErr_SetString(PyExc_ValueError, message);
    return ok;
}

static PyObject *
accumulate(PyObject *self, PyObject *args)
{
    Py_buffer docs, tfs, ends, weights, norm, sums, touched;
    int tf_width;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*iy*y*y*w*w*", &docs, &tfs, &tf_width, &ends, &weights, &norm, &sums,
                          &touched))
        return NULL;
    Py_ssize_t postings = docs.len / 4, terms = ends.len / 8, n = norm.len / 8;
    if (check(tf_width == 2 || tf_width == 4, "tf_width must be 2 or 4")
        && check(tfs.len == postings * tf_width, "docs and tfs differ in length")
        && check(weights.len == terms * 8, "ends and weights differ in length")
        && check(sums.len == n * 8, "norm and sums differ in length")
        && check(touched.len >= postings * 4, "touched is shorter than the postings")) {
        const int32_t *doc = docs.buf;
        const int64_t *end = ends.buf;
        const double *weight = weights.buf, *lengths = norm.buf;
        double *sum = sums.buf;
        int32_t *seen = touched.buf;
        Py_ssize_t count = 0, at = 0, bad = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t term = 0; term < terms && !bad; term++) {
            Py_ssize_t stop = end[term];
            double w = weight[term];
            if (stop < at || stop > postings) {
                bad = 1;
                break;
            }
            for (; at < stop; at++) {
                int32_t row = doc[at];
                if (row < 0 || row >= n) {
                    bad = 2;
                    break;
                }
                double tf = tf_width == 2 ? (double)((const uint16_t *)tfs.buf)[at]
                                          : (double)((const uint32_t *)tfs.buf)[at];
                double impact = (tf * w) / (lengths[row] + tf);
                double before = sum[row];
                seen[count] = row;  /* kept when the row had no score yet (no branch to mispredict) */
                count += before == 0.0;
                sum[row] = before + impact;
            }
        }
        Py_END_ALLOW_THREADS
        if (bad == 0 && at != postings)
            bad = 1;
        if (bad) {
            for (Py_ssize_t i = 0; i < count; i++)  /* leave no partial sums */
                sum[seen[i]] = 0.0;
            PyErr_SetString(PyExc_ValueError, bad == 1 ? "term ends out of order or past the postings"
                                                       : "a posting's row is outside the collection");
        } else
            result = PyLong_FromSsize_t(count);
    }
    PyBuffer_Release(&docs); PyBuffer_Release(&tfs); PyBuffer_Release(&ends); PyBuffer_Release(&weights);
    PyBuffer_Release(&norm); PyBuffer_Release(&sums); PyBuffer_Release(&touched);
    return result;
}

/* a min-heap of k scores: heap[0] is the lowest kept */
static void
sift_down(double *heap, Py_ssize_t size, Py_ssize_t at)
{
    double value = heap[at];
    for (;;) {
        Py_ssize_t child = 2 * at + 1;
        if (child >= size)
            break;
        if (child + 1 < size && heap[child + 1] < heap[child])
            child++;
        if (!(heap[child] < value))
            break;
        heap[at] = heap[child];
        at = child;
    }
    heap[at] = value;
}

static PyObject *
top(PyObject *self, PyObject *args)
{
    Py_buffer sums, touched, values, mask = {0};
    Py_ssize_t count, k;
    PyObject *mask_object, *result = NULL;
    if (!PyArg_ParseTuple(args, "w*w*nnOw*", &sums, &touched, &count, &k, &mask_object, &values))
        return NULL;
    int masked = mask_object != Py_None;
    if (masked && PyObject_GetBuffer(mask_object, &mask, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&sums); PyBuffer_Release(&touched); PyBuffer_Release(&values);
        return NULL;
    }
    Py_ssize_t n = sums.len / 8;
    if (check(count >= 0 && touched.len >= count * 4, "count is past touched")
        && check(values.len >= count * 8, "values is shorter than count")
        && check(k >= 1, "k must be at least 1")
        && check(!masked || mask.len == n, "mask and sums differ in length")) {
        double *sum = sums.buf, *value = values.buf;
        int32_t *row = touched.buf;
        const unsigned char *allowed = masked ? mask.buf : NULL;
        Py_ssize_t kept = 0, bad = 0;
        Py_BEGIN_ALLOW_THREADS
        /* the candidates' scores (mask applied), each sum zero again */
        for (Py_ssize_t i = 0; i < count; i++) {
            int32_t r = row[i];
            if (r < 0 || r >= n) {
                bad = 1;
                continue;
            }
            if (!masked || allowed[r]) {
                row[kept] = r;
                value[kept++] = sum[r];
            }
            sum[r] = 0.0;
        }
        if (!bad && kept > k) {
            /* the k-th best score: a min-heap of the k best seen */
            double *heap = PyMem_RawMalloc(k * sizeof(double));
            if (heap == NULL)
                bad = 2;
            else {
                for (Py_ssize_t i = 0; i < k; i++)
                    heap[i] = value[i];
                for (Py_ssize_t i = k / 2; i-- > 0;)
                    sift_down(heap, k, i);
                for (Py_ssize_t i = k; i < kept; i++)
                    if (value[i] > heap[0]) {
                        heap[0] = value[i];
                        sift_down(heap, k, 0);
                    }
                double kth = heap[0];
                PyMem_RawFree(heap);
                Py_ssize_t out = 0;
                for (Py_ssize_t i = 0; i < kept; i++)  /* every tie at the cut stays */
                    if (value[i] >= kth) {
                        row[out] = row[i];
                        value[out++] = value[i];
                    }
                kept = out;
            }
        }
        Py_END_ALLOW_THREADS
        if (bad == 1)
            PyErr_SetString(PyExc_ValueError, "a touched row is outside the collection");
        else if (bad == 2)
            PyErr_NoMemory();
        else
            result = PyLong_FromSsize_t(kept);
    }
    PyBuffer_Release(&sums); PyBuffer_Release(&touched); PyBuffer_Release(&values);
    if (masked)
        PyBuffer_Release(&mask);
    return result;
}

#ifndef _WIN32
/* 1 when all size bytes were read, 0 when the file ends first, -1 on an error (errno) */
static int
pread_full(int fd, char *into, Py_ssize_t size, int64_t at)
{
    while (size > 0) {
        ssize_t got = pread(fd, into, (size_t)size, (off_t)at);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (got == 0)
            return 0;
        into += got;
        at += got;
        size -= got;
    }
    return 1;
}

static PyObject *
read_postings(PyObject *self, PyObject *args)
{
    Py_buffer fds, docs_from, tfs_from, counts, bases, docs, tfs;
    int tf_width;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*iw*w*", &fds, &docs_from, &tfs_from, &counts, &bases, &tf_width,
                          &docs, &tfs))
        return NULL;
    Py_ssize_t terms = counts.len / 8, total = 0;
    const int64_t *count = counts.buf;
    for (Py_ssize_t t = 0; t < terms; t++)
        total += count[t] > 0 ? count[t] : 0;
    if (check(tf_width == 2 || tf_width == 4, "tf_width must be 2 or 4")
        && check(fds.len == counts.len && docs_from.len == counts.len && tfs_from.len == counts.len
                 && bases.len == counts.len, "the per-term arrays differ in length")
        && check(docs.len >= total * 4 && tfs.len >= total * tf_width, "the buffers are shorter than the postings")) {
        const int64_t *fd = fds.buf, *from = docs_from.buf, *tf_from = tfs_from.buf, *base = bases.buf;
        char *doc = docs.buf, *tf = tfs.buf;
        Py_ssize_t at = 0, stopped = -1;
        int failed = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t t = 0; t < terms; t++) {
            Py_ssize_t size = count[t] > 0 ? count[t] : 0;
            int got = pread_full((int)fd[t], doc + 4 * at, 4 * size, from[t]);
            if (got == 1)
                got = pread_full((int)fd[t], tf + tf_width * at, tf_width * size, tf_from[t]);
            if (got != 1) {
                failed = got < 0;
                stopped = t;
                break;
            }
            if (base[t]) {
                int32_t *rows = (int32_t *)doc + at, add = (int32_t)base[t];
                for (Py_ssize_t i = 0; i < size; i++)
                    rows[i] += add;
            }
            at += size;
        }
        Py_END_ALLOW_THREADS
        if (failed)
            PyErr_SetFromErrno(PyExc_OSError);
        else
            result = PyLong_FromSsize_t(stopped);
    }
    PyBuffer_Release(&fds); PyBuffer_Release(&docs_from); PyBuffer_Release(&tfs_from); PyBuffer_Release(&counts);
    PyBuffer_Release(&bases); PyBuffer_Release(&docs); PyBuffer_Release(&tfs);
    return result;
}
#endif

static PyMethodDef methods[] = {
#ifndef _WIN32
    {"read", read_postings, METH_VARARGS, "Each term's postings from its segment file (see the file)."},
#endif
    {"accumulate", accumulate, METH_VARARGS, "Each row's BM25 score from one query's postings (see the file)."},
    {"top", top, METH_VARARGS, "The rows scoring at least the k-th best; the sums zeroed (see the file)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scoring", "BM25 scoring loops in C.", -1, methods};

PyMODINIT_FUNC
PyInit__scoring(void)
{
    return PyModule_Create(&module);
}
