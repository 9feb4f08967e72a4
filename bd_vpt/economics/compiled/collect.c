/* collect(): facts.collect_rows' sums with no --by, tokens on the total basis: one bucket per
 * bead (a fleet summary), or per bead and period (a trend: period_of(day) gives a day's period,
 * asked once per day), from the usage rows of a folded ledger; with a window (Win below), of
 * the rows collect_rows keeps.
 *
 * Row keys are (bead, actor, model, day, shape, cut, session), rows [records, input, output,
 * cache_read, cache_write, reasoning, unsplit total, cost in picodollars, first ts]
 * (ledger/usage.py). It gives what collect_rows gives, in the same orders: buckets
 * {(bead, ""): [tokens, input, output, cache_read, cache_write, reasoning, unsplit, cost,
 * unpriced records, records, unpriced tokens]}, bead_days {bead: {day: cost in dollars}},
 * unpriced_days {bead: {days}} and the number of usage records. Every sum is exact in 64 bits
 * or the whole call declines (None), as it does for any key or row not of that shape: Python
 * sums them then, with its unbounded ints. */
#include "compiled.h"

#define UNPRICED 1 /* shape bits (usage.py) */
#define UNSPLIT 2
#define SLOTS 11

typedef struct {
    int64_t (*sums)[SLOTS];
    Py_ssize_t n, cap;
} Sums;

