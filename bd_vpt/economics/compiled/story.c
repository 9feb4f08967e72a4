/* states(): the compiled form of timeline.py's fold: each bead's story (its transitions and final
 * state) from its outcome records, for the 40,000 beads of a big ledger at once.
 *
 * states(grouped, BeadState, Completion, utc, held=None, keep=True) takes the dict bead -> outcome
 * records
 * that metrics.bead_states folds and gives a dict in the same order: each bead's BeadState, made
 * exactly as timeline.fold (or _alone) makes it, or None for a bead it declines, which the
 * caller folds in Python. held (timeline._HELD: bead -> (records, state)) gives the state of a
 * bead whose records are exactly those objects (pr folds base and head, which share all but a
 * few beads' records), and is given each state folded here when keep. It declines any bead whose records are not in the shape bd-vpt
 * writes: a record that is not a dict, a time not in format_ts's shape (2026-11-24T10:00:00.000Z)
 * or not a real moment, a result or id that is not text, a missing field fold reads with [],
 * an amount that is not an int or a float. So it only ever gives what Python would give; the
 * rest goes the Python way, errors included (tests/test_story.py holds the two together). */
#include "compiled.h"

#include <datetime.h>
#include <string.h>
#include <structmember.h>

static PyObject *k_ts, *k_id, *k_result, *k_actor, *k_snapshot, *k_minutes, *k_excluded,
    *k_value, *k_completion, *s_completed, *s_reopened, *sum_fn;

/* stamp_ok (compiled.h) */
int stamp_ok(PyObject *ts) {
    if (!PyUnicode_CheckExact(ts) || !PyUnicode_IS_ASCII(ts) || PyUnicode_GET_LENGTH(ts) != 24)
        return 0;
    const char *t = (const char *)PyUnicode_1BYTE_DATA(ts);
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (int i = 0; i < 24; i++) {
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i]) return 0;
    }
#define N(i) ((t[i] - '0') * 10 + t[i + 1] - '0')
    int year = N(0) * 100 + N(2), month = N(5), day = N(8), hour = N(11), minute = N(14);
    int second = N(17);
#undef N
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days[month - 1] || hour > 23 ||
        minute > 59 || second > 59)
        return 0;
    if (month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return 0;
    return 1;
}

/* A time in format_ts's shape, as datetime.fromisoformat reads it (UTC); NULL without an
 * error: not that shape or not a real moment. */
static PyObject *moment_of(PyObject *ts, PyObject *utc) {
    if (!stamp_ok(ts)) return NULL;
    const char *t = (const char *)PyUnicode_1BYTE_DATA(ts);
#define N(i) ((t[i] - '0') * 10 + t[i + 1] - '0')
    PyObject *moment = PyDateTimeAPI->DateTime_FromDateAndTime(
        N(0) * 100 + N(2), N(5), N(8), N(11), N(14), N(17), (N(20) * 10 + t[22] - '0') * 1000,
        utc, PyDateTimeAPI->DateTimeType);
#undef N
    if (moment == NULL) PyErr_Clear();
    return moment;
}

/* number (compiled.h) */
double number(PyObject *x, int *ok) {
    if (PyFloat_CheckExact(x)) return PyFloat_AS_DOUBLE(x);
    if (PyLong_CheckExact(x)) {
        double d = PyLong_AsDouble(x);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            *ok = 0;
        }
        return d;
    }
    *ok = 0;
    return -1.0;
}

/* float(x or 0.0): None, 0 and -0.0 (all falsy) are 0.0. */
static double amount_or_zero(PyObject *x, int *ok) {
    if (x == NULL || x == Py_None) return 0.0;
    double d = number(x, ok);
    return d == 0.0 ? 0.0 : d;
}

typedef struct {
    PyObject *record, *ts, *id;
} Item;

static int item_before(const Item *a, const Item *b) {
    int c = memcmp(PyUnicode_1BYTE_DATA(a->ts), PyUnicode_1BYTE_DATA(b->ts), 24);
    if (c != 0) return c < 0;
    return PyUnicode_Compare(b->id, a->id) > 0; /* ids are exact str: no error */
}

/* A stable merge sort by (ts, id), as sorted(key=itemgetter("ts", "id")). */
static void sort_items(Item *items, Item *spare, Py_ssize_t n) {
    if (n < 2) return;
    Py_ssize_t half = n / 2;
    sort_items(items, spare, half);
    sort_items(items + half, spare, n - half);
    memcpy(spare, items, (size_t)half * sizeof(Item));
    Py_ssize_t i = 0, j = half, k = 0;
    while (i < half && j < n) items[k++] = item_before(&items[j], &spare[i]) ? items[j++] : spare[i++];
    while (i < half) items[k++] = spare[i++];
}

