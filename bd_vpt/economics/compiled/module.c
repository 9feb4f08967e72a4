/* economics' compiled parts, the module bd_vpt.economics._compiled (optional: built by setup.py
 * where a C compiler is found; without it the same is done in Python):
 * - states (story.c): each bead's story, as timeline.fold tells it;
 * - collect (collect.c): a fleet summary's usage rows summed per bead, as facts.collect_rows
 *   sums them.
 * Each declines what it cannot prove it does as Python does, and Python does that part. */
#include "compiled.h"

static PyMethodDef methods[] = {
    {"states", states, METH_VARARGS,
     "states(grouped, BeadState, Completion, utc) -> {bead: BeadState | None}: each bead's "
     "story as timeline.fold tells it; None: declined, fold it in Python."},
    {"collect", collect, METH_VARARGS,
     "collect(rows) -> (buckets, bead_days, unpriced_days, records) | None: usage rows summed "
     "per bead on the total basis, with no window, as facts.collect_rows sums them; None: "
     "declined (a value that is not an int of 64 bits), sum them in Python."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef compiled_module = {
    PyModuleDef_HEAD_INIT, "_compiled", "economics' compiled parts (see timeline.py, facts.py).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__compiled(void) {
    if (story_init() < 0) return NULL;
    return PyModule_Create(&compiled_module);
}