/* an exact int of 64 bits; 0 with *ok = 0 otherwise (compiled.h) */
int64_t int64_of(PyObject *x, int *ok) {
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

static void add(int64_t *to, int64_t x, int *ok) {
    if (__builtin_add_overflow(*to, x, to)) *ok = 0;
}

/* days[day] = days.get(day, 0) + cost, in 64 bits */
static int add_day(PyObject *days, PyObject *day, int64_t cost, int *ok) {
    PyObject *had = PyDict_GetItemWithError(days, day);
    if (had == NULL && PyErr_Occurred()) return -1;
    int64_t sum = had == NULL ? 0 : int64_of(had, ok);
    add(&sum, cost, ok);
    PyObject *now = PyLong_FromLongLong(sum);
    if (now == NULL) return -1;
    int bad = PyDict_SetItem(days, day, now);
    Py_DECREF(now);
    return bad;
}

/* the bucket's slot in sums (a new one, zeros, the first time); key: its bucket's key */
static Py_ssize_t slot_of(PyObject *index, Sums *sums, PyObject *key) {
    PyObject *at = PyDict_GetItemWithError(index, key);
    if (at != NULL) return PyLong_AsSsize_t(at);
    if (PyErr_Occurred()) return -1;
    if (sums->n == sums->cap) {
        Py_ssize_t cap = sums->cap ? sums->cap * 2 : 1024;
        void *grown = PyMem_Realloc(sums->sums, (size_t)cap * sizeof(*sums->sums));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        sums->sums = grown;
        sums->cap = cap;
    }
    memset(sums->sums[sums->n], 0, sizeof(*sums->sums));
    PyObject *number = PyLong_FromSsize_t(sums->n);
    if (number == NULL || PyDict_SetItem(index, key, number) < 0) {
        Py_XDECREF(number);
        return -1;
    }
    Py_DECREF(number);
    return sums->n++;
}

/* {day: picodollars} -> {day: dollars}, as cost / PICO divides (exactly rounded) */
static int to_dollars(PyObject *bead_days) {
    PyObject *bead, *days, *pico = PyLong_FromLongLong(1000000000000LL);
    Py_ssize_t pos = 0;
    if (pico == NULL) return -1;
    while (PyDict_Next(bead_days, &pos, &bead, &days)) {
        PyObject *day, *cost;
        Py_ssize_t at = 0;
        while (PyDict_Next(days, &at, &day, &cost)) {
            PyObject *dollars = PyNumber_TrueDivide(cost, pico);
            if (dollars == NULL || PyDict_SetItem(days, day, dollars) < 0) {
                Py_XDECREF(dollars);
                Py_DECREF(pico);
                return -1;
            }
            Py_DECREF(dollars);
        }
    }
    Py_DECREF(pico);
    return 0;
}

/* the bucket's key: (bead, "") or (bead, period, "") */
static PyObject *bucket_key(PyObject *bead, PyObject *day, PyObject *period_of, PyObject *periods,
                            PyObject *empty) {
    if (period_of == Py_None) return PyTuple_Pack(2, bead, empty);
    PyObject *period = PyDict_GetItemWithError(periods, day);
    if (period == NULL) {
        if (PyErr_Occurred()) return NULL;
        period = PyObject_CallOneArg(period_of, day);
        if (period == NULL || PyDict_SetItem(periods, day, period) < 0) {
            Py_XDECREF(period);
            return NULL;
        }
        Py_DECREF(period); /* (periods holds it) */
    }
    return PyTuple_Pack(3, bead, period, empty);
}

/* A window as collect_rows reads it: the days its ends cut (their rows placed in or out),
 * the first day (low; the day itself left out when low_cut) and the day it ends before. */
typedef struct {
    PyObject *halves, *low, *high;
    int low_cut;
    int64_t inside;
} Win;

/* 1: the row of this day (and cut) is in the window; 0: not; -1: an error; 2: declined (a day
 * the window cuts whose row was not placed: collect_rows raises) */
static int in_window(const Win *win, PyObject *day, PyObject *cut, int *ok) {
    int halved = PySet_Contains(win->halves, day);
    if (halved < 0) return -1;
    if (halved) {
        int64_t placed = int64_of(cut, ok);
        if (!*ok || placed == 0) return 2;
        return placed == win->inside;
    }
    if (win->low != Py_None) {
        int c = PyUnicode_Compare(day, win->low);
        if (c < 0 || (c == 0 && win->low_cut)) return 0;
    }
    return win->high == Py_None || PyUnicode_Compare(day, win->high) < 0;
}

PyObject *collect(PyObject *self, PyObject *args) {
    PyObject *rows, *period_of = Py_None, *window = Py_None;
    Win win;
    if (!PyArg_ParseTuple(args, "O!|OO", &PyDict_Type, &rows, &period_of, &window)) return NULL;
    if (window != Py_None && !PyArg_ParseTuple(window, "O!OpOL", &PyFrozenSet_Type, &win.halves,
                                               &win.low, &win.low_cut, &win.high, &win.inside))
        return NULL;
    if (window != Py_None && !((win.low == Py_None || PyUnicode_CheckExact(win.low)) &&
                               (win.high == Py_None || PyUnicode_CheckExact(win.high)))) {
        PyErr_SetString(PyExc_TypeError, "collect(): the window's days are str or None");
        return NULL;
    }
    PyObject *index = PyDict_New(), *bead_days = PyDict_New(), *unpriced = PyDict_New();
    PyObject *periods = PyDict_New(), *empty = PyUnicode_FromString("");
    PyObject *result = NULL, *buckets = NULL;
    Sums sums = {NULL, 0, 0};
    int64_t records = 0;
    int ok = 1;
    if (index == NULL || bead_days == NULL || unpriced == NULL || periods == NULL || empty == NULL)
        goto done;
    PyObject *key, *row;
    Py_ssize_t pos = 0;
    while (ok && PyDict_Next(rows, &pos, &key, &row)) {
        if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != 7 || !PyList_CheckExact(row) ||
            PyList_GET_SIZE(row) < 8) {
            ok = 0;
            break;
        }
        PyObject *bead = PyTuple_GET_ITEM(key, 0), *day = PyTuple_GET_ITEM(key, 3);
        int64_t shape = int64_of(PyTuple_GET_ITEM(key, 4), &ok);
        int64_t v[8];
        for (int i = 0; i < 8; i++) v[i] = int64_of(PyList_GET_ITEM(row, i), &ok);
        if (!ok || !(bead == Py_None || PyUnicode_CheckExact(bead)) || !PyUnicode_CheckExact(day))
            break;
        int64_t cost = v[7], count = v[0];
        if (bead != Py_None) {
            PyObject *days = PyDict_GetItemWithError(bead_days, bead);
            if (days == NULL) {
                if (PyErr_Occurred()) goto done;
                days = PyDict_New();
                if (days == NULL || PyDict_SetItem(bead_days, bead, days) < 0) {
                    Py_XDECREF(days);
                    goto done;
                }
                Py_DECREF(days);
            }
            if (add_day(days, day, cost, &ok) < 0) goto done;
            if (shape & UNPRICED) {
                PyObject *set = PyDict_GetItemWithError(unpriced, bead);
                if (set == NULL) {
                    if (PyErr_Occurred()) goto done;
                    set = PySet_New(NULL);
                    if (set == NULL || PyDict_SetItem(unpriced, bead, set) < 0) {
                        Py_XDECREF(set);
                        goto done;
                    }
                    Py_DECREF(set);
                }
                if (PySet_Add(set, day) < 0) goto done;
            }
        }
        if (window != Py_None) {
            int in = in_window(&win, day, PyTuple_GET_ITEM(key, 5), &ok);
            if (in < 0) goto done;
            if (in == 2) ok = 0;
            if (in != 1) continue;
        }
        add(&records, count, &ok);
        PyObject *bucket_is = bucket_key(bead, day, period_of, periods, empty);
        Py_ssize_t at = bucket_is ? slot_of(index, &sums, bucket_is) : -1;
        Py_XDECREF(bucket_is);
        if (at < 0) goto done;
        int64_t *bucket = sums.sums[at], tokens;
        if (shape & UNSPLIT) {
            tokens = v[6];
            add(&bucket[6], tokens, &ok);
        } else {
            tokens = v[1];
            add(&tokens, v[2], &ok);
            add(&tokens, v[3], &ok);
            add(&tokens, v[4], &ok);
        }
        add(&bucket[0], tokens, &ok);
        for (int i = 1; i <= 5; i++) add(&bucket[i], v[i], &ok);
        if (shape & UNPRICED) {
            add(&bucket[8], count, &ok);
            add(&bucket[10], tokens, &ok);
        } else {
            add(&bucket[7], cost, &ok);
        }
        add(&bucket[9], count, &ok);
    }
    if (!ok) { /* declined: Python sums them */
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (to_dollars(bead_days) < 0) goto done;
    buckets = PyDict_New();
    if (buckets == NULL) goto done;
    PyObject *bucket_is, *number;
    pos = 0;
    while (PyDict_Next(index, &pos, &bucket_is, &number)) {
        int64_t *bucket = sums.sums[PyLong_AsSsize_t(number)];
        PyObject *list = PyList_New(SLOTS);
        for (int i = 0; list && i < SLOTS; i++) {
            PyObject *x = PyLong_FromLongLong(bucket[i]);
            if (x == NULL) break;
            PyList_SET_ITEM(list, i, x);
        }
        if (list == NULL || PyErr_Occurred() || PyDict_SetItem(buckets, bucket_is, list) < 0) {
            Py_XDECREF(list);
            goto done;
        }
        Py_DECREF(list);
    }
    result = Py_BuildValue("(OOOL)", buckets, bead_days, unpriced, (long long)records);
done:
    PyMem_Free(sums.sums);
    Py_XDECREF(index);
    Py_XDECREF(bead_days);
    Py_XDECREF(unpriced);
    Py_XDECREF(buckets);
    Py_XDECREF(periods);
    Py_XDECREF(empty);
    return result;
}