/* layout_of: see compiled.h. The generated __init__ of BeadState and Completion only stores
 * each argument (no __post_init__, no conversion), so storing them straight into the slots
 * makes the same object. */
int layout_of(PyObject *type, int count, Layout *out) {
    if (!PyType_Check(type)) return 0;
    PyObject *fields = PyObject_GetAttrString(type, "__dataclass_fields__");
    PyObject *init = PyObject_GetAttrString(type, "__post_init__");
    PyErr_Clear();
    int good = fields != NULL && PyDict_Check(fields) && PyDict_GET_SIZE(fields) == count &&
               init == NULL && count <= 18;
    Py_XDECREF(init);
    PyObject *name, *spec;
    Py_ssize_t pos = 0;
    int i = 0;
    while (good && PyDict_Next(fields, &pos, &name, &spec)) {
        PyObject *descr = PyDict_GetItemWithError(((PyTypeObject *)type)->tp_dict, name);
        if (descr == NULL || Py_TYPE(descr) != &PyMemberDescr_Type) {
            good = 0;
            break;
        }
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & READONLY)) {
            good = 0;
            break;
        }
        out->offsets[i++] = member->offset;
    }
    Py_XDECREF(fields);
    PyErr_Clear();
    out->type = (PyTypeObject *)type;
    out->count = i;
    return good && i == count;
}

PyObject *summing(void) { return sum_fn; }

/* An instance with its fields set from values (borrowed), in the fields' order. */
static PyObject *make(const Layout *layout, PyObject *const *values) {
    PyObject *made = layout->type->tp_alloc(layout->type, 0);
    if (made == NULL) return NULL;
    for (int i = 0; i < layout->count; i++)
        *(PyObject **)((char *)made + layout->offsets[i]) = Py_NewRef(values[i]);
    return made;
}

typedef struct {
    PyObject *utc;
    Layout state, completion;
} Types;

/* Completion's fields: at, ts, actor, completion, minutes, value */
enum { C_AT, C_TS, C_ACTOR, C_SHARE, C_MINUTES, C_VALUE };

static PyObject *completion_of(const Types *ty, PyObject *at, PyObject *ts, PyObject *actor,
                               double share, double minutes, double value) {
    PyObject *args[6] = {at, ts, actor, PyFloat_FromDouble(share), PyFloat_FromDouble(minutes),
                         PyFloat_FromDouble(value)};
    PyObject *made = NULL;
    if (args[3] && args[4] && args[5]) made = make(&ty->completion, args);
    Py_XDECREF(args[3]);
    Py_XDECREF(args[4]);
    Py_XDECREF(args[5]);
    return made;
}

/* a Completion's float field (a float this file stored) */
static double field(const Types *ty, PyObject *run, int i) {
    return PyFloat_AS_DOUBLE(SLOT(&ty->completion, run, i));
}

#define DECLINE 1 /* returned by fold_bead: None for this bead */

