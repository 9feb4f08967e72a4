/* fleet(): what summarize_facts adds up for a report with no --by, bead by bead, from the
 * beads' states (metrics.py: bead_part, bead_money, then Group.credit, count and charge, each
 * with a share of 1.0), in the same order, so every float sum is the same to the bit.
 *
 * fleet(moving, bead_days, unpriced_days, weights, human_rate, since, until, limit,
 *       BeadState, Completion)
 *   -> (closed, weighted, completions, completed, reopens, escalations, money, rework_known)
 *   | None
 * moving: (bead, state) pairs in the order summarize_facts walks them; since/until: the
 * window's ends (datetimes) or None. closed and completed are the beads, in order; money the
 * five amounts. None: declined (a config with a cost of delay, a state or snapshot not of the
 * shape fold makes, a priority that is not an int), and Python adds them up. */
#include "compiled.h"

#include <datetime.h>

/* BeadState's fields (timeline.py, in order) that this reads */
enum { S_SNAPSHOT = 1, S_CLOSED = 2, S_COMPLETION = 3, S_CLOSED_AT = 5, S_MINUTES = 9,
       S_VALUE = 10, S_LAST_AT = 12, S_LAST_REOPEN = 13, S_COMPLETIONS = 15, S_REOPENS = 16 };
enum { C_AT = 0, C_MINUTES = 4 }; /* Completion's */

typedef struct {
    PyObject *since, *until; /* borrowed; Py_None: open */
} Window;

/* win.contains(moment) (periods.py); -1: an error */
static int inside(const Window *w, PyObject *moment) {
    if (moment == Py_None) return 0;
    if (w->since != Py_None) {
        int before = PyObject_RichCompareBool(moment, w->since, Py_LT);
        if (before != 0) return before < 0 ? -1 : 0;
    }
    if (w->until != Py_None) return PyObject_RichCompareBool(moment, w->until, Py_LT);
    return 1;
}

static int is_float(PyObject *x) { return PyFloat_CheckExact(x); }

/* weight_of: see compiled.h */
double weight_of(PyObject *weights, PyObject *snapshot, int *ok) {
    PyObject *priority = PyDict_GetItemString(snapshot, "priority");
    PyObject *found;
    if (priority == NULL || priority == Py_None) {
        found = PyDict_GetItemString(weights, "unknown");
        if (found == NULL) found = PyDict_GetItemString(weights, "P2");
        if (found == NULL) return 2.0;
        return number(found, ok);
    }
    if (!PyLong_CheckExact(priority)) {
        *ok = 0;
        return 0.0;
    }
    PyObject *name = PyUnicode_FromFormat("P%S", priority);
    if (name == NULL) {
        PyErr_Clear();
        *ok = 0;
        return 0.0;
    }
    found = PyDict_GetItemWithError(weights, name);
    Py_DECREF(name);
    if (found == NULL) {
        if (PyErr_Occurred()) {
            PyErr_Clear();
            *ok = 0;
        }
        return 0.0;
    }
    return number(found, ok);
}

/* rework_of: see compiled.h */
int rework_of(PyObject *bead_days, PyObject *unpriced_days, PyObject *bead, PyObject *reopen,
              double *rework, int *known, int *ok) {
    PyObject *days = PyDict_GetItemWithError(bead_days, bead);
    if (days == NULL && PyErr_Occurred()) return -1;
    if (days != NULL && !PyDict_CheckExact(days)) {
        *ok = 0;
        return 0;
    }
    if (days == NULL || !PyDict_GET_SIZE(days) || reopen == Py_None) return 0;
    if (reopen == NULL || !PyDateTime_Check(reopen)) {
        *ok = 0;
        return 0;
    }
    PyObject *cutoff =
        PyUnicode_FromFormat("%04d-%02d-%02d", PyDateTime_GET_YEAR(reopen),
                             PyDateTime_GET_MONTH(reopen), PyDateTime_GET_DAY(reopen));
    PyObject *costs = cutoff ? PyList_New(0) : NULL;
    PyObject *day, *cost;
    Py_ssize_t pos = 0;
    while (costs && PyDict_Next(days, &pos, &day, &cost)) {
        int before = PyObject_RichCompareBool(day, cutoff, Py_LE);
        if (before < 0 || (before && PyList_Append(costs, cost) < 0)) Py_CLEAR(costs);
    }
    PyObject *unpriced = costs ? PyDict_GetItemWithError(unpriced_days, bead) : NULL;
    PyObject *it = unpriced ? PyObject_GetIter(unpriced) : NULL, *one;
    while (it && *known && (one = PyIter_Next(it)) != NULL) {
        int before = PyObject_RichCompareBool(one, cutoff, Py_LE);
        Py_DECREF(one);
        if (before != 0) *known = 0;
    }
    Py_XDECREF(it);
    Py_XDECREF(cutoff);
    if (costs == NULL || PyErr_Occurred()) {
        Py_XDECREF(costs);
        return -1;
    }
    PyObject *total = PyObject_CallOneArg(summing(), costs); /* as sum() adds them */
    Py_DECREF(costs);
    if (total == NULL) return -1;
    *rework = PyFloat_Check(total) ? PyFloat_AS_DOUBLE(total) : PyLong_AsDouble(total);
    Py_DECREF(total);
    return PyErr_Occurred() ? -1 : 0;
}

