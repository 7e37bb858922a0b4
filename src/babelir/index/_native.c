/* The index's loops in C (babelir.index._native): BM25 term-at-a-time scoring of one query's postings
 * and its top k, reading the postings, and counting a batch's postings. Each is a loop of
 * babelir.index.lexical or babelir.index.segments in one pass (numpy needs seven passes over a
 * query's postings and one over every document to score them). Optional: without a C compiler
 * babelir runs the Python and numpy code, which gives the same results bit for bit (for scores: the
 * same IEEE operations in the same order, built without FMA contraction).
 *
 *   accumulate(docs, tfs, tf_width, ends, weights, norm, sums, touched) -> touched count
 *     docs: int32 rows (P,); tfs: uint16 or uint32 (tf_width 2 or 4) counts (P,); ends: int64 (T,),
 *     where each term's postings end (ascending, the last one P); weights: float64 (T,);
 *     norm: float64 (N,); sums: float64 (N,), all zero, gets each row's score; touched: int32 (>= P),
 *     gets each row with a score, once, in the order first met.
 *     score(row) += weight * tf / (tf + norm[row]), computed as (tf * weight) / (norm[row] + tf).
 *   top(sums, touched, count, k, mask, values) -> kept
 *     The rows among touched[:count] (with a score above 0, and mask[row] true, mask a bool (N,) or
 *     None) whose score is at least the k-th best: touched[:kept] gets them, values[:kept] (float64) their scores.
 *     Every sums[row] of touched[:count] is zero again.
 *   read(fds, docs_from, tfs_from, counts, bases, tf_width, docs, tfs) -> -1, or the term cut short
 *     Each term's postings, one after the other, from its segment file (pread: not through a map,
 *     see babelir.index.segments.Segment): counts[t] rows (int32) from byte docs_from[t] of file
 *     descriptor fds[t] into docs, plus bases[t] each, and as many counts (tf_width bytes each) from
 *     byte tfs_from[t] into tfs. fds, docs_from, tfs_from, counts, bases: int64 (T,). A file
 *     shorter than its term's postings stops the read: the number of that term comes back.
 *   factorize(term_lists) -> (codes, vocabulary, lengths)
 *     Documents given as their terms (a list of lists of str): each term's number in order of first
 *     sight (codes: bytearray of int64, one per term of every document, in order), the distinct terms
 *     in that order (vocabulary: list of str), and each document's length (lengths: bytearray of
 *     int64). What dict.fromkeys over the chained lists gives, in one pass.
 *   number(numbers, items) -> codes
 *     Each of items' number in the dict numbers, a new item getting len(numbers) (bytearray of
 *     int64): what numbers.setdefault(item, len(numbers)) gives, item by item.
 *   count_postings(ranks, lengths, terms) -> (term_ids, docs, tfs)
 *     Each term occurrence's term rank (int64 (P,), each below terms) and the documents' lengths
 *     (int64 (D,), summing to P) as postings: one per (term, document), ordered by term then
 *     document, with its count: bytearrays of int64, int32 and int64. What np.unique(rank * D +
 *     document, return_counts=True) gives, by a counting sort.
 *   Raises ValueError for sizes that do not agree or a row outside [0, N), OSError for a failed read,
 *   TypeError for a term that is not a str.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <limits.h>
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
    if (masked && PyObject_GetBuffer(mask_object, &mask, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        PyBuffer_Release(&sums); PyBuffer_Release(&touched); PyBuffer_Release(&values);
        return NULL;
    }
    Py_ssize_t n = sums.len / 8;
    if (check(count >= 0 && count <= touched.len / 4, "count is past touched")
        && check(count <= values.len / 8, "values is shorter than count")
        && check(k >= 1, "k must be at least 1")
        && check(!masked || (mask.itemsize == 1 && mask.format != NULL && strcmp(mask.format, "?") == 0),
                 "mask must be a bool array")
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
            if ((!masked || allowed[r]) && sum[r] > 0.0) {  /* as numpy's sums > 0 (a row met twice: once) */
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
    Py_ssize_t terms = counts.len / 8, total = 0, room = 0;
    int64_t *spec = NULL;  /* a copy of the five per-term arrays: what is checked is what is read, */
    int fits = 1;          /* whatever another thread or an aliased output does to the originals */
    if (check(tf_width == 2 || tf_width == 4, "tf_width must be 2 or 4")
        && check(fds.len == counts.len && docs_from.len == counts.len && tfs_from.len == counts.len
                 && bases.len == counts.len, "the per-term arrays differ in length")) {
        spec = PyMem_Malloc((terms ? terms : 1) * 5 * sizeof(int64_t));
        if (spec == NULL)
            PyErr_NoMemory();
    }
    if (spec != NULL) {
        memcpy(spec, fds.buf, terms * 8);
        memcpy(spec + terms, docs_from.buf, terms * 8);
        memcpy(spec + 2 * terms, tfs_from.buf, terms * 8);
        memcpy(spec + 3 * terms, counts.buf, terms * 8);
        memcpy(spec + 4 * terms, bases.buf, terms * 8);
        room = docs.len / 4 < tfs.len / tf_width ? docs.len / 4 : tfs.len / tf_width;  /* postings the buffers hold */
        for (Py_ssize_t t = 0; t < terms && fits; t++) {
            int64_t count = spec[3 * terms + t];
            fits = count >= 0 && count <= room - total;  /* (no sum that could overflow) */
            total += fits ? count : 0;
        }
    }
    if (spec != NULL && check(fits, "a count is negative, or the buffers are shorter than the postings")) {
        const int64_t *fd = spec, *from = spec + terms, *tf_from = spec + 2 * terms, *count = spec + 3 * terms,
                      *base = spec + 4 * terms;
        char *doc = docs.buf, *tf = tfs.buf;
        Py_ssize_t at = 0, stopped = -1;
        int failed = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t t = 0; t < terms; t++) {
            Py_ssize_t size = count[t];
            int got = -1;
            if (fd[t] < 0 || fd[t] > INT_MAX)
                errno = EBADF;
            else
                got = pread_full((int)fd[t], doc + 4 * at, 4 * size, from[t]);
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
    PyMem_Free(spec);
    PyBuffer_Release(&fds); PyBuffer_Release(&docs_from); PyBuffer_Release(&tfs_from); PyBuffer_Release(&counts);
    PyBuffer_Release(&bases); PyBuffer_Release(&docs); PyBuffer_Release(&tfs);
    return result;
}
#endif

