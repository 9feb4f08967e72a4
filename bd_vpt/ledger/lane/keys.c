/* Keys of a blob's ids and source_refs (as rows.id_keys and rows.ref_keys make them), the
 * sets that find a repeat among its lines, the lines left for the Python lane, and the sort
 * that finds keys in two blobs (rows.repeated). */
#include "lane.h"

static uint32_t crc_table[256];

static uint32_t crc_more(uint32_t crc, const char *p, Py_ssize_t n) {
    crc = ~crc;
    for (Py_ssize_t i = 0; i < n; i++) crc = crc_table[(crc ^ (unsigned char)p[i]) & 0xff] ^ (crc >> 8);
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
        crc_table[i] = c;
    }
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

int keyset_init(KeySet *set) {
    set->entries = PyMem_RawCalloc(64, sizeof(Entry));
    set->mask = 63;
    set->used = 0;
    return set->entries == NULL ? -1 : 0;
}

static size_t spread(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key;
}

/* 0: added; 1: the text is there already, or many texts share the key (made so, never by
 * chance): the blob goes the Python way; -1: no memory */
int keyset_add(KeySet *set, uint64_t key, Span text) {
    size_t j = spread(key) & set->mask;
    int sharing = 0;
    while (set->entries[j].used) {
        Entry *e = &set->entries[j];
        if (e->key == key) {
            if (same(e->text, text) || ++sharing > 16) return 1;
        }
        j = (j + 1) & set->mask;
    }
    set->entries[j].used = 1;
    set->entries[j].key = key;
    set->entries[j].text = text;
    if (++set->used * 2 > set->mask + 1) {
        size_t size = (set->mask + 1) * 2;
        Entry *entries = PyMem_RawCalloc(size, sizeof(Entry));
        if (entries == NULL) return -1;
        for (size_t i = 0; i <= set->mask; i++) {
            if (!set->entries[i].used) continue;
            size_t k = spread(set->entries[i].key) & (size - 1);
            while (entries[k].used) k = (k + 1) & (size - 1);
            entries[k] = set->entries[i];
        }
        PyMem_RawFree(set->entries);
        set->entries = entries;
        set->mask = size - 1;
    }
    return 0;
}

int keys64_push(Keys64 *k, uint64_t value) {
    if (k->n == k->cap) {
        Py_ssize_t cap = k->cap ? k->cap * 2 : 256;
        uint64_t *items = PyMem_RawRealloc(k->items, (size_t)cap * sizeof(uint64_t));
        if (items == NULL) return -1;
        k->items = items;
        k->cap = cap;
    }
    k->items[k->n++] = value;
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

PyObject *repeated(PyObject *module, PyObject *args) {
    PyObject *arrays;
    int is_signed;
    if (!PyArg_ParseTuple(args, "O!p", &PyList_Type, &arrays, &is_signed)) return NULL;
    Py_ssize_t count = PyList_GET_SIZE(arrays), n = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
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
    uint64_t *spare = PyMem_RawMalloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
    PyObject *again = NULL, *sorted = NULL, *result = NULL;
    if (keys == NULL || spare == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_buffer view;
        if (PyObject_GetBuffer(PyList_GET_ITEM(arrays, i), &view, PyBUF_SIMPLE) < 0) goto done;
        Py_ssize_t items = view.len / 8;
        if (at + items > n) items = n - at; /* an array grown meanwhile: not possible here */
        memcpy(keys + at, view.buf, (size_t)items * 8);
        at += items;
        PyBuffer_Release(&view);
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
