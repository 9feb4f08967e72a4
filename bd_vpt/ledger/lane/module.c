/* bd_vpt.ledger._lane: the compiled fast lane of a blob's fold (see fast.py).
 *
 * fold(data) reads a ledger blob's lines and takes those it can prove are records in the
 * shape bd-vpt writes (compact JSON, known keys once each, ASCII strings without escapes,
 * plain numbers, a ULID id, a UTC millisecond ts on a real day, every schema bound held):
 * - usage lines are summed into rows keyed and valued exactly as rows.py's Python lane does;
 * - outcome lines are read into dicts equal to what orjson reads (key order and number types
 *   included), the equal texts of a blob made one str.
 * Every other non-blank line (retractions, escapes, offsets, unknown keys, anything unusual)
 * is handed back untouched for the Python lane, which stays the judge: this lane only ever
 * takes a subset of what the Python lane accepts, and gives the same values for it.
 *
 * Returns (rows, id_keys, ref_keys, rest, lines_read), or None when the blob must go the
 * Python way whole (an id or source_ref repeated among the lines taken, a sum past 2^63).
 * fold(data, cut): only the usage lines on the days a window cuts (those naming such a day,
 * read in the lane's shape), each placed in or out of the window by its time (the rows' cut
 * field), for rows.cut_fold, which takes them only when they are exactly the records the
 * blob's fold counted on those days; ids, refs and the other lines are not read.
 */
#include "lane.h"

static int read_cut(PyObject *spec, Cut *cut) {
    /* (days: tuple of "YYYY-MM-DD", since: int | None, until: int | None), in microseconds */
    PyObject *days, *since, *until;
    memset(cut, 0, sizeof(*cut));
    if (spec == Py_None) return 0;
    if (!PyArg_ParseTuple(spec, "O!OO", &PyTuple_Type, &days, &since, &until)) return -1;
    if (PyTuple_GET_SIZE(days) > 64) {
        PyErr_SetString(PyExc_ValueError, "at most 64 cut days");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(days); i++) {
        Py_ssize_t n;
        const char *day = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(days, i), &n);
        if (day == NULL) return -1;
        if (n != 10) {
            PyErr_SetString(PyExc_ValueError, "a cut day is YYYY-MM-DD");
            return -1;
        }
        memcpy(cut->days[cut->count++], day, 10);
    }
    if (since != Py_None) {
        cut->has_since = 1;
        cut->since = PyLong_AsLongLong(since);
        if (cut->since == -1 && PyErr_Occurred()) return -1;
    }
    if (until != Py_None) {
        cut->has_until = 1;
        cut->until = PyLong_AsLongLong(until);
        if (cut->until == -1 && PyErr_Occurred()) return -1;
    }
    return 0;
}

static int names_cut_day(const Cut *cut, const char *p, const char *stop) {
    for (int i = 0; i < cut->count; i++)
        if (memmem(p, (size_t)(stop - p), cut->days[i], 10) != NULL) return 1;
    return 0;
}

