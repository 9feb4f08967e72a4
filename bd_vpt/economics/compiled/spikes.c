/* spike_sums(): the sums spikes.spikes judges, on the total basis, from the usage rows of a
 * folded ledger: tokens per UTC day, and per session with its first time.
 *
 * Row keys are (bead, actor, model, day, shape, cut, session), rows [records, input, output,
 * cache_read, cache_write, reasoning, unsplit total, cost, first ts] (ledger/usage.py). A row's
 * tokens are its unsplit total when its shape says so, else input + output + cache_read +
 * cache_write. It gives what spikes.py's loop gives, in the same orders (each dict in the order
 * its keys are first met): {day: tokens}, {session: its first ts (the least, as str compares)}
 * and {session: tokens}, for the sessions that are a non-empty str (None: no session). Every
 * sum is exact in 64 bits, or the whole call declines (None), as it does for any key or row not
 * of that shape: Python sums them then, with its unbounded ints. */
#include "compiled.h"

#define UNSPLIT 2 /* shape bit (usage.py) */
#define FIRST 8   /* a row's first ts */

typedef struct {
    int64_t *tokens;
    PyObject **firsts; /* borrowed from the rows */
    Py_ssize_t n, cap;
} Tally;

/* an exact int of 64 bits; 0 with *ok = 0 otherwise */
static int64_t exact(PyObject *x, int *ok) {
    if (!PyLong_CheckExact(x)) {
        *ok = 0;
        return 0;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        *ok = 0;
        return 0;
    }
    return (int64_t)v;
}

/* key's place in tally (a new one, at zero, the first time); *fresh: whether it is new */
static Py_ssize_t place(PyObject *index, Tally *tally, PyObject *key, int *fresh) {
    PyObject *at = PyDict_GetItemWithError(index, key);
    *fresh = 0;
    if (at != NULL) return PyLong_AsSsize_t(at);
    if (PyErr_Occurred()) return -1;
    if (tally->n == tally->cap) {
        Py_ssize_t cap = tally->cap ? tally->cap * 2 : 1024;
        int64_t *tokens = PyMem_Realloc(tally->tokens, (size_t)cap * sizeof(int64_t));
        if (tokens == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        tally->tokens = tokens;
        PyObject **firsts = PyMem_Realloc(tally->firsts, (size_t)cap * sizeof(PyObject *));
        if (firsts == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        tally->firsts = firsts;
        tally->cap = cap;
    }
    tally->tokens[tally->n] = 0;
    tally->firsts[tally->n] = NULL;
    PyObject *number = PyLong_FromSsize_t(tally->n);
    if (number == NULL || PyDict_SetItem(index, key, number) < 0) {
        Py_XDECREF(number);
        return -1;
    }
    Py_DECREF(number);
    *fresh = 1;
    return tally->n++;
}

/* {key: tokens} (firsts: {key: first ts}) from index {key: place}, in index's order */
static PyObject *tallied(PyObject *index, Tally *tally, int firsts) {
    PyObject *out = PyDict_New(), *key, *number;
    Py_ssize_t pos = 0;
    while (out != NULL && PyDict_Next(index, &pos, &key, &number)) {
        Py_ssize_t at = PyLong_AsSsize_t(number);
        PyObject *value = firsts ? Py_NewRef(tally->firsts[at])
                                 : PyLong_FromLongLong(tally->tokens[at]);
        if (value == NULL || PyDict_SetItem(out, key, value) < 0) Py_CLEAR(out);
        Py_XDECREF(value);
    }
    return out;
}

PyObject *spike_sums(PyObject *self, PyObject *args) {
    PyObject *rows;
    if (!PyArg_ParseTuple(args, "O!", &PyDict_Type, &rows)) return NULL;
    PyObject *day_at = PyDict_New(), *session_at = PyDict_New(), *result = NULL;
    PyObject *days = NULL, *firsts = NULL, *sessions = NULL;
    Tally by_day = {NULL, NULL, 0, 0}, by_session = {NULL, NULL, 0, 0};
    int ok = 1, fresh;
    if (day_at == NULL || session_at == NULL) goto done;
    PyObject *key, *row;
    Py_ssize_t pos = 0;
    while (ok && PyDict_Next(rows, &pos, &key, &row)) {
        if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != 7 || !PyList_CheckExact(row) ||
            PyList_GET_SIZE(row) <= FIRST) {
            ok = 0;
            break;
        }
        PyObject *day = PyTuple_GET_ITEM(key, 3), *session = PyTuple_GET_ITEM(key, 6);
        int64_t shape = exact(PyTuple_GET_ITEM(key, 4), &ok), tokens = 0;
        if (shape & UNSPLIT) {
            tokens = exact(PyList_GET_ITEM(row, 6), &ok);
        } else {
            for (int i = 1; i <= 4; i++)
                if (__builtin_add_overflow(tokens, exact(PyList_GET_ITEM(row, i), &ok), &tokens))
                    ok = 0;
        }
        if (!ok || !PyUnicode_CheckExact(day) ||
            !(session == Py_None || PyUnicode_CheckExact(session))) {
            ok = 0;
            break;
        }
        Py_ssize_t at = place(day_at, &by_day, day, &fresh);
        if (at < 0) goto done;
        if (__builtin_add_overflow(by_day.tokens[at], tokens, &by_day.tokens[at])) ok = 0;
        if (session == Py_None || PyUnicode_GET_LENGTH(session) == 0) continue;
        PyObject *first = PyList_GET_ITEM(row, FIRST);
        if (!PyUnicode_CheckExact(first)) {
            ok = 0;
            break;
        }
        at = place(session_at, &by_session, session, &fresh);
        if (at < 0) goto done;
        if (fresh || PyUnicode_Compare(first, by_session.firsts[at]) < 0)
            by_session.firsts[at] = first;
        if (__builtin_add_overflow(by_session.tokens[at], tokens, &by_session.tokens[at])) ok = 0;
    }
    if (!ok) { /* declined: Python sums them */
        result = Py_NewRef(Py_None);
        goto done;
    }
    days = tallied(day_at, &by_day, 0);
    firsts = days ? tallied(session_at, &by_session, 1) : NULL;
    sessions = firsts ? tallied(session_at, &by_session, 0) : NULL;
    if (sessions != NULL) result = PyTuple_Pack(3, days, firsts, sessions);
done:
    PyMem_Free(by_day.tokens);
    PyMem_Free(by_day.firsts);
    PyMem_Free(by_session.tokens);
    PyMem_Free(by_session.firsts);
    Py_XDECREF(day_at);
    Py_XDECREF(session_at);
    Py_XDECREF(days);
    Py_XDECREF(firsts);
    Py_XDECREF(sessions);
    return result;
}
