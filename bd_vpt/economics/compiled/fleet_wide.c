/* tail_wide(buckets, states, limit, BeadState, Completion)
 *   -> (sums, attributed, completions, completed, reopens, escalations, by_type) | None
 * what fleetwide.fleetwide gives (completed counted, not named), from buckets keyed with the
 * bead first (collected with no --by, by period or not: the sums are exact integers), reading
 * the beads' states without a reference taken to any (fleet_tail.c says why). None: declined
 * (a value of another type than fold and collect make, a sum beyond 64 bits), and Python
 * does it. */
#include "compiled.h"

/* BeadState's fields (timeline.py, in order) and Completion's that this reads */
enum { S_SNAPSHOT = 1, S_CLOSED = 2, S_COMPLETIONS = 15, S_REOPENS = 16 };
enum { C_MINUTES = 4 };

/* The closed beads' tokens by type, in the order of the states: types told apart by their
 * text in a list of this call's own (hashing a snapshot's type would write to it). */
typedef struct {
    PyObject **kinds; /* borrowed */
    PyObject **lists;
    Py_ssize_t n, cap;
} Types;

static PyObject *type_list(Types *t, PyObject *kind) {
    for (Py_ssize_t i = 0; i < t->n; i++)
        if (PyUnicode_Compare(t->kinds[i], kind) == 0) return t->lists[i];
    if (t->n == t->cap) {
        Py_ssize_t cap = t->cap ? t->cap * 2 : 16;
        PyObject **kinds = PyMem_Realloc(t->kinds, (size_t)cap * sizeof(PyObject *));
        if (kinds != NULL) t->kinds = kinds;
        PyObject **lists = kinds ? PyMem_Realloc(t->lists, (size_t)cap * sizeof(PyObject *)) : NULL;
        if (lists != NULL) t->lists = lists;
        if (kinds == NULL || lists == NULL) return PyErr_NoMemory();
        t->cap = cap;
    }
    PyObject *list = PyList_New(0);
    if (list == NULL) return NULL;
    t->kinds[t->n] = kind;
    t->lists[t->n++] = list;
    return list;
}

/* snapshot.get("type") or "(unknown)" (fleetwide.UNTYPED), as a str; NULL: declined */
static PyObject *kind_of(PyObject *snapshot, PyObject *untyped) {
    if (!PyDict_CheckExact(snapshot)) return NULL;
    PyObject *kind = PyDict_GetItemString(snapshot, "type");
    if (kind == NULL || kind == Py_None) return untyped;
    if (!PyUnicode_CheckExact(kind)) return NULL;
    return PyUnicode_GET_LENGTH(kind) ? kind : untyped;
}

/* The tokens of each bead (buckets keyed with the bead first), in spent (bead -> int). */
static int spent_of(PyObject *buckets, PyObject *spent, int64_t *sums, int64_t *attributed,
                    int *ok) {
    PyObject *key, *bucket;
    Py_ssize_t pos = 0;
    while (*ok && PyDict_Next(buckets, &pos, &key, &bucket)) {
        if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) < 1) {
            *ok = 0;
            break;
        }
        int64_t tokens = 0;
        add_bucket(sums, bucket, &tokens, ok);
        PyObject *bead = PyTuple_GET_ITEM(key, 0);
        if (!*ok || bead == Py_None) continue;
        if (__builtin_add_overflow(*attributed, tokens, attributed)) *ok = 0;
        PyObject *had = PyDict_GetItemWithError(spent, bead);
        if (had == NULL && PyErr_Occurred()) return -1;
        int64_t sum = had == NULL ? 0 : int64_of(had, ok);
        if (__builtin_add_overflow(sum, tokens, &sum)) *ok = 0;
        PyObject *now = PyLong_FromLongLong(sum);
        int bad = now == NULL || PyDict_SetItem(spent, bead, now) < 0;
        Py_XDECREF(now);
        if (bad) return -1;
    }
    return 0;
}

PyObject *tail_wide(PyObject *self, PyObject *args) {
    PyObject *buckets, *states, *state_type, *run_type;
    double limit;
    if (!PyArg_ParseTuple(args, "O!O!dOO", &PyDict_Type, &buckets, &PyDict_Type, &states, &limit,
                          &state_type, &run_type))
        return NULL;
    Layout state, run;
    int ok = layout_of(state_type, 18, &state) && layout_of(run_type, 6, &run);
    int64_t sums[BUCKET_SLOTS] = {0}, attributed = 0;
    long long completions = 0, completed = 0, reopens = 0, escalations = 0;
    Types types = {NULL, NULL, 0, 0};
    PyObject *spent = PyDict_New(), *untyped = PyUnicode_FromString("(unknown)");
    PyObject *by_type = NULL, *result = NULL;
    if (spent == NULL || untyped == NULL ||
        (ok && spent_of(buckets, spent, sums, &attributed, &ok) < 0))
        goto done;
    PyObject *bead, *st;
    Py_ssize_t pos = 0;
    while (ok && PyDict_Next(states, &pos, &bead, &st)) {
        PyObject *runs, *backs, *is_closed;
        if (Py_TYPE(st) != state.type || (runs = SLOT(&state, st, S_COMPLETIONS)) == NULL ||
            (backs = SLOT(&state, st, S_REOPENS)) == NULL || !PyList_CheckExact(runs) ||
            !PyList_CheckExact(backs) || (is_closed = SLOT(&state, st, S_CLOSED)) == NULL ||
            !PyBool_Check(is_closed)) {
            ok = 0;
            break;
        }
        Py_ssize_t done = PyList_GET_SIZE(runs);
        completions += done;
        completed += done > 0;
        for (Py_ssize_t i = 0; i < done; i++) {
            PyObject *c = PyList_GET_ITEM(runs, i), *minutes;
            if (Py_TYPE(c) != run.type || (minutes = SLOT(&run, c, C_MINUTES)) == NULL ||
                !PyFloat_CheckExact(minutes)) {
                ok = 0;
                break;
            }
            escalations += PyFloat_AS_DOUBLE(minutes) > limit;
        }
        reopens += PyList_GET_SIZE(backs);
        if (!ok || is_closed != Py_True) continue;
        PyObject *tokens = PyDict_GetItemWithError(spent, bead);
        if (tokens == NULL && PyErr_Occurred()) goto done;
        if (tokens == NULL || PyObject_Not(tokens)) continue;
        PyObject *snapshot = SLOT(&state, st, S_SNAPSHOT);
        PyObject *kind = snapshot == NULL ? NULL : kind_of(snapshot, untyped);
        if (kind == NULL) {
            ok = 0;
            break;
        }
        PyObject *list = type_list(&types, kind);
        if (list == NULL || PyList_Append(list, tokens) < 0) goto done;
    }
    if (!ok) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    by_type = PyDict_New();
    for (Py_ssize_t i = 0; by_type != NULL && i < types.n; i++)
        if (PyDict_SetItem(by_type, types.kinds[i], types.lists[i]) < 0) Py_CLEAR(by_type);
    PyObject *list = by_type == NULL ? NULL : sums_list(sums);
    if (list != NULL)
        result = Py_BuildValue("(NLLLLLO)", list, attributed, completions, completed, reopens,
                               escalations, by_type);
done:
    for (Py_ssize_t i = 0; i < types.n; i++) Py_DECREF(types.lists[i]);
    PyMem_Free(types.kinds);
    PyMem_Free(types.lists);
    Py_XDECREF(by_type);
    Py_XDECREF(spent);
    Py_XDECREF(untyped);
    return result;
}