/* One bead's BeadState into *out; DECLINE; or -1 with an error set. */
static int fold_bead(const Types *ty, PyObject *bead, PyObject *list, PyObject **out) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    int status = -1, ok = 1;
    Item *items = PyMem_Malloc((size_t)n * 2 * sizeof(Item));
    PyObject **moments = PyMem_Calloc((size_t)n, sizeof(PyObject *));
    PyObject *snapshot = NULL, *runs = NULL, *reopens = NULL, *last_reopen = Py_None;
    if (items == NULL || moments == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *record = PyList_GET_ITEM(list, i);
        if (!PyDict_CheckExact(record)) goto decline;
        PyObject *ts = PyDict_GetItemWithError(record, k_ts);
        PyObject *id = n > 1 ? PyDict_GetItemWithError(record, k_id) : Py_None;
        if (ts == NULL || id == NULL || (n > 1 && !PyUnicode_CheckExact(id))) goto decline;
        items[i] = (Item){record, ts, id};
    }
    sort_items(items, items + n, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        moments[i] = moment_of(items[i].ts, ty->utc);
        if (moments[i] == NULL) goto decline;
    }
    snapshot = PyDict_New();
    runs = PyList_New(0);
    reopens = PyList_New(0);
    if (snapshot == NULL || runs == NULL || reopens == NULL) goto done;
    int completed = 0;
    double pending = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *record = items[i].record, *moment = moments[i];
        PyObject *found = PyDict_GetItemWithError(record, k_snapshot);
        if (found != NULL) {
            int truth = PyObject_IsTrue(found);
            if (truth < 0) goto done;
            if (truth) Py_SETREF(snapshot, Py_NewRef(found));
        }
        PyObject *minutes = PyDict_GetItemWithError(record, k_minutes);
        PyObject *result = PyDict_GetItemWithError(record, k_result);
        if (result == NULL || !PyUnicode_CheckExact(result)) goto decline;
        if (PyUnicode_Compare(result, s_completed) != 0) {
            pending += amount_or_zero(minutes, &ok);
            if (completed) {
                completed = 0;
                if (PyUnicode_Compare(result, s_reopened) == 0) {
                    if (PyList_Append(reopens, moment) < 0) goto done;
                    last_reopen = moment;
                }
            }
            continue;
        }
        PyObject *excluded = PyDict_GetItemWithError(record, k_excluded);
        if (excluded != NULL) {
            int truth = PyObject_IsTrue(excluded);
            if (truth < 0) goto done;
            if (truth) {
                pending += amount_or_zero(minutes, &ok);
                continue;
            }
        }
        PyObject *value = PyDict_GetItemWithError(record, k_value);
        PyObject *share = PyDict_GetItemWithError(record, k_completion);
        if (!completed) {
            PyObject *actor = PyDict_GetItemWithError(record, k_actor);
            if (actor == NULL) goto decline;
            double mins = amount_or_zero(minutes, &ok) + pending;
            double worth = amount_or_zero(value, &ok);
            double part = share == NULL ? 1.0 : number(share, &ok);
            if (!ok) goto decline;
            PyObject *run = completion_of(ty, moment, items[i].ts, actor, part, mins, worth);
            if (run == NULL || PyList_Append(runs, run) < 0) {
                Py_XDECREF(run);
                goto done;
            }
            Py_DECREF(run);
            pending = 0.0;
            completed = 1;
            continue;
        }
        /* a second close without a reopen: the same completion */
        PyObject *run = PyList_GET_ITEM(runs, PyList_GET_SIZE(runs) - 1);
        PyObject *given[3] = {minutes, value, share};
        static const int slots[3] = {C_MINUTES, C_VALUE, C_SHARE};
        for (int f = 0; f < 3; f++) {
            if (given[f] == NULL || given[f] == Py_None) continue;
            double d = number(given[f], &ok);
            if (!ok) goto decline;
            PyObject *x = PyFloat_FromDouble(d);
            if (x == NULL) goto done;
            Py_SETREF(SLOT(&ty->completion, run, slots[f]), x);
        }
    }
    if (!ok) goto decline;
    if (PyErr_Occurred()) goto done;
    Py_ssize_t nruns = PyList_GET_SIZE(runs);
    PyObject *final = completed ? PyList_GET_ITEM(runs, nruns - 1) : NULL;
    PyObject *latest = items[n - 1].record;
    PyObject *latest_excluded = PyDict_GetItemWithError(latest, k_excluded);
    PyObject *latest_result = PyDict_GetItemWithError(latest, k_result);
    if (PyErr_Occurred()) goto done;
    int excluded_truth = latest_excluded ? PyObject_IsTrue(latest_excluded) : 0;
    if (excluded_truth < 0) goto done;
    PyObject *minutes_sum;
    if (final == NULL) {
        minutes_sum = PyFloat_FromDouble(0.0);
    } else if (nruns == 1) {
        minutes_sum = PyFloat_FromDouble(0.0 + field(ty, final, C_MINUTES)); /* sum([m]) */
    } else {
        PyObject *each = PyList_New(nruns);
        for (Py_ssize_t r = 0; each && r < nruns; r++)
            PyList_SET_ITEM(each, r, Py_NewRef(SLOT(&ty->completion, PyList_GET_ITEM(runs, r), C_MINUTES)));
        minutes_sum = each ? PyObject_CallOneArg(sum_fn, each) : NULL; /* sum() as Python sums */
        Py_XDECREF(each);
    }
    PyObject *last_run = nruns ? PyList_GET_ITEM(runs, nruns - 1) : NULL;
    PyObject *closer = last_run ? SLOT(&ty->completion, last_run, C_ACTOR) : Py_None;
    PyObject *share_final = final ? Py_NewRef(SLOT(&ty->completion, final, C_SHARE))
                                  : PyFloat_FromDouble(0.0);
    PyObject *value_final = final ? Py_NewRef(SLOT(&ty->completion, final, C_VALUE))
                                  : PyFloat_FromDouble(0.0);
    PyObject *closed_ts = final ? SLOT(&ty->completion, final, C_TS) : Py_None;
    PyObject *closed_at = final ? SLOT(&ty->completion, final, C_AT) : Py_None;
    if (minutes_sum && share_final && value_final && !PyErr_Occurred()) {
        PyObject *args[18] = {
            bead, snapshot, completed ? Py_True : Py_False, share_final, closed_ts, closed_at,
            closer, nruns ? Py_True : Py_False, PyList_GET_SIZE(reopens) ? Py_True : Py_False,
            minutes_sum, value_final, items[n - 1].ts, moments[n - 1], last_reopen,
            latest_result ? latest_result : Py_None, runs, reopens,
            excluded_truth ? latest_excluded : Py_None,
        };
        *out = make(&ty->state, args);
        status = *out == NULL ? -1 : 0;
    }
    Py_XDECREF(minutes_sum);
    Py_XDECREF(share_final);
    Py_XDECREF(value_final);
    goto done;
