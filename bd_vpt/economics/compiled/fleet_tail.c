/* The fleet's figures that read every bead's state, read without a reference taken to any
 * state or to anything a state holds: after pr's fork (ledger/parallel.beside) each reference
 * taken writes to the page of the object it counts, and the kernel copies that page; walking
 * 40,000 states in Python copied 17,000 pages (70 ms). Here the states are only read.
 *
 * tail_rows(states, buckets, index, bounds, bead_days, unpriced_days, weights, human_rate,
 *           limit, BeadState, Completion) -> ([per period], not_counted) | None
 *   what periodic.fleet_rows adds into each listed period's Group, in the same order, so
 *   every float sum is the same to the bit; or, with one period and index None, what
 *   summarize_facts adds into a window's totals (no --by).
 *   buckets: facts collected by period with no --by ((bead, period, "") -> bucket), or (index
 *   None) the window's ((bead, "") -> bucket); index: period -> its number; bounds: the
 *   periods' starts (ascending, each period's end the next one's start), then the last one's
 *   end, in microseconds since 1970 (UTC). states: bead -> its state, or (grouped, like,
 *   like_states, fresh): the beads of grouped (bead -> its outcomes, in order), each state
 *   like_states' when its outcomes are like's, the same objects, else fresh's.
 * tail_differing(grouped, like) -> [bead]: the beads of grouped whose outcomes are not like's
 *   (the same objects, in the same order), in grouped's order.
 *   Per period: (sums, attributed, wasted, closed, weighted, completions, completed, reopens,
 *   escalations, money, rework_known), closed and completed counted, not named; not_counted:
 *   each [outcomes] rule's count of beads (unsorted).
 * None: declined (a moment not in UTC, a value of another type than fold and collect make,
 * a sum beyond 64 bits, a cost of delay: the caller checks that), and Python does it. */
#include "compiled.h"

#include <datetime.h>

/* The beads' states (tail_rows' states): a dict, or states borrowed from another ledger */
typedef struct {
    PyObject *states; /* bead -> state, or NULL: the others */
    PyObject *grouped, *like, *like_states, *fresh;
} States;

static int states_of(PyObject *arg, States *s) {
    *s = (States){NULL, NULL, NULL, NULL, NULL};
    if (PyDict_Check(arg)) {
        s->states = arg;
        return 1;
    }
    return PyArg_ParseTuple(arg, "O!O!O!O!", &PyDict_Type, &s->grouped, &PyDict_Type, &s->like,
                            &PyDict_Type, &s->like_states, &PyDict_Type, &s->fresh);
}

/* whether two lists hold the same objects in the same order */
static int same_list(PyObject *a, PyObject *b) {
    if (a == NULL || b == NULL || !PyList_CheckExact(a) || !PyList_CheckExact(b) ||
        PyList_GET_SIZE(a) != PyList_GET_SIZE(b))
        return 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(a); i++)
        if (PyList_GET_ITEM(a, i) != PyList_GET_ITEM(b, i)) return 0;
    return 1;
}

/* The bead's state (borrowed; list: its outcomes, or NULL to look them up): NULL when it has
 * none, or on an error (set), or declined (*ok = 0: a state like's that is not there). */
static PyObject *state_for(const States *s, PyObject *bead, PyObject *list, int *ok) {
    if (s->states != NULL) return PyDict_GetItemWithError(s->states, bead);
    if (list == NULL && (list = PyDict_GetItemWithError(s->grouped, bead)) == NULL) return NULL;
    if (!PyList_CheckExact(list) || PyList_GET_SIZE(list) == 0) return NULL; /* (no story) */
    PyObject *held = PyDict_GetItemWithError(s->like, bead);
    if (held == NULL && PyErr_Occurred()) return NULL;
    PyObject *st = PyDict_GetItemWithError(same_list(list, held) ? s->like_states : s->fresh, bead);
    if (st == NULL && !PyErr_Occurred()) *ok = 0;
    return st;
}

