/* spikes_found(): what spikes.spikes finds on the total basis, from the usage rows of a folded
 * ledger: the days, then the sessions, whose tokens are >= factor x the median of the ones
 * before them (up to day_lookback days, session_lookback sessions; once history exist).
 *
 * Row keys are (bead, actor, model, day, shape, cut, session), rows [records, input, output,
 * cache_read, cache_write, reasoning, unsplit total, cost, first ts] (ledger/usage.py). A row's
 * tokens are its unsplit total when its shape says so, else input + output + cache_read +
 * cache_write. Days are taken in the order of their text, sessions (a non-empty str; None: no
 * session) in the order of their first ts (the least, as str compares), those of one first ts
 * in the order they are first met: as spikes.py sorts them. It gives ([(day, tokens, median)],
 * [(session, tokens, median)]), the median an int (an odd window) or a float (an even one), as
 * above_trailing_median does.
 *
 * Exact: every value and twice every median is within 2^53 (a double holds it), so a median,
 * factor x median and its comparison with an int are what Python's arithmetic gives; the call
 * declines (None) otherwise, and for a factor that is not a float, a history that is not an
 * int, or any key or row not of that shape: Python finds them then. The sessions are told
 * apart by their text in a table of this file's own (no reference taken: after pr's fork, a
 * dict of them wrote to the pages of every session's text). */
#include "compiled.h"

#define UNSPLIT 2 /* shape bit (usage.py) */
#define FIRST 8   /* a row's first ts */
#define EXACT ((int64_t)1 << 53)

typedef struct {
    PyObject *key;   /* a day or a session (borrowed from the rows) */
    PyObject *first; /* a session's first ts (borrowed) */
    Py_ssize_t order; /* when it was first met */
    Py_hash_t hash;
    int64_t tokens;
} Entry;

typedef struct {
    Entry *entries;
    Py_ssize_t n, cap;
    Py_ssize_t *slots; /* open addressing: index + 1 into entries, 0 empty */
    Py_ssize_t mask;
} Table;

static int grow(Table *t) {
    Py_ssize_t cap = t->cap ? t->cap * 2 : 256, size = cap * 2;
    Entry *entries = PyMem_Realloc(t->entries, (size_t)cap * sizeof(Entry));
    Py_ssize_t *slots = PyMem_Calloc((size_t)size, sizeof(Py_ssize_t));
    if (entries == NULL || slots == NULL) {
        if (entries != NULL) t->entries = entries;
        PyMem_Free(slots);
        PyErr_NoMemory();
        return -1;
    }
    t->entries = entries;
    PyMem_Free(t->slots);
    t->slots = slots;
    t->cap = cap;
    t->mask = size - 1;
    for (Py_ssize_t i = 0; i < t->n; i++) {
        size_t at = (size_t)entries[i].hash & (size_t)t->mask;
        while (slots[at]) at = (at + 1) & (size_t)t->mask;
        slots[at] = i + 1;
    }
    return 0;
}

/* key's entry (a new one, at zero, the first time); NULL on an error. (A str keeps its hash:
 * reading it writes nothing.) */
static Entry *entry_of(Table *t, PyObject *key) {
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1) return NULL;
    if (t->n * 2 >= t->cap && grow(t) < 0) return NULL; /* (slots: twice cap, under 1/4 full) */
    size_t at = (size_t)hash & (size_t)t->mask;
    for (Py_ssize_t i; (i = t->slots[at]) != 0; at = (at + 1) & (size_t)t->mask) {
        Entry *have = &t->entries[i - 1];
        if (have->key == key || (have->hash == hash && PyUnicode_Compare(have->key, key) == 0))
            return have;
    }
    Entry *e = &t->entries[t->n];
    e->key = key;
    e->first = NULL;
    e->order = t->n;
    e->hash = hash;
    e->tokens = 0;
    t->slots[at] = ++t->n;
    return e;
}

static int by_key(const void *a, const void *b) { /* days: distinct exact str */
    return PyUnicode_Compare(((const Entry *)a)->key, ((const Entry *)b)->key);
}