static PyObject *
factorize(PyObject *self, PyObject *lists)
{
    /* the documents as a tuple (a copy); each one's terms as given when a list or a tuple (a copy
       of every list cost as much as the counting), read item by item with the list's size checked
       at each: a term's __hash__ or __eq__ (a str subclass's) may change a list, never past its end */
    PyObject *outer = PySequence_Tuple(lists);
    if (outer == NULL)
        return NULL;
    Py_ssize_t documents = PyTuple_GET_SIZE(outer), total = 0;
    PyObject *numbers = PyDict_New(), *vocabulary = PyList_New(0), *codes = NULL, *lengths = NULL, *result = NULL;
    PyObject **inner = PyMem_Calloc(documents ? documents : 1, sizeof(PyObject *));
    lengths = PyByteArray_FromStringAndSize(NULL, documents * 8);
    if (numbers == NULL || vocabulary == NULL || inner == NULL || lengths == NULL)
        goto done;
    int64_t *length = (int64_t *)PyByteArray_AS_STRING(lengths);
    for (Py_ssize_t d = 0; d < documents; d++) {
        PyObject *given = PyTuple_GET_ITEM(outer, d);
        if (PyList_Check(given) || PyTuple_Check(given)) {
            Py_INCREF(given);
            inner[d] = given;
        } else if ((inner[d] = PySequence_Tuple(given)) == NULL)
            goto done;
        length[d] = PySequence_Fast_GET_SIZE(inner[d]);  /* the sizes counted: what codes holds */
        total += length[d];
    }
    codes = PyByteArray_FromStringAndSize(NULL, total * 8);
    if (codes == NULL)
        goto done;
    int64_t *code = (int64_t *)PyByteArray_AS_STRING(codes);
    Py_ssize_t at = 0;
    for (Py_ssize_t d = 0; d < documents; d++) {
        Py_ssize_t size = length[d];
        for (Py_ssize_t i = 0; i < size; i++) {
            if (PySequence_Fast_GET_SIZE(inner[d]) != size) {
                PyErr_SetString(PyExc_RuntimeError, "a document's terms changed while they were counted");
                goto done;
            }
            PyObject *term = PySequence_Fast_GET_ITEM(inner[d], i);
            if (!PyUnicode_Check(term)) {
                PyErr_Format(PyExc_TypeError, "a term must be a str, not %.100s", Py_TYPE(term)->tp_name);
                goto done;
            }
            Py_INCREF(term);  /* held while its hash and comparisons may run Python code */
            PyObject *number = PyDict_GetItemWithError(numbers, term);  /* borrowed */
            int failed = 0;
            if (number == NULL) {
                if (PyErr_Occurred())
                    failed = 1;
                else {
                    number = PyLong_FromSsize_t(PyList_GET_SIZE(vocabulary));
                    failed = number == NULL || PyDict_SetItem(numbers, term, number) < 0
                             || PyList_Append(vocabulary, term) < 0;
                    Py_XDECREF(number);  /* the dict holds it */
                    code[at++] = PyList_GET_SIZE(vocabulary) - 1;
                }
            } else
                code[at++] = PyLong_AsSsize_t(number);
            Py_DECREF(term);
            if (failed)
                goto done;
        }
    }
    result = PyTuple_Pack(3, codes, vocabulary, lengths);
done:
    if (inner != NULL) {
        for (Py_ssize_t d = 0; d < documents; d++)
            Py_XDECREF(inner[d]);
        PyMem_Free(inner);
    }
    Py_DECREF(outer);
    Py_XDECREF(numbers); Py_XDECREF(vocabulary); Py_XDECREF(codes); Py_XDECREF(lengths);
    return result;
}