PyObject *tail_differing(PyObject *self, PyObject *args) {
    PyObject *grouped, *like, *bead, *list;
    if (!PyArg_ParseTuple(args, "O!O!", &PyDict_Type, &grouped, &PyDict_Type, &like)) return NULL;
    PyObject *found = PyList_New(0);
    Py_ssize_t pos = 0;
    while (found != NULL && PyDict_Next(grouped, &pos, &bead, &list)) {
        PyObject *held = PyDict_GetItemWithError(like, bead);
        if ((held == NULL && PyErr_Occurred()) ||
            (!same_list(list, held) && PyList_Append(found, bead) < 0))
            Py_CLEAR(found);
    }
    return found;
}

/* BeadState's fields (timeline.py, in order) and Completion's that this reads */
enum { S_SNAPSHOT = 1, S_CLOSED = 2, S_COMPLETION = 3, S_CLOSED_AT = 5, S_MINUTES = 9,
       S_VALUE = 10, S_LAST_AT = 12, S_LAST_REOPEN = 13, S_RESULT = 14, S_COMPLETIONS = 15,
       S_REOPENS = 16, S_EXCLUDED = 17 };
enum { C_AT = 0, C_MINUTES = 4 };

typedef struct {
    int64_t sums[BUCKET_SLOTS], attributed, wasted;
    long long closed, completions, completed, reopens, escalations;
    double weighted, money[5];
    int rework_known;
} Acc;

typedef struct {
    const int64_t *at; /* the windows' bounds (microseconds since 1970, UTC) */
    Py_ssize_t n;      /* periods: n + 1 bounds */
} Bounds;

/* The day number of a civil date (days since 1970-01-01, proleptic Gregorian). */
static int64_t day_number(int y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The period of a moment (a datetime in UTC): its number, -1 (none listed, or None), or -2
 * (not a datetime of timezone.utc: declined). Its instant as Python compares it. */
static Py_ssize_t period_of(const Bounds *b, PyObject *moment) {
    if (moment == Py_None) return -1;
    if (!PyDateTime_CheckExact(moment) ||
        PyDateTime_DATE_GET_TZINFO(moment) != PyDateTime_TimeZone_UTC)
        return -2;
    int64_t day = day_number(PyDateTime_GET_YEAR(moment), PyDateTime_GET_MONTH(moment),
                             PyDateTime_GET_DAY(moment));
    int64_t seconds = (PyDateTime_DATE_GET_HOUR(moment) * 60 + PyDateTime_DATE_GET_MINUTE(moment)) *
                          60 + PyDateTime_DATE_GET_SECOND(moment);
    int64_t at = (day * 86400 + seconds) * 1000000 + PyDateTime_DATE_GET_MICROSECOND(moment);
    if (at < b->at[0] || at >= b->at[b->n]) return -1;
    Py_ssize_t low = 0, high = b->n; /* b->at[low] <= at < b->at[high] */
    while (high - low > 1) {
        Py_ssize_t mid = (low + high) / 2;
        if (at < b->at[mid]) high = mid;
        else low = mid;
    }
    return low;
}

static int last_wasted(const Layout *state, PyObject *st, int *ok) {
    PyObject *result = SLOT(state, st, S_RESULT);
    if (result == Py_None) return 0;
    if (result == NULL || !PyUnicode_CheckExact(result)) {
        *ok = 0;
        return 0;
    }
    return PyUnicode_CompareWithASCIIString(result, "reopened") == 0 ||
           PyUnicode_CompareWithASCIIString(result, "rejected") == 0 ||
           PyUnicode_CompareWithASCIIString(result, "abandoned") == 0;
}

/* add_bucket: see compiled.h */
void add_bucket(int64_t *sums, PyObject *bucket, int64_t *tokens, int *ok) {
    if (!PyList_CheckExact(bucket) || PyList_GET_SIZE(bucket) != BUCKET_SLOTS) {
        *ok = 0;
        return;
    }
    for (Py_ssize_t i = 0; i < BUCKET_SLOTS && *ok; i++) {
        int64_t v = int64_of(PyList_GET_ITEM(bucket, i), ok);
        if (i == 0) *tokens = v;
        if (__builtin_add_overflow(sums[i], v, &sums[i])) *ok = 0;
    }
}

/* sums_list: see compiled.h */
PyObject *sums_list(const int64_t *sums) {
    PyObject *list = PyList_New(BUCKET_SLOTS);
    for (Py_ssize_t i = 0; list != NULL && i < BUCKET_SLOTS; i++) {
        PyObject *v = PyLong_FromLongLong(sums[i]);
        if (v == NULL) Py_CLEAR(list);
        else PyList_SET_ITEM(list, i, v);
    }
    return list;
}

/* The buckets of the listed periods into their sums, attributed and wasted tokens. */
static int tail_buckets(Acc *acc, Py_ssize_t periods, PyObject *buckets, PyObject *index,
                        const States *states, const Layout *state, int *ok) {
    PyObject *key, *bucket;
    Py_ssize_t pos = 0;
    while (*ok && PyDict_Next(buckets, &pos, &key, &bucket)) {
        if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != (index == Py_None ? 2 : 3)) {
            *ok = 0;
            break;
        }
        Acc *a = acc; /* (index None: the one window's) */
        if (index != Py_None) {
            PyObject *found = PyDict_GetItemWithError(index, PyTuple_GET_ITEM(key, 1));
            if (found == NULL) {
                if (PyErr_Occurred()) return -1;
                continue; /* a period not listed */
            }
            Py_ssize_t k = PyLong_Check(found) ? PyLong_AsSsize_t(found) : -1;
            if (k < 0 || k >= periods) {
                PyErr_Clear();
                *ok = 0; /* (not a period's number) */
                break;
            }
            a = &acc[k];
        }
        int64_t tokens = 0;
        add_bucket(a->sums, bucket, &tokens, ok);
        PyObject *bead = PyTuple_GET_ITEM(key, 0);
        if (!*ok || bead == Py_None) continue;
        if (__builtin_add_overflow(a->attributed, tokens, &a->attributed)) *ok = 0;
        PyObject *st = state_for(states, bead, NULL, ok);
        if (st == NULL && PyErr_Occurred()) return -1;
        if (st == NULL) continue;
        if (Py_TYPE(st) != state->type) *ok = 0;
        else if (last_wasted(state, st, ok) &&
                 __builtin_add_overflow(a->wasted, tokens, &a->wasted))
            *ok = 0;
    }
    return 0;
}

