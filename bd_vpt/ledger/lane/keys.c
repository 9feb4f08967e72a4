/* Keys of a blob's ids and source_refs (as rows.id_keys and rows.ref_keys make them), the
 * sets that find a repeat among its lines, the lines left for the Python lane, and the sort
 * that finds keys in two blobs (rows.repeated). */
#include "lane.h"

#ifndef _WIN32
#include <pthread.h>
#endif

static uint32_t crc_table[8][256]; /* [k][i]: the crc of byte i followed by k zero bytes */

static uint32_t crc_more(uint32_t crc, const char *p, Py_ssize_t n) {
    /* zlib's crc32, eight bytes a step (slicing by eight) */
    const uint32_t(*t)[256] = crc_table;
    Py_ssize_t i = 0;
    crc = ~crc;
#if WORDS
    for (; i + 8 <= n; i += 8) {
        uint32_t lo = crc ^ load4(p + i), hi = load4(p + i + 4);
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
              t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    }
#endif
    for (; i < n; i++) crc = t[0][(crc ^ (unsigned char)p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t adler_more(uint32_t adler, const char *p, Py_ssize_t n) {
    /* the sums are reduced every 5552 bytes: below that they cannot pass 2^32 */
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (n > 0) {
        Py_ssize_t run = n < 5552 ? n : 5552;
        for (Py_ssize_t i = 0; i < run; i++) {
            a += (unsigned char)p[i];
            b += a;
        }
        a %= 65521u;
        b %= 65521u;
        p += run;
        n -= run;
    }
    return (b << 16) | a;
}

/* crc32 and adler32 of each kind's prefix (its name and a NUL): usage 0, outcome 1 */
static uint32_t PREFIX_CRC[2], PREFIX_ADLER[2];

void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (int k = 1; k < 8; k++)
        for (int i = 0; i < 256; i++)
            crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^ crc_table[0][crc_table[k - 1][i] & 0xff];
    PREFIX_CRC[0] = crc_more(0, "usage", 6);
    PREFIX_ADLER[0] = adler_more(1, "usage", 6);
    PREFIX_CRC[1] = crc_more(0, "outcome", 8);
    PREFIX_ADLER[1] = adler_more(1, "outcome", 8);
}

uint64_t ref_key(int kind, Span ref) {
    uint32_t crc = crc_more(PREFIX_CRC[kind], ref.p, ref.n);
    uint32_t adler = adler_more(PREFIX_ADLER[kind], ref.p, ref.n);
    return ((uint64_t)adler << 32) | crc;
}

/* Buffers kept from one fold for the next: given back to the system at a fold's end, their
 * pages were faulted in again at the next (a tenth of the usage lines' time on the bench
 * ledger). A few, up to a MiB each; taken and given under a lock (folds run in threads). */
#define KEPT 16
#define KEPT_MOST ((size_t)1 << 20)
static struct {
    void *p;
    size_t size;
} kept[KEPT];
static PyThread_type_lock kept_lock;

#ifndef _WIN32
/* A fork while another thread holds the lock would leave it held for good in the child (the
 * report's worker processes, parallel.beside): fork waits for it, and both sides let it go. */
static void kept_hold(void) { PyThread_acquire_lock(kept_lock, WAIT_LOCK); }
static void kept_let_go(void) { PyThread_release_lock(kept_lock); }
#endif

int kept_init(void) {
    if (kept_lock != NULL) return 0; /* (once a process) */
    kept_lock = PyThread_allocate_lock();
#ifndef _WIN32
    if (kept_lock != NULL && pthread_atfork(kept_hold, kept_let_go, kept_let_go) == 0) return 0;
#else
    if (kept_lock != NULL) return 0;
#endif
    PyErr_NoMemory();
    return -1;
}

void *kept_take(size_t size, int zeroed) {
    /* a buffer of size bytes (or more), or NULL (no memory) */
    void *p = NULL;
    int best = -1;
    PyThread_acquire_lock(kept_lock, WAIT_LOCK);
    for (int i = 0; i < KEPT; i++)
        if (kept[i].p != NULL && kept[i].size >= size &&
            (best < 0 || kept[i].size < kept[best].size))
            best = i;
    if (best >= 0) {
        p = kept[best].p;
        kept[best].p = NULL;
    }
    PyThread_release_lock(kept_lock);
    if (p == NULL) return zeroed ? PyMem_RawCalloc(size, 1) : PyMem_RawMalloc(size);
    if (zeroed) memset(p, 0, size);
    return p;
}

void kept_give(void *p, size_t size) {
    /* a buffer of size bytes back, kept (or freed) */
    if (p == NULL) return;
    PyThread_acquire_lock(kept_lock, WAIT_LOCK);
    for (int i = 0; i < KEPT && size <= KEPT_MOST; i++) {
        if (kept[i].p == NULL) {
            kept[i].p = p;
            kept[i].size = size;
            p = NULL;
            break;
        }
    }
    PyThread_release_lock(kept_lock);
    PyMem_RawFree(p);
}

int keyset_init(KeySet *set, Py_ssize_t expected) {
    /* room for the keys expected, up to 2^17 of them at first (they grow past it) */
    size_t size = 256;
    while ((Py_ssize_t)size < expected * 2 && size < ((size_t)1 << 18)) size *= 2;
    memset(set, 0, sizeof(*set));
    set->slots = kept_take(size * sizeof(uint32_t), 1);
    set->mask = size - 1;
    set->cap = (Py_ssize_t)size / 2;
    set->keys = kept_take((size_t)set->cap * sizeof(uint64_t), 0);
    set->texts = kept_take((size_t)set->cap * sizeof(Span), 0);
    return set->slots == NULL || set->keys == NULL || set->texts == NULL ? -1 : 0;
}

void keyset_free(KeySet *set) {
    kept_give(set->slots, (set->mask + 1) * sizeof(uint32_t));
    kept_give(set->keys, (size_t)set->cap * sizeof(uint64_t));
    kept_give(set->texts, (size_t)set->cap * sizeof(Span));
}

static size_t spread(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key;
}

static int keyset_grow(KeySet *set) {
    if (set->n == set->cap) {
        Py_ssize_t cap = set->cap * 2;
        if (cap >= (Py_ssize_t)UINT32_MAX) return -1;
        uint64_t *keys = kept_take((size_t)cap * sizeof(uint64_t), 0);
        Span *texts = kept_take((size_t)cap * sizeof(Span), 0);
        if (keys == NULL || texts == NULL) {
            PyMem_RawFree(keys);
            PyMem_RawFree(texts);
            return -1;
        }
        memcpy(keys, set->keys, (size_t)set->n * sizeof(uint64_t));
        memcpy(texts, set->texts, (size_t)set->n * sizeof(Span));
        kept_give(set->keys, (size_t)set->cap * sizeof(uint64_t));
        kept_give(set->texts, (size_t)set->cap * sizeof(Span));
        set->keys = keys;
        set->texts = texts;
        set->cap = cap;
    }
    if ((size_t)(set->n + 1) * 2 > set->mask + 1) {
        size_t size = (set->mask + 1) * 2;
        uint32_t *slots = kept_take(size * sizeof(uint32_t), 1);
        if (slots == NULL) return -1;
        for (Py_ssize_t i = 0; i < set->n; i++) {
            size_t k = spread(set->keys[i]) & (size - 1);
            while (slots[k]) k = (k + 1) & (size - 1);
            slots[k] = (uint32_t)(i + 1);
        }
        kept_give(set->slots, (set->mask + 1) * sizeof(uint32_t));
        set->slots = slots;
        set->mask = size - 1;
    }
    return 0;
}

/* 0: added; 1: the text is there already, or many texts share the key (made so, never by
 * chance): the blob goes the Python way; -1: no memory */
int keyset_add(KeySet *set, uint64_t key, Span text) {
    if (keyset_grow(set) < 0) return -1; /* room for one more, first */
    size_t j = spread(key) & set->mask;
    int sharing = 0;
    for (uint32_t at; (at = set->slots[j]) != 0; j = (j + 1) & set->mask) {
        if (set->keys[at - 1] == key && (same(set->texts[at - 1], text) || ++sharing > 16))
            return 1;
    }
    set->keys[set->n] = key;
    set->texts[set->n] = text;
    set->slots[j] = (uint32_t)++set->n;
    return 0;
}

int lefts_push(Lefts *lefts, Py_ssize_t index, const char *p, const char *stop) {
    if (lefts->n == lefts->cap) {
        Py_ssize_t cap = lefts->cap ? lefts->cap * 2 : 64;
        Left *items = PyMem_RawRealloc(lefts->items, (size_t)cap * sizeof(Left));
        if (items == NULL) return -1;
        lefts->items = items;
        lefts->cap = cap;
    }
    lefts->items[lefts->n].index = index;
    lefts->items[lefts->n].p = p;
    lefts->items[lefts->n].stop = stop;
    lefts->n++;
    return 0;
}

static void radix_sort(uint64_t *keys, uint64_t *spare, Py_ssize_t n) {
    /* 11 bits a pass, the least significant first (buckets that stay in the caches); a pass
     * where every key has the same digit is skipped */
    Py_ssize_t counts[2048]; /* (on the stack: two threads may sort at once) */
    int swapped = 0;
    for (int shift = 0; shift < 64; shift += 11) {
        memset(counts, 0, sizeof(counts));
        for (Py_ssize_t i = 0; i < n; i++) counts[(keys[i] >> shift) & 2047]++;
        if (n == 0 || counts[(keys[0] >> shift) & 2047] == n) continue;
        Py_ssize_t at = 0;
        for (int d = 0; d < 2048; d++) {
            Py_ssize_t c = counts[d];
            counts[d] = at;
            at += c;
        }
        for (Py_ssize_t i = 0; i < n; i++) spare[counts[(keys[i] >> shift) & 2047]++] = keys[i];
        uint64_t *swap = keys;
        keys = spare;
        spare = swap;
        swapped = !swapped;
    }
    if (swapped) memcpy(spare, keys, (size_t)n * sizeof(uint64_t));
}

/* Every key of the arrays (8-byte keys), in one buffer of PyMem_RawMalloc's (free it),
 * and their count; NULL: an error set. */
static uint64_t *gathered(PyObject *arrays, Py_ssize_t *count) {
    Py_ssize_t arrays_n = PyList_GET_SIZE(arrays), n = 0;
    for (Py_ssize_t i = 0; i < arrays_n; i++) {
        Py_buffer view;
        if (PyObject_GetBuffer(PyList_GET_ITEM(arrays, i), &view, PyBUF_SIMPLE) < 0) return NULL;
        if (view.len % 8 != 0) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_ValueError, "arrays of 8-byte keys");
            return NULL;
        }
        n += view.len / 8;
        PyBuffer_Release(&view);
    }
    uint64_t *keys = PyMem_RawMalloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
    if (keys == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < arrays_n; i++) {
        Py_buffer view;
        if (PyObject_GetBuffer(PyList_GET_ITEM(arrays, i), &view, PyBUF_SIMPLE) < 0) {
            PyMem_RawFree(keys);
            return NULL;
        }
        Py_ssize_t items = view.len / 8;
        if (at + items > n) items = n - at; /* an array grown meanwhile: not possible here */
        memcpy(keys + at, view.buf, (size_t)items * 8);
        at += items;
        PyBuffer_Release(&view);
    }
    *count = at;
    return keys;
}

