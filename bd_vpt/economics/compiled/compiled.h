/* The compiled parts of economics/ (module.c says what each does). */
#ifndef BD_VPT_COMPILED_H
#define BD_VPT_COMPILED_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A slots dataclass's fields: their slots' offsets, in the order of its fields. */
typedef struct {
    PyTypeObject *type;
    Py_ssize_t offsets[18];
    int count;
} Layout;

/* a field of an instance (borrowed) */
#define SLOT(layout, obj, i) (*(PyObject **)((char *)(obj) + (layout)->offsets[i]))

/* story.c */
int story_init(void);
PyObject *states(PyObject *self, PyObject *args);
/* type's layout: 0 when it is not a slots dataclass of exactly count fields (no __post_init__) */
int layout_of(PyObject *type, int count, Layout *out);
/* whether ts is a str in format_ts's shape (2026-11-24T10:00:00.000Z) naming a real moment,
 * which parse_ts reads with fromisoformat alone: such texts sort as their moments do */
int stamp_ok(PyObject *ts);
PyObject *summing(void); /* builtins.sum (borrowed): floats added as Python adds them */
/* float(x) for an int or a float (what the schema lets an amount be, and float * int converts
 * an int as); with *ok = 0: something else (bool included: the caller declines). */
double number(PyObject *x, int *ok);

/* fleet.c */
int fleet_init(void);
PyObject *fleet(PyObject *self, PyObject *args);
/* config.weight(snapshot.get("priority")); *ok = 0: declined (a priority not an int, ...) */
double weight_of(PyObject *weights, PyObject *snapshot, int *ok);
/* bead_money's rework of a bead (its last reopen, or None) from its model cost per day, and
 * whether it is known (no unpriced day up to the reopen): *rework and *known set; -1: an error;
 * *ok = 0: declined */
int rework_of(PyObject *bead_days, PyObject *unpriced_days, PyObject *bead, PyObject *reopen,
              double *rework, int *known, int *ok);

/* collect.c */
PyObject *collect(PyObject *self, PyObject *args);
int64_t int64_of(PyObject *x, int *ok); /* an exact int of 64 bits; 0 with *ok = 0 otherwise */

/* spikes.c */
PyObject *spikes_found(PyObject *self, PyObject *args);
/* fleet_tail.c */
int tail_init(void);
PyObject *tail_rows(PyObject *self, PyObject *args);
PyObject *tail_differing(PyObject *self, PyObject *args);
#define BUCKET_SLOTS 11 /* a usage bucket's (groups.py) */
/* a bucket (a list of BUCKET_SLOTS exact ints) added to sums, in 64 bits; its tokens (slot 0)
 * in *tokens; *ok = 0: declined */
void add_bucket(int64_t *sums, PyObject *bucket, int64_t *tokens, int *ok);
PyObject *sums_list(const int64_t *sums); /* a new list of BUCKET_SLOTS ints */
/* fleet_wide.c */
PyObject *tail_wide(PyObject *self, PyObject *args);
/* grouped.c */
PyObject *group(PyObject *self, PyObject *args);

#endif