/* What one bead adds to one period (fleet_rows' moves) */
typedef struct {
    int credited, placed;
    long long done, back, escalated;
} Move;

/* The bead's moves into the listed periods (moves[k], touched[0..*n) the periods moved). */
static int bead_moves(const Bounds *bounds, const Layout *state, const Layout *run, PyObject *st,
                      double limit, Move *moves, Py_ssize_t *touched, int *n, int *ok) {
    PyObject *runs = SLOT(state, st, S_COMPLETIONS), *backs = SLOT(state, st, S_REOPENS);
    PyObject *is_closed = SLOT(state, st, S_CLOSED);
    if (runs == NULL || backs == NULL || !PyList_CheckExact(runs) || !PyList_CheckExact(backs) ||
        is_closed == NULL || !PyBool_Check(is_closed)) {
        *ok = 0;
        return 0;
    }
/* a period moved in for the first time (a move is never all zeros once made) */
#define MOVE(k)                                                                         \
    if (!moves[k].placed && !moves[k].done && !moves[k].back) touched[(*n)++] = (k)
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(runs); i++) {
        PyObject *c = PyList_GET_ITEM(runs, i), *minutes;
        if (Py_TYPE(c) != run->type || (minutes = SLOT(run, c, C_MINUTES)) == NULL ||
            !PyFloat_CheckExact(minutes)) {
            *ok = 0;
            return 0;
        }
        Py_ssize_t k = period_of(bounds, SLOT(run, c, C_AT));
        if (k == -2) *ok = 0;
        if (k < 0) continue;
        MOVE(k);
        moves[k].done++;
        moves[k].escalated += PyFloat_AS_DOUBLE(minutes) > limit;
    }
    for (Py_ssize_t i = 0; *ok && i < PyList_GET_SIZE(backs); i++) {
        Py_ssize_t k = period_of(bounds, PyList_GET_ITEM(backs, i));
        if (k == -2) *ok = 0;
        if (k < 0) continue;
        MOVE(k);
        moves[k].back++;
    }
    int closed = is_closed == Py_True;
    PyObject *anchor = SLOT(state, st, closed ? S_CLOSED_AT : S_LAST_AT);
    Py_ssize_t k = anchor == NULL ? -2 : period_of(bounds, anchor);
    if (k == -2) *ok = 0;
    if (*ok && k >= 0) {
        MOVE(k);
        moves[k].credited = closed;
        moves[k].placed = 1;
    }