PyObject *repeated(PyObject *module, PyObject *args) {
    PyObject *arrays;
    int is_signed;
    if (!PyArg_ParseTuple(args, "O!p", &PyList_Type, &arrays, &is_signed)) return NULL;
    Py_ssize_t at = 0;
    uint64_t *keys = gathered(arrays, &at);
    if (keys == NULL) return NULL;
    uint64_t *spare = PyMem_RawMalloc((size_t)(at > 0 ? at : 1) * sizeof(uint64_t));
    PyObject *again = NULL, *sorted = NULL, *result = NULL;
    if (spare == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    uint64_t flip = is_signed ? (1ull << 63) : 0; /* signed order as unsigned order */
    Py_BEGIN_ALLOW_THREADS /* the ids' and the refs' keys are sorted side by side */
    for (Py_ssize_t i = 0; i < at; i++) keys[i] ^= flip;
    radix_sort(keys, spare, at);
    Py_END_ALLOW_THREADS
    again = PySet_New(NULL);
    if (again == NULL) goto done;
    for (Py_ssize_t i = 1; i < at; i++) {
        if (keys[i] != keys[i - 1]) continue;
        uint64_t key = keys[i] ^ flip;
        PyObject *value = is_signed ? PyLong_FromLongLong((long long)key)
                                    : PyLong_FromUnsignedLongLong(key);
        if (value == NULL || PySet_Add(again, value) < 0) {
            Py_XDECREF(value);
            goto done;
        }
        Py_DECREF(value);
    }
    for (Py_ssize_t i = 0; i < at; i++) keys[i] ^= flip;
    sorted = PyBytes_FromStringAndSize((const char *)keys, at * 8);
    if (sorted == NULL) goto done;
    result = PyTuple_Pack(2, again, sorted);
done:
    Py_XDECREF(again);
    Py_XDECREF(sorted);
    PyMem_RawFree(keys);
    PyMem_RawFree(spare);
    return result;
}

/* The piles a key is dealt to: the top bits of its product with 2^64 / the golden ratio. */
static size_t pile_of(uint64_t key, int bits) {
    return bits ? (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - bits)) : 0;
}