PyObject *fleet(PyObject *self, PyObject *args) {
    PyObject *moving, *bead_days, *unpriced_days, *weights, *rate_obj, *state_type, *ctype;
    Window w;
    double limit;
    if (!PyArg_ParseTuple(args, "OO!O!O!OOOdOO", &moving, &PyDict_Type, &bead_days, &PyDict_Type,
                          &unpriced_days, &PyDict_Type, &weights, &rate_obj, &w.since, &w.until,
                          &limit, &state_type, &ctype))
        return NULL;
    Layout state, run;
    if (!layout_of(state_type, 18, &state) || !layout_of(ctype, 6, &run)) Py_RETURN_NONE;
    int ok = 1;
    double rate = number(rate_obj, &ok);
    PyObject *closed = PyList_New(0), *completed = PyList_New(0);
    PyObject *iter = PyObject_GetIter(moving), *pair = NULL, *result = NULL;
    double weighted = 0.0, money[5] = {0.0, 0.0, 0.0, 0.0, 0.0};
    long long completions = 0, reopens = 0, escalations = 0;
    int rework_known = 1;
    if (closed == NULL || completed == NULL || iter == NULL || !ok) goto done;
    while (ok && (pair = PyIter_Next(iter)) != NULL) {
        PyObject *bead, *st;
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
            ok = 0;
            break;
        }
        bead = PyTuple_GET_ITEM(pair, 0);
        st = PyTuple_GET_ITEM(pair, 1);
        if (Py_TYPE(st) != state.type) {
            ok = 0;
            break;
        }
        PyObject *snapshot = SLOT(&state, st, S_SNAPSHOT), *is_closed = SLOT(&state, st, S_CLOSED);
        PyObject *closed_at = SLOT(&state, st, S_CLOSED_AT), *last_at = SLOT(&state, st, S_LAST_AT);
        PyObject *runs = SLOT(&state, st, S_COMPLETIONS), *backs = SLOT(&state, st, S_REOPENS);
        PyObject *share = SLOT(&state, st, S_COMPLETION), *minutes = SLOT(&state, st, S_MINUTES);
        PyObject *value = SLOT(&state, st, S_VALUE), *reopen = SLOT(&state, st, S_LAST_REOPEN);
        if (!PyDict_CheckExact(snapshot) || !PyBool_Check(is_closed) || !PyList_CheckExact(runs) ||
            !PyList_CheckExact(backs) || !is_float(share) || !is_float(minutes) || !is_float(value)) {
            ok = 0;
            break;
        }
        int is = is_closed == Py_True;
        int credited = is ? inside(&w, closed_at) : 0;
        int placed = inside(&w, is ? closed_at : last_at);
        if (credited < 0 || placed < 0) goto done;
        long long done = 0, back = 0, escalated = 0;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(runs); i++) {
            PyObject *c = PyList_GET_ITEM(runs, i);
            if (Py_TYPE(c) != run.type || !is_float(SLOT(&run, c, C_MINUTES))) {
                ok = 0;
                break;
            }
            int in = inside(&w, SLOT(&run, c, C_AT));
            if (in < 0) goto done;
            if (in) {
                done++;
                escalated += PyFloat_AS_DOUBLE(SLOT(&run, c, C_MINUTES)) > limit;
            }
        }
        for (Py_ssize_t i = 0; ok && i < PyList_GET_SIZE(backs); i++) {
            int in = inside(&w, PyList_GET_ITEM(backs, i));
            if (in < 0) goto done;
            back += in;
        }
        if (!ok) break;
        if (!(credited || placed || done || back)) {
            Py_CLEAR(pair);
            continue;
        }
        double weight = weight_of(weights, snapshot, &ok) * PyFloat_AS_DOUBLE(share);
        if (!ok) break;
        /* bead_money: human time, value and rework (a cost of delay is declined above) */
        double mins = PyFloat_AS_DOUBLE(minutes), rework = 0.0;
        int known = 1;
        if (rework_of(bead_days, unpriced_days, bead, reopen, &rework, &known, &ok) < 0) goto done;
        if (!ok) break;
        if (credited) {
            if (PyList_Append(closed, bead) < 0) goto done;
            weighted += 1.0 * weight;
        }
        completions += done;
        if (done && PyList_Append(completed, bead) < 0) goto done;
        reopens += back;
        escalations += escalated;
        if (placed) {
            double amounts[5] = {mins, mins / 60 * rate, PyFloat_AS_DOUBLE(value), 0.0, rework};
            for (int i = 0; i < 5; i++) money[i] += 1.0 * amounts[i];
            rework_known = rework_known && known;
        }
        Py_CLEAR(pair);
    }
    if (PyErr_Occurred()) goto done;
    if (!ok) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    result = Py_BuildValue("(OdLOLL[ddddd]O)", closed, weighted, completions, completed, reopens,
                           escalations, money[0], money[1], money[2], money[3], money[4],
                           rework_known ? Py_True : Py_False);
done:
    Py_XDECREF(pair);
    Py_XDECREF(iter);
    Py_XDECREF(closed);
    Py_XDECREF(completed);
    return result;
}

int fleet_init(void) {
    PyDateTime_IMPORT;
    return PyDateTimeAPI == NULL ? -1 : 0;
}