static PyObject *fold(PyObject *module, PyObject *args) {
    PyObject *arg, *spec = Py_None;
    Cut cut;
    if (!PyArg_ParseTuple(args, "O|O", &arg, &spec) || read_cut(spec, &cut) < 0) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const char *data = view.buf, *end = data + view.len;
    PyObject *result = NULL, *rest = NULL, *rows = NULL, *ids = NULL, *refs = NULL;
    Keys fields, kinds, outcome_fields, snapshot_fields;
    KeySet id_set, ref_set, outcome_refs; /* the keys of the ids and refs of the lines taken */
    Ended ended;
    Lefts lefts = {NULL, 0, 0};
    Table table = {NULL, 0, 0, NULL};
    Strings strings = {NULL, NULL, NULL, 0, 0};
    Py_ssize_t lines_read = 0;
    Line line;
    usage_keys(&fields, &kinds);
    outcome_keys(&outcome_fields, &snapshot_fields);
    table.slots = kept_take(64 * sizeof(Slot), 1);
    table.mask = 63;
    strings.items = PyMem_RawCalloc(64, sizeof(PyObject *));
    strings.texts = PyMem_RawCalloc(64, sizeof(Span));
    strings.hashes = PyMem_RawCalloc(64, sizeof(uint64_t));
    strings.mask = 63;
    Py_ssize_t lines = cut.count ? 0 : view.len / 256; /* (bd-vpt's lines: 300 bytes and more) */
    int no_sets = keyset_init(&id_set, lines) | keyset_init(&ref_set, lines) |
                  keyset_init(&outcome_refs, 0);
    if (no_sets < 0 || table.slots == NULL ||
        strings.items == NULL || strings.texts == NULL || strings.hashes == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    rest = PyList_New(0);
    if (rest == NULL) goto done;
    /* Phase 1, without the GIL (other threads fold other blobs meanwhile): the usage lines
     * summed, every other non-blank line noted. The lines before the last newline (what
     * follows it is blank: the caller checks). */
    int status = 0; /* 1: the Python way (a repeat, a sum past 2^63); -1: no memory */
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t index = 0;
    for (const char *p = data; p < end; index++) {
        const char *stop = memchr(p, '\n', (size_t)(end - p));
        if (stop == NULL) break;
        if (cut.count) { /* only the usage on the days cut, placed (see fold's doc) */
            if (names_cut_day(&cut, p, stop) &&
                read_line(p, trim_end(p, stop), &line, &fields, &kinds) == 0 &&
                (line.cut = cut_of(&cut, &line.ts)) != 0 && (status = table_add(&table, &line)))
                break;
        } else if (!is_blank(p, stop)) {
            lines_read++;
            if (read_line(p, trim_end(p, stop), &line, &fields, &kinds) == 0) {
                line.cut = 0;
                uint64_t id = (uint64_t)line.id_key;
                int added = keyset_add(&id_set, id, line.id);
                uint64_t ref = 0;
                if (added == 0 && line.ref.n >= 0) {
                    ref = ref_key(0, line.ref);
                    added = keyset_add(&ref_set, ref, line.ref);
                }
                if (added == 0) added = table_add(&table, &line);
                if (added != 0) {
                    status = added;
                    break;
                }
            } else if (lefts_push(&lefts, index, p, stop) < 0) {
                status = -1;
                break;
            }
        }
        p = stop + 1;
    }
    Py_END_ALLOW_THREADS
    if (status < 0) {
        PyErr_NoMemory();
        goto done;
    }
    if (status > 0) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    /* Phase 2, with the GIL: the outcomes read, every other line handed on as bytes */
    for (Py_ssize_t i = 0; i < lefts.n; i++) {
        const Left *left = &lefts.items[i];
        const char *p = left->p, *stop = left->stop;
        PyObject *record = NULL, *item;
        if (memmem(p, (size_t)(stop - p), "\"kind\":\"outcome\"", 16) != NULL) {
            record = read_outcome(p, trim_end(p, stop), &ended, &strings, &outcome_fields,
                                  &snapshot_fields);
            if (record == NULL && PyErr_Occurred()) goto done;
        }
        if (record != NULL) { /* taken: its id and source_ref join the others */
            uint64_t ref = 0;
            int added = keyset_add(&id_set, (uint64_t)ended.id_key, ended.id);
            if (added == 0 && ended.ref.n >= 0) {
                ref = ref_key(1, ended.ref);
                added = keyset_add(&outcome_refs, ref, ended.ref);
            }
            if (added != 0) {
                Py_DECREF(record);
                if (added < 0) {
                    PyErr_NoMemory();
                    goto done;
                }
                result = Py_None;
                Py_INCREF(result);
                goto done;
            }
            item = Py_BuildValue("(nN)", left->index, record);
        } else {
            item = Py_BuildValue("(ny#)", left->index, p, (Py_ssize_t)(stop - p));
        }
        if (item == NULL) goto done;
        int bad = PyList_Append(rest, item);
        Py_DECREF(item);
        if (bad < 0) goto done;
    }
    /* the keys in the order of their lines: the usage lines', then the outcomes' */
    ids = PyBytes_FromStringAndSize((const char *)id_set.keys, id_set.n * 8);
    refs = PyBytes_FromStringAndSize(NULL, (ref_set.n + outcome_refs.n) * 8);
    if (ids == NULL || refs == NULL) goto done;
    if (ref_set.n) memcpy(PyBytes_AS_STRING(refs), ref_set.keys, (size_t)ref_set.n * 8);
    if (outcome_refs.n)
        memcpy(PyBytes_AS_STRING(refs) + ref_set.n * 8, outcome_refs.keys,
               (size_t)outcome_refs.n * 8);
    rows = row_dict(&table, &strings);
    if (rows == NULL) goto done;
    result = Py_BuildValue("(OOOOn)", rows, ids, refs, rest, lines_read);
done:
    Py_XDECREF(rows);
    Py_XDECREF(ids);
    Py_XDECREF(refs);
    Py_XDECREF(rest);
    keyset_free(&id_set);
    keyset_free(&ref_set);
    keyset_free(&outcome_refs);
    PyMem_RawFree(lefts.items);
    if (table.slots != NULL) kept_give(table.slots, (table.mask + 1) * sizeof(Slot));
    strings_free(&strings);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"fold", fold, METH_VARARGS,
     "fold(data, cut=None) -> (rows, id_keys, ref_keys, rest, lines_read) | None: a blob's "
     "usage lines "
     "in bd-vpt's own shape summed into rows; rest: the other non-blank lines in order, "
     "(index, bytes), or (index, dict) for an outcome in bd-vpt's own shape, read."},
    {"repeated", repeated, METH_VARARGS,
     "repeated(arrays, signed) -> (keys in more than one array, every key sorted as bytes): "
     "arrays of 8-byte keys (signed: int64, else uint64), each holding distinct keys."},
    {"repeats", repeats, METH_VARARGS,
     "repeats(arrays, signed) -> the keys in more than one place among the arrays (repeated's "
     "set, without sorting every key)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef lane_module = {
    PyModuleDef_HEAD_INIT, "_lane", "The compiled fast lane of a blob's fold (see fast.py).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__lane(void) {
    crc_init();
    text_init();
    if (outcome_init() < 0 || kept_init() < 0) return NULL;
    return PyModule_Create(&lane_module);
}
