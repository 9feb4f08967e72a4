/* group(): facts.collect_rows' loop over the outcomes: each outcome record appended to its
 * bead's list (grouped: bead -> records, in the order the beads first come), and how many of
 * them a window holds.
 *
 * group(outcomes, grouped, since, until) fills grouped (an empty dict) and gives the number of
 * outcomes whose time t is since <= t < until, each end given as the format_ts text of the
 * first millisecond at or after it (facts.py makes them: a time in format_ts's shape is a
 * whole millisecond, and such texts sort as their moments do), or None for no end; with
 * counted false, every outcome counts. It declines (None, grouped left empty) an outcome list
 * that is not a list, a record that is not a dict or has no bead, and when it counts, a time
 * that is not a str in format_ts's shape naming a real moment: Python does the loop then,
 * errors included.
 *
 * days (a dict, optional): also filled with how many of the outcomes each UTC day holds (the
 * first ten characters of a time in format_ts's shape), those the window holds when counted:
 * periodic.outcome_days' counts (their order aside, which no reader uses). Every time must
 * then be in that shape, counted or not; it declines otherwise. */
#include "compiled.h"

#include <string.h>

static PyObject *k_bead, *k_ts;

/* -1: before since; 1: at or after until; 0: inside (ends: 24 ASCII characters, or NULL) */
static int place(const char *t, const char *since, const char *until) {
    if (since != NULL && memcmp(t, since, 24) < 0) return -1;
    if (until != NULL && memcmp(t, until, 24) >= 0) return 1;
    return 0;
}

static const char *end_of(PyObject *end, int *ok) {
    if (end == Py_None) return NULL;
    if (!stamp_ok(end)) *ok = 0;
    return *ok ? (const char *)PyUnicode_1BYTE_DATA(end) : NULL;
}

/* days[the day of ts] += 1 (last: the day counted before, and its text, to skip the lookup
 * of a run of one day); -1 on an error */
static int count_day(PyObject *days, PyObject *ts, PyObject **last_day, const char **last) {
    const char *t = (const char *)PyUnicode_1BYTE_DATA(ts);
    PyObject *day = *last_day;
    if (day == NULL || memcmp(t, *last, 10) != 0) {
        day = PyUnicode_Substring(ts, 0, 10);
        if (day == NULL) return -1;
        Py_XSETREF(*last_day, day);
        *last = (const char *)PyUnicode_1BYTE_DATA(day);
    }
    PyObject *have = PyDict_GetItemWithError(days, day);
    if (have == NULL && PyErr_Occurred()) return -1;
    long long n = have == NULL ? 0 : PyLong_AsLongLong(have);
    if (n == -1 && PyErr_Occurred()) return -1;
    PyObject *more = PyLong_FromLongLong(n + 1);
    if (more == NULL) return -1;
    int bad = PyDict_SetItem(days, day, more) < 0;
    Py_DECREF(more);
    return bad ? -1 : 0;
}

PyObject *group(PyObject *self, PyObject *args) {
    PyObject *outcomes, *grouped, *since_text, *until_text, *days = Py_None, *last_day = NULL;
    const char *last = NULL;
    int counted;
    if (!PyArg_ParseTuple(args, "OO!OOp|O", &outcomes, &PyDict_Type, &grouped, &since_text,
                          &until_text, &counted, &days))
        return NULL;
    if (days != Py_None && !(PyDict_CheckExact(days) && PyDict_GET_SIZE(days) == 0)) {
        PyErr_SetString(PyExc_TypeError, "days: an empty dict or None");
        return NULL;
    }
    if (k_bead == NULL) {
        k_bead = PyUnicode_InternFromString("bead");
        k_ts = PyUnicode_InternFromString("ts");
        if (k_bead == NULL || k_ts == NULL) return NULL;
    }
    int ok = PyList_CheckExact(outcomes) && PyDict_GET_SIZE(grouped) == 0;
    const char *since = ok ? end_of(since_text, &ok) : NULL;
    const char *until = ok ? end_of(until_text, &ok) : NULL;
    Py_ssize_t n = ok ? PyList_GET_SIZE(outcomes) : 0, inside = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        PyObject *record = PyList_GET_ITEM(outcomes, i);
        if (!PyDict_CheckExact(record)) {
            ok = 0;
            break;
        }
        PyObject *bead = PyDict_GetItemWithError(record, k_bead);
        if (bead == NULL) {
            ok = 0;
            break;
        }
        if (counted || days != Py_None) {
            PyObject *ts = PyDict_GetItemWithError(record, k_ts);
            if (ts == NULL || !stamp_ok(ts)) {
                ok = 0;
                break;
            }
            int in = !counted || place((const char *)PyUnicode_1BYTE_DATA(ts), since, until) == 0;
            inside += in;
            if (in && days != Py_None && count_day(days, ts, &last_day, &last) < 0) {
                ok = 0;
                break;
            }
        }
        PyObject *list = PyDict_GetItemWithError(grouped, bead);
        if (list == NULL) {
            if (PyErr_Occurred()) {
                ok = 0;
                break;
            }
            list = PyList_New(0);
            int bad = list == NULL || PyDict_SetItem(grouped, bead, list) < 0;
            Py_XDECREF(list); /* (grouped holds it) */
            if (bad) {
                ok = 0;
                break;
            }
        }
        if (PyList_Append(list, record) < 0) {
            ok = 0;
            break;
        }
    }
    Py_XDECREF(last_day);
    if (!ok) {
        PyErr_Clear(); /* (Python's loop raises it again, where it does) */
        PyDict_Clear(grouped);
        if (days != Py_None) PyDict_Clear(days);
        Py_RETURN_NONE;
    }
    return PyLong_FromSsize_t(counted ? inside : n);
}