static PyObject *
number_items(PyObject *self, PyObject *args)
{
    PyObject *numbers, *items, *codes = NULL;
    if (!PyArg_ParseTuple(args, "O!O", &PyDict_Type, &numbers, &items))
        return NULL;
    PyObject *fast = PySequence_Tuple(items);  /* a copy: no item's __hash__ or __eq__ can change it */
    if (fast == NULL)
        return NULL;
    Py_ssize_t size = PyTuple_GET_SIZE(fast);
    PyObject **item = &PyTuple_GET_ITEM(fast, 0);
    codes = PyByteArray_FromStringAndSize(NULL, size * 8);
    if (codes == NULL)
        goto done;
    int64_t *code = (int64_t *)PyByteArray_AS_STRING(codes);
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *fresh = PyLong_FromSsize_t(PyDict_GET_SIZE(numbers));
        if (fresh == NULL)
            goto failed;
        PyObject *found = PyDict_SetDefault(numbers, item[i], fresh);  /* borrowed */
        Py_XINCREF(found);
        Py_DECREF(fresh);
        if (found == NULL)
            goto failed;
        Py_ssize_t value = PyLong_Check(found) ? PyLong_AsSsize_t(found) : -1;
        Py_DECREF(found);
        if (value < 0) {  /* not an int, negative, or too large (OverflowError set) */
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "numbers' values must be ints of 0 or more");
            goto failed;
        }
        code[i] = value;
    }
    goto done;
failed:
    Py_CLEAR(codes);
done:
    Py_DECREF(fast);
    return codes;
}