#undef MOVE
    return closed;
}

/* bead_money's amounts for a bead placed (no cost of delay: the caller declines one) */
static int money_of(const Layout *state, PyObject *st, PyObject *bead, PyObject *bead_days,
                    PyObject *unpriced_days, double rate, double *amounts, int *known, int *ok) {
    PyObject *minutes = SLOT(state, st, S_MINUTES), *value = SLOT(state, st, S_VALUE);
    if (minutes == NULL || value == NULL || !PyFloat_CheckExact(minutes) ||
        !PyFloat_CheckExact(value)) {
        *ok = 0;
        return 0;
    }
    double mins = PyFloat_AS_DOUBLE(minutes), rework = 0.0;
    *known = 1;
    if (rework_of(bead_days, unpriced_days, bead, SLOT(state, st, S_LAST_REOPEN), &rework,
                  known, ok) < 0)
        return -1;
    amounts[0] = mins;
    amounts[1] = mins / 60 * rate;
    amounts[2] = PyFloat_AS_DOUBLE(value);
    amounts[3] = 0.0;
    amounts[4] = rework;
    return 0;
}

/* One bead into the periods it moves in, as fleet_rows adds it. */
static int tail_bead(Acc *acc, const Bounds *bounds, const Layout *state, const Layout *run,
                     PyObject *bead, PyObject *st, PyObject *bead_days, PyObject *unpriced_days,
                     PyObject *weights, double rate, double limit, Move *moves,
                     Py_ssize_t *touched, int *ok) {
    int n = 0;
    bead_moves(bounds, state, run, st, limit, moves, touched, &n, ok);
    if (!*ok || n == 0) return 0;
    PyObject *snapshot = SLOT(state, st, S_SNAPSHOT);
    PyObject *share = SLOT(state, st, S_COMPLETION);
    if (snapshot == NULL || share == NULL || !PyDict_CheckExact(snapshot) ||
        !PyFloat_CheckExact(share)) {
        *ok = 0;
        return 0;
    }
    double weight = weight_of(weights, snapshot, ok) * PyFloat_AS_DOUBLE(share);
    double amounts[5];
    int known = 1, priced = 0;
    for (int j = 0; *ok && j < n; j++) {
        Move *m = &moves[touched[j]];
        Acc *a = &acc[touched[j]];
        if (m->credited) {
            a->closed++;
            a->weighted += 1.0 * weight;
        }
        a->completions += m->done;
        a->completed += m->done > 0;
        a->reopens += m->back;
        a->escalations += m->escalated;
        if (m->placed) {
            if (!priced && money_of(state, st, bead, bead_days, unpriced_days, rate, amounts,
                                    &known, ok) < 0)
                return -1;
            priced = 1;
            for (int i = 0; i < 5; i++) a->money[i] += 1.0 * amounts[i];
            a->rework_known = a->rework_known && known;
        }
        *m = (Move){0, 0, 0, 0, 0};
    }
    return 0;
}

/* [outcomes] rule -> beads whose last close fell under it */
static int count_excluded(PyObject *counts, const Layout *state, PyObject *st, int *ok) {
    PyObject *rule = SLOT(state, st, S_EXCLUDED);
    if (rule == Py_None) return 0;
    if (rule == NULL || !PyUnicode_CheckExact(rule)) {
        *ok = 0;
        return 0;
    }
    if (PyUnicode_GET_LENGTH(rule) == 0) return 0;
    PyObject *had = PyDict_GetItemWithError(counts, rule);
    if (had == NULL && PyErr_Occurred()) return -1;
    PyObject *now = PyLong_FromSsize_t(had == NULL ? 1 : PyLong_AsSsize_t(had) + 1);
    int bad = now == NULL || PyDict_SetItem(counts, rule, now) < 0;
    Py_XDECREF(now);
    return bad ? -1 : 0;
}

