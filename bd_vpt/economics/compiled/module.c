/* economics' compiled parts, the module bd_vpt.economics._compiled (optional: built by setup.py
 * where a C compiler is found; without it the same is done in Python):
 * - states (story.c): each bead's story, as timeline.fold tells it;
 * - collect (collect.c): usage rows summed per bead (and period), as facts.collect_rows sums
 *   them with no --by and no window;
 * - fleet (fleet.c): what each bead adds to a report with no --by, added up as
 *   summarize_facts adds it;
 * - spikes_found (spikes.c): the days and sessions spikes.spikes finds, as it finds them.
 * - tail_rows (fleet_tail.c): the last periods of a fleet trend, or a window's totals, and
 *   tail_wide (fleet_wide.c): check's fleet-wide figures, from the beads' states without a
 *   reference taken to any (after pr's fork, each page written is copied);
 * - group (grouped.c): the outcomes per bead, and how many a window holds, as collect_rows
 *   groups and counts them.
 * Each declines what it cannot prove it does as Python does, and Python does that part. */
#include "compiled.h"

static PyMethodDef methods[] = {
    {"states", states, METH_VARARGS,
     "states(grouped, BeadState, Completion, utc, held=None, keep=True) -> {bead: BeadState | "
     "None}: each bead's story as timeline.fold tells it; None: declined, fold it in Python. "
     "held: bead -> (records, state), read for the beads of exactly those records, given the "
     "rest when keep."},
    {"collect", collect, METH_VARARGS,
     "collect(rows, period_of=None, window=None) -> (buckets, bead_days, unpriced_days, "
     "records) | None: usage rows summed per bead (and period: period_of(day)) on the total "
     "basis with no --by, as facts.collect_rows sums them; window: (halves, low, low_cut, "
     "high, INSIDE), the rows it keeps; None: declined (a value that is not an int of 64 "
     "bits, a cut day's row not placed), sum them in Python."},
    {"fleet", fleet, METH_VARARGS,
     "fleet(moving, bead_days, unpriced_days, weights, human_rate, since, until, limit, "
     "BeadState, Completion) -> (closed, weighted, completions, completed, reopens, "
     "escalations, money, rework_known) | None: the beads' parts of a report with no --by, "
     "added up as summarize_facts adds them; None: declined, add them up in Python."},
    {"spikes_found", spikes_found, METH_VARARGS,
     "spikes_found(rows, factor, history, day_lookback, session_lookback) -> ([(day, tokens, "
     "median)], [(session, tokens, median)]) | None: what spikes.spikes finds on the total "
     "basis; None: declined, find them in Python."},
    {"group", group, METH_VARARGS,
     "group(outcomes, grouped, since, until, counted, days=None) -> int | None: grouped "
     "(empty) filled with bead -> its outcome records; the number of outcomes in [since, "
     "until) (texts in format_ts's shape, or None), or of all of them when not counted; days "
     "(an empty dict) filled with those outcomes' count per UTC day; None: declined (grouped "
     "and days left empty), do it in Python."},
    {"tail_rows", tail_rows, METH_VARARGS,
     "tail_rows(states, buckets, index, bounds, bead_days, unpriced_days, weights, human_rate, "
     "limit, BeadState, Completion) -> ([(sums, attributed, wasted, closed, weighted, "
     "completions, completed, reopens, escalations, money, rework_known)], not_counted) | None: "
     "what periodic.fleet_rows adds into each listed period (or summarize_facts into a window's "
     "totals); states: bead -> state, or (grouped, like, like_states, fresh); None: declined."},
    {"tail_differing", tail_differing, METH_VARARGS,
     "tail_differing(grouped, like) -> [bead]: the beads of grouped whose outcomes are not like's "
     "(the same objects in the same order)."},
    {"tail_wide", tail_wide, METH_VARARGS,
     "tail_wide(buckets, states, limit, BeadState, Completion) -> (sums, attributed, "
     "completions, completed, reopens, escalations, by_type) | None: what fleetwide.fleetwide "
     "gives, completed counted; None: declined."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef compiled_module = {
    PyModuleDef_HEAD_INIT, "_compiled", "economics' compiled parts (see timeline.py, facts.py).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__compiled(void) {
    if (story_init() < 0 || fleet_init() < 0 || tail_init() < 0) return NULL;
    return PyModule_Create(&compiled_module);
}