static PyObject *
count_postings(PyObject *self, PyObject *args)
{
    Py_buffer ranks, lengths;
    Py_ssize_t terms;
    PyObject *term_ids = NULL, *docs = NULL, *tfs = NULL, *result = NULL;
    int64_t *starts = NULL;
    int32_t *placed = NULL;
    if (!PyArg_ParseTuple(args, "y*y*n", &ranks, &lengths, &terms))
        return NULL;
    Py_ssize_t postings = ranks.len / 8, documents = lengths.len / 8, sum = 0;
    const int64_t *rank = ranks.buf, *length = lengths.buf;
    int fits = 1;
    for (Py_ssize_t d = 0; d < documents && fits; d++) {
        fits = length[d] >= 0 && length[d] <= postings - sum;  /* (no sum that could overflow) */
        sum += fits ? length[d] : 0;
    }
    if (!check(fits && sum == postings, "the lengths do not sum to the ranks' count")
        || !check(terms >= 0 && terms <= postings, "terms is negative or more than the ranks' count"))
        goto done;
    for (Py_ssize_t i = 0; i < postings; i++)
        if (!check(rank[i] >= 0 && rank[i] < terms, "a rank is outside [0, terms)"))
            goto done;
    starts = PyMem_Calloc(terms + 1, sizeof(int64_t));
    placed = PyMem_Malloc((postings ? postings : 1) * sizeof(int32_t));
    term_ids = PyByteArray_FromStringAndSize(NULL, postings * 8);
    docs = PyByteArray_FromStringAndSize(NULL, postings * 4);
    tfs = PyByteArray_FromStringAndSize(NULL, postings * 8);
    if (starts == NULL || placed == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (term_ids == NULL || docs == NULL || tfs == NULL)
        goto done;
    int64_t *term_out = (int64_t *)PyByteArray_AS_STRING(term_ids), *tf_out = (int64_t *)PyByteArray_AS_STRING(tfs);
    int32_t *doc_out = (int32_t *)PyByteArray_AS_STRING(docs);
    Py_ssize_t count = 0;
    /* the GIL is kept: ranks and lengths are read twice (checked, then used), so no other
       thread may change them in between */
    for (Py_ssize_t i = 0; i < postings; i++)  /* each term's occurrences, then where they start */
        starts[rank[i] + 1]++;
    for (Py_ssize_t t = 0; t < terms; t++)
        starts[t + 1] += starts[t];
    Py_ssize_t at = 0;  /* each occurrence's document, placed by term: documents ascend within a term */
    for (Py_ssize_t d = 0; d < documents; d++)
        for (int64_t i = 0; i < length[d]; i++, at++)
            placed[starts[rank[at]]++] = (int32_t)d;
    Py_ssize_t from = 0;  /* starts[t] is now where term t + 1 starts */
    for (Py_ssize_t t = 0; t < terms; t++) {
        Py_ssize_t to = starts[t];
        for (Py_ssize_t i = from; i < to; i++) {
            if (i > from && placed[i] == placed[i - 1])
                tf_out[count - 1]++;
            else {
                term_out[count] = t;
                doc_out[count] = placed[i];
                tf_out[count++] = 1;
            }
        }
        from = to;
    }
    if (PyByteArray_Resize(term_ids, count * 8) < 0 || PyByteArray_Resize(docs, count * 4) < 0
        || PyByteArray_Resize(tfs, count * 8) < 0)
        goto done;
    result = PyTuple_Pack(3, term_ids, docs, tfs);
done:
    PyMem_Free(starts);
    PyMem_Free(placed);
    Py_XDECREF(term_ids); Py_XDECREF(docs); Py_XDECREF(tfs);
    PyBuffer_Release(&ranks); PyBuffer_Release(&lengths);
    return result;
}

static PyMethodDef methods[] = {
    {"factorize", factorize, METH_O, "Each term's number in order of first sight, the terms, the lengths (see the file)."},
    {"number", number_items, METH_VARARGS, "Each item's number in a dict, new ones numbered on (see the file)."},
    {"count_postings", count_postings, METH_VARARGS, "Postings by term then document, with counts (see the file)."},
#ifndef _WIN32
    {"read", read_postings, METH_VARARGS, "Each term's postings from its segment file (see the file)."},
#endif
    {"accumulate", accumulate, METH_VARARGS, "Each row's BM25 score from one query's postings (see the file)."},
    {"top", top, METH_VARARGS, "The rows scoring at least the k-th best; the sums zeroed (see the file)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", "The index's loops in C: scoring, reading and counting postings.", -1, methods};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModule_Create(&module);
}