/* bounds (a list of exact ints, ascending) into b->at (PyMem); 0: declined */
static int bounds_of(PyObject *list, Bounds *b) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    if (n < 2) return 0;
    int64_t *at = PyMem_Malloc((size_t)n * sizeof(int64_t));
    if (at == NULL) return -1;
    b->at = at;
    for (Py_ssize_t i = 0; i < n; i++) {
        int ok = 1;
        at[i] = int64_of(PyList_GET_ITEM(list, i), &ok);
        if (!ok || (i && at[i] <= at[i - 1])) return 0;
    }
    b->n = n - 1;
    return 1;
}

PyObject *tail_rows(PyObject *self, PyObject *args) {
    PyObject *arg, *buckets, *index, *list, *bead_days, *unpriced_days, *weights, *rate_obj;
    PyObject *state_type, *run_type;
    double limit;
    if (!PyArg_ParseTuple(args, "OO!OO!O!O!O!OdOO", &arg, &PyDict_Type,
                          &buckets, &index, &PyList_Type, &list, &PyDict_Type,
                          &bead_days, &PyDict_Type, &unpriced_days, &PyDict_Type, &weights,
                          &rate_obj, &limit, &state_type, &run_type))
        return NULL;
    Layout state, run;
    Bounds bounds = {NULL, 0};
    States states;
    if (!states_of(arg, &states)) return NULL;
    int ok = layout_of(state_type, 18, &state) && layout_of(run_type, 6, &run);
    double rate = ok ? number(rate_obj, &ok) : 0.0;
    int got = ok ? bounds_of(list, &bounds) : 0;
    Py_ssize_t periods = bounds.n;
    Acc *acc = NULL;
    Move *moves = NULL;
    Py_ssize_t *touched = NULL;
    PyObject *counts = NULL, *result = NULL, *rows = NULL;
    int one = index == Py_None; /* (one window) */
    if (got <= 0 || (one ? periods != 1
                         : !PyDict_CheckExact(index) || PyDict_GET_SIZE(index) != periods)) {
        result = got < 0 ? NULL : Py_NewRef(Py_None);
        goto done;
    }
    acc = PyMem_Calloc((size_t)periods, sizeof(Acc));
    moves = PyMem_Calloc((size_t)periods, sizeof(Move));
    touched = PyMem_Calloc((size_t)periods, sizeof(Py_ssize_t));
    counts = PyDict_New();
    if (acc == NULL || moves == NULL || touched == NULL || counts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < periods; k++) acc[k].rework_known = 1;
    if (tail_buckets(acc, periods, buckets, index, &states, &state, &ok) < 0) goto done;
    PyObject *bead, *st;
    Py_ssize_t pos = 0;
    while (ok && PyDict_Next(states.states ? states.states : states.grouped, &pos, &bead, &st)) {
        if (states.states == NULL && (st = state_for(&states, bead, st, &ok)) == NULL) {
            if (PyErr_Occurred()) goto done;
            continue; /* (no story, or declined) */
        }
        if (Py_TYPE(st) != state.type) {
            ok = 0;
            break;
        }
        if (count_excluded(counts, &state, st, &ok) < 0 ||
            tail_bead(acc, &bounds, &state, &run, bead, st, bead_days, unpriced_days, weights, rate,
                      limit, moves, touched, &ok) < 0)
            goto done;
    }
    if (!ok) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    rows = PyList_New(periods);
    for (Py_ssize_t k = 0; rows != NULL && k < periods; k++) {
        Acc *a = &acc[k];
        PyObject *sums = sums_list(a->sums);
        PyObject *row = sums == NULL ? NULL
                                     : Py_BuildValue("(NLLLdLLLL[ddddd]O)", sums, a->attributed,
                                                     a->wasted, a->closed, a->weighted,
                                                     a->completions, a->completed, a->reopens,
                                                     a->escalations, a->money[0], a->money[1],
                                                     a->money[2], a->money[3], a->money[4],
                                                     a->rework_known ? Py_True : Py_False);
        if (row == NULL) Py_CLEAR(rows);
        else PyList_SET_ITEM(rows, k, row);
    }
    if (rows != NULL) result = PyTuple_Pack(2, rows, counts);
done:
    PyMem_Free((void *)bounds.at);
    PyMem_Free(acc);
    PyMem_Free(moves);
    PyMem_Free(touched);
    Py_XDECREF(rows);
    Py_XDECREF(counts);
    return result;
}

int tail_init(void) {
    PyDateTime_IMPORT;
    return PyDateTimeAPI == NULL ? -1 : 0;
}