static int by_first(const void *a, const void *b) { /* then first met: a stable sort */
    const Entry *x = a, *y = b;
    int c = PyUnicode_Compare(x->first, y->first);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* above_trailing_median over entries (sorted): [(key, tokens, median)], or NULL */
static PyObject *trailing(Entry *e, Py_ssize_t n, Py_ssize_t lookback, Py_ssize_t start,
                          double factor) {
    PyObject *found = PyList_New(0);
    int64_t *window = PyMem_Malloc((size_t)(lookback + 1) * sizeof(int64_t));
    Py_ssize_t size = 0;
    if (found == NULL || window == NULL) goto failed;
    for (Py_ssize_t index = 0; index < n; index++) {
        if (index >= start && size > 0) {
            Py_ssize_t half = size / 2;
            int64_t twice = size % 2 ? 2 * window[half] : window[half - 1] + window[half];
            double median = size % 2 ? (double)window[half] : (double)twice / 2.0;
            if (twice != 0 && (double)e[index].tokens >= factor * median) {
                PyObject *m = size % 2 ? PyLong_FromLongLong(window[half])
                                       : PyFloat_FromDouble(median);
                PyObject *hit = m ? Py_BuildValue("(OLN)", e[index].key,
                                                  (long long)e[index].tokens, m)
                                  : NULL;
                if (hit == NULL || PyList_Append(found, hit) < 0) {
                    Py_XDECREF(hit);
                    goto failed;
                }
                Py_DECREF(hit);
            }
        }
        /* the window moves on: this value in (in order), the one lookback back out */
        int64_t value = e[index].tokens;
        Py_ssize_t at = size;
        while (at > 0 && window[at - 1] > value) at--;
        memmove(window + at + 1, window + at, (size_t)(size - at) * sizeof(int64_t));
        window[at] = value;
        size++;
        if (size > lookback) {
            int64_t out = e[index - lookback].tokens;
            Py_ssize_t gone = 0;
            while (window[gone] != out) gone++;
            memmove(window + gone, window + gone + 1, (size_t)(size - gone - 1) * sizeof(int64_t));
            size--;
        }
    }
    PyMem_Free(window);
    return found;
failed:
    PyMem_Free(window);
    Py_XDECREF(found);
    return NULL;
}

/* the rows' tokens per day and per session into days and sessions; 0: declined, -1: error */
static int summed(PyObject *rows, Table *days, Table *sessions) {
    PyObject *key, *row;
    Py_ssize_t pos = 0;
    int ok = 1;
    while (PyDict_Next(rows, &pos, &key, &row)) {
        if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != 7 || !PyList_CheckExact(row) ||
            PyList_GET_SIZE(row) <= FIRST)
            return 0;
        PyObject *day = PyTuple_GET_ITEM(key, 3), *session = PyTuple_GET_ITEM(key, 6);
        int64_t shape = int64_of(PyTuple_GET_ITEM(key, 4), &ok), tokens = 0;
        if (shape & UNSPLIT) {
            tokens = int64_of(PyList_GET_ITEM(row, 6), &ok);
        } else {
            for (int i = 1; i <= 4; i++)
                if (__builtin_add_overflow(tokens, int64_of(PyList_GET_ITEM(row, i), &ok), &tokens))
                    ok = 0;
        }
        if (!ok || !PyUnicode_CheckExact(day) ||
            !(session == Py_None || PyUnicode_CheckExact(session)))
            return 0;
        Entry *e = entry_of(days, day);
        if (e == NULL) return -1;
        if (__builtin_add_overflow(e->tokens, tokens, &e->tokens)) return 0;
        if (session == Py_None || PyUnicode_GET_LENGTH(session) == 0) continue;
        PyObject *first = PyList_GET_ITEM(row, FIRST);
        if (!PyUnicode_CheckExact(first)) return 0;
        e = entry_of(sessions, session);
        if (e == NULL) return -1;
        if (e->first == NULL || PyUnicode_Compare(first, e->first) < 0) e->first = first;
        if (__builtin_add_overflow(e->tokens, tokens, &e->tokens)) return 0;
    }
    for (Py_ssize_t i = 0; i < days->n; i++)
        if (days->entries[i].tokens > EXACT / 2 || days->entries[i].tokens < -EXACT / 2) return 0;
    for (Py_ssize_t i = 0; i < sessions->n; i++)
        if (sessions->entries[i].tokens > EXACT / 2 || sessions->entries[i].tokens < -EXACT / 2)
            return 0;
    return 1;
}

PyObject *spikes_found(PyObject *self, PyObject *args) {
    PyObject *rows, *factor, *history, *result = NULL, *found_days = NULL, *found_sessions;
    Py_ssize_t day_lookback, session_lookback;
    if (!PyArg_ParseTuple(args, "O!OOnn", &PyDict_Type, &rows, &factor, &history, &day_lookback,
                          &session_lookback))
        return NULL;
    int ok = 1;
    int64_t since = int64_of(history, &ok);
    if (!ok || !PyFloat_CheckExact(factor) || day_lookback < 1 || session_lookback < 1)
        Py_RETURN_NONE; /* declined: Python finds them */
    Py_ssize_t start = since < 1 ? 1 : since > PY_SSIZE_T_MAX ? PY_SSIZE_T_MAX : (Py_ssize_t)since;
    Table days = {0}, sessions = {0};
    int got = summed(rows, &days, &sessions);
    if (got < 0) goto done;
    if (got == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    double f = PyFloat_AS_DOUBLE(factor);
    if (days.n > 1) qsort(days.entries, (size_t)days.n, sizeof(Entry), by_key);
    if (sessions.n > 1) qsort(sessions.entries, (size_t)sessions.n, sizeof(Entry), by_first);
    found_days = trailing(days.entries, days.n, day_lookback, start, f);
    found_sessions = found_days ? trailing(sessions.entries, sessions.n, session_lookback, start, f)
                                : NULL;
    if (found_sessions != NULL) result = Py_BuildValue("(ON)", found_days, found_sessions);
done:
    Py_XDECREF(found_days);
    PyMem_Free(days.entries);
    PyMem_Free(days.slots);
    PyMem_Free(sessions.entries);
    PyMem_Free(sessions.slots);
    return result;
}