/* The keys found twice or more (each once, or more: the caller makes a set of them) among
 * keys[0..n): dealt into piles by pile_of (a pass to count, one to deal), each pile, a few
 * hundred keys, looked through with a table of its own that stays in the caches. Equal keys
 * are dealt to one pile, so a key twice is found in its pile. -1: no memory. */
static Py_ssize_t twice_of(uint64_t *keys, Py_ssize_t n, uint64_t *twice) {
    int bits = 0;
    while (bits < 16 && ((Py_ssize_t)1 << bits) * 256 < n) bits++;
    size_t piles = (size_t)1 << bits;
    Py_ssize_t *starts = PyMem_RawCalloc(piles + 1, sizeof(Py_ssize_t));
    Py_ssize_t *cursors = PyMem_RawMalloc(piles * sizeof(Py_ssize_t));
    uint64_t *dealt = PyMem_RawMalloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
    uint64_t *table = NULL;
    unsigned char *used = NULL;
    Py_ssize_t found = -1;
    if (starts == NULL || cursors == NULL || dealt == NULL) goto done;
    for (Py_ssize_t i = 0; i < n; i++) starts[pile_of(keys[i], bits) + 1]++;
    Py_ssize_t largest = 0;
    for (size_t p = 0; p < piles; p++) {
        if (starts[p + 1] > largest) largest = starts[p + 1];
        starts[p + 1] += starts[p];
        cursors[p] = starts[p];
    }
    for (Py_ssize_t i = 0; i < n; i++) dealt[cursors[pile_of(keys[i], bits)]++] = keys[i];
    size_t size = 16;
    while (size < (size_t)largest * 2) size *= 2;
    table = PyMem_RawMalloc(size * sizeof(uint64_t));
    used = PyMem_RawMalloc(size);
    if (table == NULL || used == NULL) goto done;
    found = 0;
    for (size_t p = 0; p < piles; p++) {
        Py_ssize_t from = starts[p], to = starts[p + 1];
        if (to - from < 2) continue;
        size_t mask = 15;
        while (mask + 1 < (size_t)(to - from) * 2) mask = mask * 2 + 1;
        memset(used, 0, mask + 1);
        for (Py_ssize_t i = from; i < to; i++) {
            uint64_t key = dealt[i];
            size_t j = spread(key) & mask;
            while (used[j] && table[j] != key) j = (j + 1) & mask;
            if (used[j]) {
                twice[found++] = key;
            } else {
                used[j] = 1;
                table[j] = key;
            }
        }
    }
done:
    PyMem_RawFree(starts);
    PyMem_RawFree(cursors);
    PyMem_RawFree(dealt);
    PyMem_RawFree(table);
    PyMem_RawFree(used);
    return found;
}

PyObject *repeats(PyObject *module, PyObject *args) {
    PyObject *arrays;
    int is_signed;
    if (!PyArg_ParseTuple(args, "O!p", &PyList_Type, &arrays, &is_signed)) return NULL;
    Py_ssize_t n = 0;
    uint64_t *keys = gathered(arrays, &n);
    if (keys == NULL) return NULL;
    PyObject *again = NULL;
    Py_ssize_t found;
    Py_BEGIN_ALLOW_THREADS /* the ids' and the refs' keys are looked through side by side */
    found = twice_of(keys, n, keys); /* (the keys twice written over the keys, behind) */
    Py_END_ALLOW_THREADS
    if (found < 0) {
        PyErr_NoMemory();
        goto done;
    }
    again = PySet_New(NULL);
    for (Py_ssize_t i = 0; again != NULL && i < found; i++) {
        PyObject *value = is_signed ? PyLong_FromLongLong((long long)keys[i])
                                    : PyLong_FromUnsignedLongLong(keys[i]);
        if (value == NULL || PySet_Add(again, value) < 0) Py_CLEAR(again);
        Py_XDECREF(value);
    }
done:
    PyMem_RawFree(keys);
    return again;
}
