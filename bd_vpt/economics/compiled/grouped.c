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
 * errors included. */
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

PyObject *group(PyObject *self, PyObject *args) {
    PyObject *outcomes, *grouped, *since_text, *until_text;
    int counted;
    if (!PyArg_ParseTuple(args, "OO!OOp", &outcomes, &PyDict_Type, &grouped, &since_text,
                          &until_text, &counted))
        return NULL;
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
        if (counted) {
            PyObject *ts = PyDict_GetItemWithError(record, k_ts);
            if (ts == NULL || !stamp_ok(ts)) {
                ok = 0;
                break;
            }
            inside += place((const char *)PyUnicode_1BYTE_DATA(ts), since, until) == 0;
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
    if (!ok) {
        PyErr_Clear(); /* (Python's loop raises it again, where it does) */
        PyDict_Clear(grouped);
        Py_RETURN_NONE;
    }
    return PyLong_FromSsize_t(counted ? inside : n);
}