decline:
    status = PyErr_Occurred() ? -1 : DECLINE;
done:
    if (moments != NULL)
        for (Py_ssize_t i = 0; i < n; i++) Py_XDECREF(moments[i]);
    PyMem_Free(moments);
    PyMem_Free(items);
    Py_XDECREF(snapshot);
    Py_XDECREF(runs);
    Py_XDECREF(reopens);
    return status;
}

/* Whether held (a value of timeline._HELD) is (records, state) for exactly the records of list,
 * the same objects in the same order: state is then theirs (a state is a pure function of
 * its records, and records are not changed once read). */
static int same_records(PyObject *held, PyObject *list) {
    if (!PyTuple_CheckExact(held) || PyTuple_GET_SIZE(held) != 2) return 0;
    PyObject *records = PyTuple_GET_ITEM(held, 0);
    Py_ssize_t n = PyList_GET_SIZE(list);
    if (!PyTuple_CheckExact(records) || PyTuple_GET_SIZE(records) != n ||
        PyTuple_GET_ITEM(held, 1) == Py_None)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyTuple_GET_ITEM(records, i) != PyList_GET_ITEM(list, i)) return 0;
    return 1;
}

PyObject *states(PyObject *self, PyObject *args) {
    PyObject *grouped, *state_type, *completion_type, *held = NULL;
    int keep = 1;
    Types ty;
    if (!PyArg_ParseTuple(args, "O!OOO|O!p", &PyDict_Type, &grouped, &state_type,
                          &completion_type, &ty.utc, &PyDict_Type, &held, &keep))
        return NULL;
    if (!layout_of(state_type, 18, &ty.state) || !layout_of(completion_type, 6, &ty.completion)) {
        PyErr_SetString(PyExc_TypeError, "states() makes slots dataclasses of 18 and 6 fields");
        return NULL;
    }
    PyObject *found = PyDict_New();
    if (found == NULL) return NULL;
    PyObject *bead, *list;
    Py_ssize_t pos = 0;
    while (PyDict_Next(grouped, &pos, &bead, &list)) {
        if (!PyList_CheckExact(list) || PyList_GET_SIZE(list) == 0) continue;
        PyObject *state = NULL;
        int status = 0;
        PyObject *kept = held ? PyDict_GetItemWithError(held, bead) : NULL;
        if (kept != NULL && same_records(kept, list)) {
            state = Py_NewRef(PyTuple_GET_ITEM(kept, 1));
        } else if (PyErr_Occurred()) {
            status = -1;
        } else {
            status = fold_bead(&ty, bead, list, &state);
            if (status == 0 && held != NULL && keep) { /* held as timeline.state_of holds it */
                PyObject *records = PyList_AsTuple(list);
                PyObject *entry = records ? PyTuple_Pack(2, records, state) : NULL;
                if (entry == NULL || PyDict_SetItem(held, bead, entry) < 0) status = -1;
                Py_XDECREF(records);
                Py_XDECREF(entry);
            }
        }
        int bad = status < 0 || PyDict_SetItem(found, bead, status == DECLINE ? Py_None : state) < 0;
        Py_XDECREF(state);
        if (bad) {
            Py_DECREF(found);
            return NULL;
        }
    }
    return found;
}

int story_init(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return -1;
    const char *names[] = {"ts", "id", "result", "actor", "snapshot", "human_minutes",
                           "excluded", "value_usd", "completion", "completed", "reopened"};
    PyObject **slots[] = {&k_ts, &k_id, &k_result, &k_actor, &k_snapshot, &k_minutes,
                          &k_excluded, &k_value, &k_completion, &s_completed, &s_reopened};
    for (int i = 0; i < 11; i++) {
        *slots[i] = PyUnicode_InternFromString(names[i]);
        if (*slots[i] == NULL) return -1;
    }
    PyObject *builtins = PyEval_GetBuiltins();
    sum_fn = builtins ? PyDict_GetItemString(builtins, "sum") : NULL;
    if (sum_fn == NULL) return -1;
    Py_INCREF(sum_fn);
    return 0;
}
